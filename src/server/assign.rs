//! Handing jobs to workers: GRAB_JOB*, PRE_SLEEP, NOOP wake-ups, requeue and completion.

use super::core::Core;
use super::model::{Ability, ConnId, FuncId, Held, JobId};
use super::submit::unix_now;
use crate::protocol::Command;
use std::cmp::Reverse;
use std::time::{Duration, Instant};

impl Core {
    /// Takes the first runnable job of one priority list of `func`, reaping abandoned jobs met
    /// on the way. With `take == false` the job is left in place (PRE_SLEEP's check).
    fn runnable(&mut self, func: FuncId, prio: usize, take: bool, now: i64) -> Option<JobId> {
        let mut i = 0;
        loop {
            let f = self.funcs[func].as_mut()?;
            let &job_id = f.queues[prio].get(i)?;
            let Some(job) = self.jobs.get_mut(&job_id) else {
                f.queues[prio].remove(i);
                continue;
            };
            if job.ignore {
                f.queues[prio].remove(i);
                if job.when != 0 {
                    f.epoch_queued -= 1;
                }
                self.free_job(job_id);
                continue;
            }
            if job.when == 0 || job.when <= now {
                if take {
                    f.queues[prio].remove(i);
                    if job.when != 0 {
                        f.epoch_queued -= 1;
                        job.when = 0;
                    }
                }
                return Some(job_id);
            }
            // A future epoch job: skipped in place.
            i += 1;
        }
    }

    /// Finds (and with `take`, dequeues) a job for worker `id` in the configured order.
    /// Returns the job and the index of the ability it came through.
    fn search(&mut self, id: ConnId, take: bool) -> Option<(JobId, usize)> {
        let n = self.peers.get(id)?.abilities.len();
        let now = unix_now();
        // Indexes, not a copy of the list: this runs on every GRAB and PRE_SLEEP.
        let func_at = |core: &Core, i: usize| core.peers.get(id).map(|s| s.abilities[i].func);
        if self.rules.global_priority {
            for prio in 0..3 {
                for i in (0..n).rev() {
                    let func = func_at(self, i)?;
                    if let Some(j) = self.runnable(func, prio, take, now) {
                        return Some((j, i));
                    }
                }
            }
        } else {
            for i in (0..n).rev() {
                let func = func_at(self, i)?;
                for prio in 0..3 {
                    if let Some(j) = self.runnable(func, prio, take, now) {
                        return Some((j, i));
                    }
                }
            }
        }
        None
    }

    pub fn pre_sleep(&mut self, id: ConnId) {
        if self.search(id, false).is_some() {
            self.peers.send(id, Command::Noop, &[]);
        } else if let Some(s) = self.peers.get_mut(id) {
            s.sleeping = true;
            // As gearmand, going to sleep cancels the CAN_DO_TIMEOUT of the jobs it holds.
            for h in &s.assigned {
                if let Some(job) = self.jobs.get_mut(&h.job) {
                    job.assign_gen += 1;
                }
            }
        }
    }

    pub fn grab(&mut self, id: ConnId, cmd: Command) {
        let Some(s) = self.peers.get_mut(id) else {
            return;
        };
        s.sleeping = false;
        s.noop_sent = false;
        let Some((job_id, ability)) = self.search(id, true) else {
            self.peers.send(id, Command::NoJob, &[]);
            return;
        };
        let round_robin = self.rules.round_robin;
        let Some(s) = self.peers.get_mut(id) else {
            return;
        };
        let Ability {
            timeout_ms, reg, ..
        } = s.abilities[ability];
        if round_robin {
            // The ability served last goes to the end of the search order (searched newest first).
            let a = s.abilities.remove(ability);
            s.abilities.insert(0, a);
        }
        s.assigned.push(Held { job: job_id, reg });
        let Some(job) = self.jobs.get_mut(&job_id) else {
            return;
        };
        job.worker = Some(id);
        job.assign_gen += 1;
        let now = Instant::now();
        job.started_at = now;
        let waited = now.saturating_duration_since(job.queued_at);
        if timeout_ms > 0 {
            let deadline = now + Duration::from_millis(timeout_ms);
            self.timeouts
                .push(Reverse((deadline, job_id, job.assign_gen)));
        }
        let f = self.funcs[job.func]
            .as_mut()
            .expect("live job has a function");
        f.running += 1;
        f.stats.queue_wait.observe(waited);
        let (h, name, unique, data) = (&job.handle[..], &f.name[..], &job.unique[..], &job.data);
        // The payload goes out by reference: the worker's queue shares the job's slice.
        match (cmd, &job.reducer) {
            (Command::GrabJob, _) => {
                self.peers
                    .send_shared(id, Command::JobAssign, &[h, name], data.clone())
            }
            (Command::GrabJobAll, Some(r)) => self.peers.send_shared(
                id,
                Command::JobAssignAll,
                &[h, name, unique, r],
                data.clone(),
            ),
            _ => {
                self.peers
                    .send_shared(id, Command::JobAssignUniq, &[h, name, unique], data.clone())
            }
        }
        self.compact_timers();
    }

    /// Sends NOOP to sleeping workers of `func` that have not had one since their last grab:
    /// all of them, or `-w N` of them starting where the last round stopped.
    pub fn wake(&mut self, func: FuncId) {
        let limit = self.rules.worker_wakeup as usize;
        let Some(f) = self.funcs[func].as_mut() else {
            return;
        };
        let n = f.workers.len();
        if n == 0 {
            return;
        }
        let start = if limit > 0 { f.wake_cursor % n } else { 0 };
        let mut woken = 0;
        for k in 0..n {
            let i = (start + k) % n;
            let c = f.workers[i];
            let Some(s) = self.peers.get_mut(c) else {
                continue;
            };
            if s.sleeping && !s.noop_sent {
                s.noop_sent = true;
                self.peers.send(c, Command::Noop, &[]);
                woken += 1;
                if limit > 0 && woken >= limit {
                    f.wake_cursor = i + 1;
                    break;
                }
            }
        }
    }

    /// The worker lost the job (disconnect, CANT_DO, RESET_ABILITIES, timeout): back to the
    /// tail of its list, or dropped with WORK_FAIL once `-j` attempts are used up.
    /// The caller removes it from the worker's `assigned` list.
    pub fn requeue(&mut self, job_id: JobId) {
        let Some(job) = self.jobs.get_mut(&job_id).filter(|j| j.worker.is_some()) else {
            return;
        };
        job.worker = None;
        job.retries += 1;
        job.numerator = 0;
        job.denominator = 0;
        job.queued_at = Instant::now();
        let func = job.func;
        if let Some(f) = self.funcs[func].as_mut() {
            f.running -= 1;
        }
        let retries = self.rules.job_retries;
        if job.ignore {
            self.free_job(job_id);
            return;
        }
        if retries > 0 && job.retries >= retries {
            if let Some(f) = self.funcs[func].as_mut() {
                f.stats.retries_exhausted += 1;
            }
            for &c in job.clients.iter().rev() {
                self.peers.send(c, Command::WorkFail, &[&job.handle]);
            }
            self.free_job(job_id);
            return;
        }
        let prio = job.priority as usize;
        let f = self.func_mut(func);
        f.stats.requeued += 1;
        f.queues[prio].push_back(job_id);
        self.wake(func);
    }

    /// WORK_COMPLETE, WORK_FAIL or WORK_EXCEPTION (`outcome`) from the holder: the job is gone.
    pub fn finish(&mut self, worker: ConnId, job_id: JobId, outcome: Command) {
        if let Some(s) = self.peers.get_mut(worker) {
            // `remove`, not `swap_remove`: a lost worker's jobs are requeued newest first.
            if let Some(pos) = s.assigned.iter().position(|h| h.job == job_id) {
                s.assigned.remove(pos);
            }
        }
        if let Some(job) = self.jobs.get(&job_id) {
            if let Some(f) = self.funcs[job.func].as_mut() {
                f.running -= 1;
                let s = &mut f.stats;
                match outcome {
                    Command::WorkComplete => s.completed += 1,
                    Command::WorkException => s.exceptions += 1,
                    _ => s.failed += 1,
                }
                s.run_time
                    .observe(Instant::now().saturating_duration_since(job.started_at));
            }
        }
        self.free_job(job_id);
    }

    /// Drops timer entries of finished or reassigned jobs once they outnumber the live jobs,
    /// so long timeouts on a busy server do not pile up entries (they are otherwise dropped
    /// lazily when due).
    pub fn compact_timers(&mut self) {
        let bound = 2 * self.jobs.len() + 1024;
        if self.timeouts.len() > bound {
            let jobs = &self.jobs;
            self.timeouts.retain(|Reverse((_, id, gen))| {
                jobs.get(id)
                    .is_some_and(|j| j.worker.is_some() && j.assign_gen == *gen)
            });
        }
        if self.epochs.len() > bound {
            let jobs = &self.jobs;
            self.epochs
                .retain(|Reverse((_, id))| jobs.get(id).is_some_and(|j| j.when != 0));
        }
    }

    /// The earliest instant a timer needs attention.
    pub fn next_timer(&self) -> Option<Instant> {
        let timeout = self.timeouts.peek().map(|Reverse((t, _, _))| *t);
        let epoch = self.epochs.peek().map(|Reverse((when, _))| {
            let wait = (*when - unix_now()).max(0) as u64;
            // Epoch times have one-second resolution: look again just after the second turns.
            Instant::now() + Duration::from_secs(wait) + Duration::from_millis(5)
        });
        match (timeout, epoch) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Requeues jobs whose CAN_DO_TIMEOUT expired and wakes workers for epoch jobs now due.
    pub fn run_timers(&mut self, now: Instant) {
        while let Some(&Reverse((deadline, job_id, gen))) = self.timeouts.peek() {
            if deadline > now {
                break;
            }
            self.timeouts.pop();
            let Some(job) = self.jobs.get(&job_id) else {
                continue;
            };
            let (Some(worker), true) = (job.worker, job.assign_gen == gen) else {
                continue;
            };
            if let Some(s) = self.peers.get_mut(worker) {
                s.assigned.retain(|h| h.job != job_id);
            }
            if let Some(f) = self.funcs[job.func].as_mut() {
                f.stats.timeouts += 1;
            }
            self.requeue(job_id);
        }
        let unix = unix_now();
        while let Some(&Reverse((when, job_id))) = self.epochs.peek() {
            if when > unix {
                break;
            }
            self.epochs.pop();
            let Some(job) = self.jobs.get_mut(&job_id) else {
                continue;
            };
            if job.when == 0 || !job.is_queued() {
                continue;
            }
            job.when = 0;
            let func = job.func;
            self.func_mut(func).epoch_queued -= 1;
            self.wake(func);
        }
    }
}

/// The order in which gearmand gives back a lost worker's jobs: ability by ability in search
/// order (newest registration first, as rotated by `-R`), and under each the jobs taken through
/// it newest first; jobs whose registration is gone come last, newest first.
/// Returns indexes into `held`.
pub fn requeue_order(held: &[Held], abilities: &[Ability]) -> Vec<usize> {
    let mut order = Vec::with_capacity(held.len());
    let mut done = vec![false; held.len()];
    for a in abilities.iter().rev() {
        for (i, h) in held.iter().enumerate().rev() {
            if !done[i] && h.reg == a.reg {
                done[i] = true;
                order.push(i);
            }
        }
    }
    for i in (0..held.len()).rev() {
        if !done[i] {
            order.push(i);
        }
    }
    order
}
