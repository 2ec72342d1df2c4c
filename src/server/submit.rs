//! SUBMIT_*: validation, unique coalescing, maxqueue, job creation.

use super::core::{Core, Verdict};
use super::model::{ConnId, FuncId, Job, JobId, Priority, Stored, UniqueKey};
use super::wire::{self, Backing, Num};
use crate::protocol::{Command, Packet};
use bytes::Bytes;
use std::collections::hash_map::Entry;

/// Longest unique accepted; gearmand 1.1.20 accepts 64 bytes (and we store all of them).
pub const MAX_UNIQUE: usize = 64;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// What a new job is made of.
pub(super) struct NewJob<'a> {
    pub func: FuncId,
    pub unique: &'a [u8],
    pub data: Bytes,
    pub reducer: Option<&'a [u8]>,
    pub priority: Priority,
    pub background: bool,
    /// Unix time it may run from; 0 = now.
    pub when: i64,
}

/// How a unique coalesces: empty (or `-` with empty data) never, `-` by the data, else by itself.
pub(super) fn unique_key(unique: &[u8], data: &[u8]) -> UniqueKey {
    if unique.is_empty() || (unique == b"-" && data.is_empty()) {
        UniqueKey::None
    } else if unique == b"-" {
        UniqueKey::Data
    } else {
        UniqueKey::Unique
    }
}

struct Kind<'a> {
    priority: Priority,
    background: bool,
    reducer: Option<&'a [u8]>,
    when: i64,
}

impl Core {
    pub fn submit(&mut self, id: ConnId, p: &Packet<'_>, backing: Backing<'_>) -> Verdict {
        let (name, unique, data) = (p.arg(0), p.arg(1), p.data());
        let kind = match p.command {
            Command::SubmitJob => Kind::fg(Priority::Normal),
            Command::SubmitJobHigh => Kind::fg(Priority::High),
            Command::SubmitJobLow => Kind::fg(Priority::Low),
            Command::SubmitJobBg => Kind::bg(Priority::Normal),
            Command::SubmitJobHighBg => Kind::bg(Priority::High),
            Command::SubmitJobLowBg => Kind::bg(Priority::Low),
            Command::SubmitJobEpoch => match wire::strtoll(p.arg(2)) {
                Some(when) => Kind {
                    when,
                    ..Kind::bg(Priority::Normal)
                },
                // gearmand 1.1.20 logs this and answers nothing, leaving the client waiting;
                // we answer with an ERROR so the submission gets its one reply.
                None => {
                    self.peers
                        .error(id, "INVALID_ARGUMENT", "Epoch time out of range");
                    return Verdict::Keep;
                }
            },
            Command::SubmitReduceJob => Kind {
                reducer: Some(p.arg(2)),
                ..Kind::fg(Priority::Normal)
            },
            _ => Kind {
                reducer: Some(p.arg(2)),
                ..Kind::bg(Priority::Normal)
            },
        };
        if unique.len() > MAX_UNIQUE {
            self.peers
                .error(id, "ARGUMENT_TOO_LARGE", "Unique value too large");
            return Verdict::Keep;
        }
        let func = self.func_id(name);
        let key = unique_key(unique, data);
        let f = self.func_mut(func);
        let existing = match key {
            UniqueKey::None => None,
            UniqueKey::Unique => f.by_unique.get(unique).copied(),
            UniqueKey::Data => f.by_data.get(data).copied(),
        };
        if let Some(job_id) = existing {
            f.stats.coalesced += 1;
            // With a durable store the answer may have to wait for a commit (durable.rs).
            if !self.coalesce_durably(id, job_id, kind.background) {
                self.attach(id, job_id, kind.background);
            }
            return Verdict::Keep;
        }
        let limit = f.max_queue[kind.priority as usize];
        if limit > 0 && f.total as i64 >= limit {
            self.peers.error(id, "QUEUE_ERROR", "Job queue is full");
            return Verdict::Keep;
        }
        let now = unix_now();
        let job_id = self.new_job(NewJob {
            func,
            unique,
            data: backing.share(data),
            reducer: kind.reducer,
            priority: kind.priority,
            background: kind.background,
            when: if kind.when > now { kind.when } else { 0 },
        });
        self.func_mut(func).stats.submitted[kind.priority as usize] += 1;
        // A background job waits for its add to commit before it is queued and answered.
        if kind.background && self.hold_for_store(id, job_id) {
            return Verdict::Keep;
        }
        self.enqueue(job_id);
        self.attach(id, job_id, kind.background);
        Verdict::Keep
    }

    /// Creates a job (not queued yet): its handle, its place in the coalescing map (unless
    /// another job holds that key), the function's total.
    pub(super) fn new_job(&mut self, n: NewJob<'_>) -> JobId {
        let job_id = self.next_job;
        self.next_job += 1;
        let mut handle = Vec::with_capacity(self.prefix.len() + 12);
        handle.extend_from_slice(&self.prefix);
        handle.push(b':');
        handle.extend_from_slice(Num::new(job_id).bytes());
        let f = self.func_mut(n.func);
        let mut key = unique_key(n.unique, &n.data);
        let free = match key {
            UniqueKey::None => false,
            UniqueKey::Unique => !f.by_unique.contains_key(n.unique),
            UniqueKey::Data => !f.by_data.contains_key(&n.data[..]),
        };
        match key {
            UniqueKey::Unique if free => {
                f.by_unique.insert(n.unique.into(), job_id);
            }
            UniqueKey::Data if free => {
                // The key shares the job's data.
                f.by_data.insert(n.data.clone(), job_id);
            }
            _ => key = UniqueKey::None,
        }
        f.total += 1;
        let created = std::time::Instant::now();
        let job = Job {
            handle: handle.into(),
            func: n.func,
            unique: n.unique.into(),
            key,
            data: n.data,
            reducer: n.reducer.map(Into::into),
            priority: n.priority,
            background: n.background,
            persisted: n.background,
            clients: Vec::new(),
            worker: None,
            assign_gen: 0,
            retries: 0,
            ignore: false,
            numerator: 0,
            denominator: 0,
            when: n.when,
            queued_at: created,
            started_at: created,
            stored: Stored::No,
        };
        self.jobs.insert(job_id, job);
        job_id
    }

    /// Puts a new job at the tail of its priority list and wakes the function's sleepers
    /// (gearmand wakes them while creating the job, before answering the submitter).
    pub(super) fn enqueue(&mut self, job_id: JobId) {
        let Some(job) = self.jobs.get(&job_id) else {
            return;
        };
        let (func, prio, when) = (job.func, job.priority as usize, job.when);
        let f = self.func_mut(func);
        f.queues[prio].push_back(job_id);
        if when != 0 {
            f.epoch_queued += 1;
            self.epochs.push(std::cmp::Reverse((when, job_id)));
            self.compact_timers();
        } else {
            self.wake(func);
        }
    }

    /// Adds a submitter to a job and answers JOB_CREATED with the job's handle.
    pub(super) fn attach(&mut self, id: ConnId, job_id: JobId, background: bool) {
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return;
        };
        if background {
            job.background = true;
        } else {
            job.clients.push(id);
            if let Some(s) = self.peers.get_mut(id) {
                match s.attached.entry(job_id) {
                    Entry::Occupied(mut e) => *e.get_mut() += 1,
                    Entry::Vacant(e) => {
                        e.insert(1);
                    }
                }
            }
        }
        self.peers.send(id, Command::JobCreated, &[&job.handle]);
    }
}

impl Kind<'_> {
    fn fg(priority: Priority) -> Self {
        Kind {
            priority,
            background: false,
            reducer: None,
            when: 0,
        }
    }
    fn bg(priority: Priority) -> Self {
        Kind {
            priority,
            background: true,
            reducer: None,
            when: 0,
        }
    }
}
