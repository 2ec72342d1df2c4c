//! The core's side of a durable store (`-q libsqlite3`, `-q wal`): which adds and dones go
//! into the next batch, who waits for which commit, and what a commit's outcome does. The
//! core never touches the store itself: the event loop hands [`Core::take_batch`] to the
//! store thread and feeds the outcome back through [`Core::batch_done`].
//!
//! The rules, for a background submission that creates a job:
//! - the job exists at once (its unique coalesces later submissions, `status` counts it) but
//!   is not queued, so no worker can run a job whose add may still fail;
//! - its submitter, and everyone who coalesces onto it meanwhile, is answered when the commit
//!   returns: JOB_CREATED and the job is queued, or `ERROR QUEUE_ERROR` and the job is gone;
//! - a submitter that disconnects meanwhile changes nothing: the job is stored and runs (a
//!   background job does not depend on its client, and the commit may already be on disk);
//! - `cancel job` meanwhile: the submitters are answered, then the job is removed again;
//! - whatever the server sends the submitter's connection after that submission (answers to
//!   its later requests, results of its foreground jobs) is held behind the answer, so the
//!   connection sees its answers in the order it asked: libgearman pairs JOB_CREATED with its
//!   submissions by order.
//!
//! A background submission that coalesces onto a foreground job that is not stored makes
//! that job durable (gearmand 1.1.20 stores nothing then, so an acknowledged job could be
//! lost): the job keeps running or waiting as before; only the new submitter waits for the
//! commit.

use super::core::Core;
use super::model::{ConnId, IdMap, Job, JobId, Priority, Stored};
use super::submit::{unix_now, NewJob};
use crate::protocol::Command;
use crate::server::log;
use crate::server::store::{Op, QueueConfig, Replayed, Seq, StoreError, StoredJob};

/// A submitter waiting for a commit. Connection ids are reused, so the session number
/// identifies the connection that asked; its later output waits behind `gate`.
#[derive(Debug, Clone, Copy)]
struct Waiter {
    conn: ConnId,
    session: u64,
    gate: u64,
    background: bool,
}

#[derive(Debug)]
struct Waiting {
    seq: Seq,
    handle: Box<[u8]>,
    waiters: Vec<Waiter>,
    /// The job was already queued or running (a foreground job made durable): only its new
    /// background owners wait.
    upgrade: bool,
}

/// The adds and dones handed to the store thread and not answered yet.
#[derive(Debug, Default)]
struct InFlight {
    adds: Vec<JobId>,
    dones: Vec<Seq>,
}

#[derive(Debug)]
pub struct Durable {
    next_seq: Seq,
    /// `--store-queue-on-shutdown`: nothing is written while running.
    on_shutdown: bool,
    /// Operations of the rounds since the last hand-over, in order.
    batch: Vec<Op>,
    batch_adds: Vec<JobId>,
    in_flight: Option<InFlight>,
    waiting: IdMap<Waiting>,
}

impl Durable {
    pub fn for_config(queue: &QueueConfig) -> Option<Durable> {
        queue.is_durable().then(|| Durable {
            next_seq: 1,
            on_shutdown: queue.on_shutdown,
            batch: Vec::new(),
            batch_adds: Vec::new(),
            in_flight: None,
            waiting: IdMap::default(),
        })
    }

    /// Queues the removal of a committed job.
    pub fn done(&mut self, seq: Seq) {
        if !self.on_shutdown {
            self.batch.push(Op::Done(seq));
        }
    }
}

fn priority_of(p: u8) -> Priority {
    match p {
        0 => Priority::High,
        2 => Priority::Low,
        _ => Priority::Normal,
    }
}

impl Core {
    /// Queues the removal of a job that ends (complete, fail, exception, dropped by `-j`).
    pub(super) fn store_done(&mut self, job: &Job) {
        if let (Stored::Yes(seq), Some(d)) = (job.stored, self.durable.as_mut()) {
            d.done(seq);
        }
    }

    fn record_of(&self, job: &Job, seq: Seq) -> StoredJob {
        StoredJob {
            seq,
            function: self.func(job.func).name.to_vec(),
            unique: job.unique.to_vec(),
            priority: job.priority as u8,
            when: job.when,
            reducer: job.reducer.as_ref().map(|r| r.to_vec()),
            data: job.data.clone(),
        }
    }

    /// The submission of `conn` being handled waits for a commit.
    fn waiter(&mut self, conn: ConnId, background: bool) -> Waiter {
        Waiter {
            conn,
            session: self.peers.get(conn).map_or(0, |s| s.seq),
            gate: self.peers.add_gate(conn),
            background,
        }
    }

    /// Writes the answer of a waiting submission (if its connection is still there) and
    /// releases what was held behind it.
    fn answer(&mut self, w: &Waiter, write: impl FnOnce(&mut Core)) {
        if self.peers.get(w.conn).is_some_and(|s| s.seq == w.session) {
            self.peers.begin_answer(w.conn, w.gate);
            write(self);
            self.peers.end_answer(w.conn, w.gate);
        }
    }

    /// Puts the job's add into the next batch and registers `conn` as waiting for it.
    fn hold(&mut self, job_id: JobId, conn: ConnId, background: bool, upgrade: bool) -> bool {
        let Some(job) = self.jobs.get(&job_id) else {
            return false;
        };
        let Some(seq) = self.durable.as_mut().map(|d| {
            d.next_seq += 1;
            d.next_seq - 1
        }) else {
            return false;
        };
        let record = self.record_of(job, seq);
        let handle = job.handle.clone();
        if let Some(job) = self.jobs.get_mut(&job_id) {
            job.stored = Stored::Pending(seq);
            // `show jobs` says "persisted" once the commit returned.
            job.persisted &= upgrade;
        }
        let waiter = self.waiter(conn, background);
        let Some(d) = self.durable.as_mut() else {
            return false;
        };
        d.batch.push(Op::Add(record));
        d.batch_adds.push(job_id);
        d.waiting.insert(
            job_id,
            Waiting {
                seq,
                handle,
                waiters: vec![waiter],
                upgrade,
            },
        );
        true
    }

    /// A background submission created `job_id`: with a durable store its add goes into the
    /// next batch and the answer waits for the commit (true). False: answer now.
    pub(super) fn hold_for_store(&mut self, id: ConnId, job_id: JobId) -> bool {
        if self.durable.as_ref().is_none_or(|d| d.on_shutdown) {
            return false;
        }
        self.hold(job_id, id, true, false)
    }

    /// A submission coalesces onto `job_id`. True when its answer waits for a commit: the job's
    /// add is pending, or a background submission makes a foreground job durable.
    pub(super) fn coalesce_durably(&mut self, id: ConnId, job_id: JobId, background: bool) -> bool {
        if self.durable.as_ref().is_none_or(|d| d.on_shutdown) {
            return false;
        }
        let Some(job) = self.jobs.get(&job_id) else {
            return false;
        };
        match job.stored {
            Stored::Pending(_) => {
                let upgrade = match self.durable.as_ref().and_then(|d| d.waiting.get(&job_id)) {
                    Some(waiting) => waiting.upgrade,
                    None => return false,
                };
                if upgrade && !background {
                    return false; // the job exists already: a foreground client attaches now
                }
                let w = self.waiter(id, background);
                if let Some(waiting) = self
                    .durable
                    .as_mut()
                    .and_then(|d| d.waiting.get_mut(&job_id))
                {
                    waiting.waiters.push(w);
                }
                true
            }
            Stored::No if background && !job.background => {
                // Owned by a background submitter from now on (a foreground client leaving
                // does not abandon it); undone if the add fails.
                if let Some(job) = self.jobs.get_mut(&job_id) {
                    job.background = true;
                }
                self.hold(job_id, id, true, true)
            }
            _ => false,
        }
    }

    /// The operations collected since the last hand-over, unless a batch is still being
    /// committed (the next one grows meanwhile: group commit).
    pub fn take_batch(&mut self) -> Option<Vec<Op>> {
        let d = self.durable.as_mut()?;
        if d.in_flight.is_some() || d.batch.is_empty() {
            return None;
        }
        let ops = std::mem::take(&mut d.batch);
        let dones = ops
            .iter()
            .filter_map(|op| match op {
                Op::Done(seq) => Some(*seq),
                Op::Add(_) => None,
            })
            .collect();
        d.in_flight = Some(InFlight {
            adds: std::mem::take(&mut d.batch_adds),
            dones,
        });
        Some(ops)
    }

    /// The outcome of the batch [`Core::take_batch`] handed out: answers its submitters.
    pub fn batch_done(&mut self, result: Result<(), StoreError>) {
        let Some(flight) = self.durable.as_mut().and_then(|d| d.in_flight.take()) else {
            return;
        };
        let ok = result.is_ok();
        if let Err(e) = &result {
            log::error(format_args!(
                "durable queue: a batch of {} adds and {} dones failed: {e}",
                flight.adds.len(),
                flight.dones.len()
            ));
            // The jobs that ended are still stored: try their removal again with the next batch.
            if let Some(d) = self.durable.as_mut() {
                let retry: Vec<Op> = flight.dones.iter().map(|&s| Op::Done(s)).collect();
                d.batch.splice(0..0, retry);
            }
        }
        for job_id in flight.adds {
            let Some(w) = self
                .durable
                .as_mut()
                .and_then(|d| d.waiting.remove(&job_id))
            else {
                continue;
            };
            if ok {
                self.add_committed(job_id, w);
            } else {
                self.add_failed(job_id, w);
            }
        }
    }

    fn add_committed(&mut self, job_id: JobId, w: Waiting) {
        let current = self.jobs.get(&job_id).map(|j| (j.stored, j.ignore));
        if current.map(|(s, _)| s) != Some(Stored::Pending(w.seq)) {
            // The job ended while its add was being committed (a foreground job made durable
            // that finished meanwhile): acknowledge, then remove the record again.
            if let Some(d) = self.durable.as_mut() {
                d.done(w.seq);
            }
            for x in &w.waiters {
                self.answer(x, |core| {
                    core.peers.send(x.conn, Command::JobCreated, &[&w.handle]);
                });
            }
            return;
        }
        if let Some(job) = self.jobs.get_mut(&job_id) {
            job.stored = Stored::Yes(w.seq);
            job.persisted = true;
            job.background = true;
        }
        let cancelled = current.is_some_and(|(_, ignore)| ignore);
        if !w.upgrade && !cancelled {
            self.enqueue(job_id);
        }
        for x in &w.waiters {
            self.answer(x, |core| {
                if x.background {
                    core.peers.send(x.conn, Command::JobCreated, &[&w.handle]);
                } else {
                    core.attach(x.conn, job_id, false);
                    if cancelled {
                        core.peers.send(x.conn, Command::WorkFail, &[&w.handle]);
                    }
                }
            });
        }
        if cancelled {
            // `cancel job` while the add was pending: the record goes again, the job too.
            if let Some(job) = self.jobs.get_mut(&job_id) {
                job.stored = Stored::No;
            }
            if let Some(d) = self.durable.as_mut() {
                d.done(w.seq);
            }
            if !w.upgrade {
                self.free_job(job_id);
            }
        }
    }

    fn add_failed(&mut self, job_id: JobId, w: Waiting) {
        for x in &w.waiters {
            self.answer(x, |core| {
                core.peers.error(
                    x.conn,
                    "QUEUE_ERROR",
                    "The job could not be stored in the persistent queue",
                );
            });
        }
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return;
        };
        if job.stored != Stored::Pending(w.seq) {
            return;
        }
        job.stored = Stored::No;
        if !w.upgrade {
            // Never queued: nothing of the submission stays behind.
            self.free_job(job_id);
        } else {
            // Back to the foreground job it was; without clients left it is abandoned.
            job.background = false;
            if job.clients.is_empty() {
                self.abandon(job_id);
            }
        }
    }

    /// Jobs read from the store at start, queued in store order with fresh handles.
    pub fn replay(&mut self, replayed: Replayed) {
        let on_shutdown = self.durable.as_ref().is_some_and(|d| d.on_shutdown);
        if let Some(d) = self.durable.as_mut() {
            d.next_seq = d.next_seq.max(replayed.next_seq);
        }
        let now = unix_now();
        for r in replayed.jobs {
            let func = self.func_id(&r.function);
            let job_id = self.new_job(NewJob {
                func,
                unique: &r.unique,
                data: r.data.clone(),
                reducer: r.reducer.as_deref(),
                priority: priority_of(r.priority),
                background: true,
                when: if r.when > now { r.when } else { 0 },
            });
            if !on_shutdown {
                if let Some(job) = self.jobs.get_mut(&job_id) {
                    job.stored = Stored::Yes(r.seq);
                }
            }
            self.enqueue(job_id);
        }
    }

    /// The background jobs still queued or running, for `--store-queue-on-shutdown`.
    pub fn shutdown_snapshot(&self) -> Vec<StoredJob> {
        let mut ids: Vec<JobId> = self
            .jobs
            .iter()
            .filter(|(_, j)| j.background && !j.ignore)
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.iter()
            .enumerate()
            .map(|(i, id)| self.record_of(&self.jobs[id], i as Seq + 1))
            .collect()
    }
}
