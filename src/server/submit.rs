//! SUBMIT_*: validation, unique coalescing, maxqueue, job creation.

use super::core::{Core, Verdict};
use super::model::{ConnId, Job, JobId, Priority, UniqueKey};
use super::wire::{self, Backing, Num};
use crate::protocol::{Command, Packet};
use std::collections::hash_map::Entry;

/// Longest unique accepted; gearmand 1.1.20 accepts 64 bytes (and we store all of them).
pub const MAX_UNIQUE: usize = 64;

pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
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
        let key = if unique.is_empty() || (unique == b"-" && data.is_empty()) {
            UniqueKey::None
        } else if unique == b"-" {
            UniqueKey::Data
        } else {
            UniqueKey::Unique
        };
        let f = self.func_mut(func);
        let existing = match key {
            UniqueKey::None => None,
            UniqueKey::Unique => f.by_unique.get(unique).copied(),
            UniqueKey::Data => f.by_data.get(data).copied(),
        };
        if let Some(job_id) = existing {
            self.attach(id, job_id, kind.background);
            return Verdict::Keep;
        }
        let limit = f.max_queue[kind.priority as usize];
        if limit > 0 && f.total as i64 >= limit {
            self.peers.error(id, "QUEUE_ERROR", "Job queue is full");
            return Verdict::Keep;
        }
        let job_id = self.next_job;
        self.next_job += 1;
        let mut handle = Vec::with_capacity(self.prefix.len() + 12);
        handle.extend_from_slice(&self.prefix);
        handle.push(b':');
        handle.extend_from_slice(Num::new(job_id).bytes());
        let now = unix_now();
        let when = if kind.when > now { kind.when } else { 0 };
        let data = backing.share(data);
        let job = Job {
            handle: handle.into(),
            func,
            unique: unique.into(),
            key,
            data: data.clone(),
            reducer: kind.reducer.map(Into::into),
            priority: kind.priority,
            background: kind.background,
            persisted: kind.background,
            clients: Vec::new(),
            worker: None,
            assign_gen: 0,
            retries: 0,
            ignore: false,
            numerator: 0,
            denominator: 0,
            when,
        };
        let f = self.func_mut(func);
        match key {
            UniqueKey::None => {}
            UniqueKey::Unique => {
                f.by_unique.insert(unique.into(), job_id);
            }
            UniqueKey::Data => {
                f.by_data.insert(data, job_id);
            }
        }
        f.total += 1;
        f.queues[kind.priority as usize].push_back(job_id);
        if when != 0 {
            f.epoch_queued += 1;
            self.epochs.push(std::cmp::Reverse((when, job_id)));
        }
        self.jobs.insert(job_id, job);
        // gearmand wakes the sleepers while creating the job, before answering the submitter.
        if when == 0 {
            self.wake(func);
        }
        if when != 0 {
            self.compact_timers();
        }
        self.attach(id, job_id, kind.background);
        Verdict::Keep
    }

    /// Adds a submitter to a job and answers JOB_CREATED with the job's handle.
    fn attach(&mut self, id: ConnId, job_id: JobId, background: bool) {
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
