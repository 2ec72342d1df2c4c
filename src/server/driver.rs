//! The server core driven without sockets: bytes in, bytes out, for fuzzing and for tests that
//! want many interleaved sessions in one thread.
//!
//! [`CoreDriver`] frames each connection's input with the event loop's own step (the same decoder,
//! limits and fatal-error replies) and hands the frames to the same core. What it leaves out
//! is socket I/O: output is collected instead of written, so the event loop's back-pressure
//! (pausing a connection whose output backlog is full) never applies.
//!
//! ```
//! use gearman::server::{Config, CoreDriver};
//!
//! let mut server = CoreDriver::new(&Config::default());
//! let admin = server.connect();
//! assert!(server.feed(admin, b"version\n"));
//! assert_eq!(server.take_output(admin), b"OK 1.1.20+ds\n");
//! server.check().unwrap();
//! ```

use super::config::Config;
use super::core::{Core, Verdict};
use super::framing::{self, Step};
use super::model::{ConnId, JobId};
use super::wire::Backing;
use crate::protocol::Limits;
use std::collections::HashMap;
use std::time::Instant;

/// A job server core with in-memory connections.
pub struct CoreDriver {
    core: Core,
    limits: Limits,
    /// Unprocessed input per connection id; `None` once the connection is closed.
    inputs: Vec<Option<Vec<u8>>>,
    /// Output of connections the server closed, kept until taken.
    closed_output: HashMap<ConnId, Vec<u8>>,
}

impl CoreDriver {
    /// A core configured as `gearmand` would be with `config` (its listen addresses are unused).
    pub fn new(config: &Config) -> CoreDriver {
        CoreDriver {
            core: Core::new(config),
            limits: Limits {
                max_payload: config.max_packet_size,
                ..Limits::default()
            },
            inputs: Vec::new(),
            closed_output: HashMap::new(),
        }
    }

    /// Opens a connection and returns its id (ids of closed connections are reused).
    pub fn connect(&mut self) -> usize {
        let id = self.core.connect(-1, "127.0.0.1".to_string());
        if self.inputs.len() <= id {
            self.inputs.resize_with(id + 1, || None);
        }
        self.inputs[id] = Some(Vec::new());
        self.closed_output.remove(&id);
        id
    }

    /// Whether connection `id` is open.
    pub fn is_open(&self, id: usize) -> bool {
        self.inputs.get(id).is_some_and(|i| i.is_some())
    }

    /// Appends bytes to the connection's input and processes every complete frame.
    /// Returns false if the connection is (now) closed, as the event loop would close it.
    pub fn feed(&mut self, id: usize, bytes: &[u8]) -> bool {
        let Some(Some(input)) = self.inputs.get_mut(id) else {
            return false;
        };
        input.extend_from_slice(bytes);
        let mut input = std::mem::take(input);
        let mut start = 0;
        let open = loop {
            match self.step(id, &input[start..]) {
                DriverStep::Used(n) => start += n,
                DriverStep::NeedMore => break true,
                DriverStep::Close => break false,
            }
        };
        if open {
            input.drain(..start);
            self.inputs[id] = Some(input);
        } else {
            self.close(id);
        }
        open
    }

    /// Handles the frame at the front of `buf`, as the event loop's `process` does.
    fn step(&mut self, id: ConnId, buf: &[u8]) -> DriverStep {
        if buf.is_empty() {
            return DriverStep::NeedMore;
        }
        match framing::handle_front(&mut self.core, id, buf, Backing::BORROWED, &self.limits) {
            Step::Handled {
                used,
                verdict: Verdict::Keep,
            } => DriverStep::Used(used),
            Step::Handled {
                verdict: Verdict::Close,
                ..
            }
            | Step::Fatal { .. } => DriverStep::Close,
            Step::NeedMore => DriverStep::NeedMore,
        }
    }

    /// Takes everything the server has written to connection `id` so far.
    pub fn take_output(&mut self, id: usize) -> Vec<u8> {
        if let Some(out) = self.closed_output.remove(&id) {
            return out;
        }
        match self.core.peers.get_mut(id) {
            Some(s) => s.out.take_vec(),
            None => Vec::new(),
        }
    }

    /// The peer closes connection `id` (its unread output is dropped).
    pub fn disconnect(&mut self, id: usize) {
        if self.is_open(id) {
            self.close(id);
            self.closed_output.remove(&id);
        }
    }

    fn close(&mut self, id: ConnId) {
        if let Some(s) = self.core.disconnect(id) {
            self.closed_output.insert(id, s.out.to_vec());
        }
        self.core.peers.release(id);
        self.inputs[id] = None;
    }

    /// Runs the CAN_DO_TIMEOUT and epoch timers as if the clock read `now`.
    pub fn run_timers(&mut self, now: Instant) {
        self.core.run_timers(now);
    }

    /// Jobs queued or running.
    pub fn job_count(&self) -> usize {
        self.core.job_count()
    }

    /// Checks that the core's tables agree with each other: per-function counters with the
    /// jobs, queues with the jobs' states, workers' held jobs with the jobs' holders, clients'
    /// attachments with the jobs' client lists. Returns the first disagreement found.
    pub fn check(&self) -> Result<(), String> {
        let core = &self.core;
        let mut queued: HashMap<JobId, usize> = HashMap::new();
        for (f, func) in core.funcs.iter().enumerate() {
            let Some(func) = func else { continue };
            let name = String::from_utf8_lossy(&func.name);
            let total = core.jobs.values().filter(|j| j.func == f).count();
            if func.total != total {
                return Err(format!("{name}: total {} but {total} jobs", func.total));
            }
            let running = core
                .jobs
                .values()
                .filter(|j| j.func == f && j.worker.is_some())
                .count();
            if func.running != running {
                return Err(format!("{name}: running {} but {running}", func.running));
            }
            let abilities: usize = core
                .peers
                .iter()
                .map(|(_, s)| s.abilities.iter().filter(|a| a.func == f).count())
                .sum();
            if func.workers.len() != abilities {
                return Err(format!(
                    "{name}: {} workers but {abilities} abilities",
                    func.workers.len()
                ));
            }
            let mut epoch = 0;
            for (p, q) in func.queues.iter().enumerate() {
                for &id in q {
                    *queued.entry(id).or_default() += 1;
                    let Some(j) = core.jobs.get(&id) else {
                        return Err(format!("{name}: queue {p} names freed job {id}"));
                    };
                    if j.func != f || j.priority as usize != p || j.worker.is_some() {
                        return Err(format!("{name}: queue {p} holds misfiled job {id}"));
                    }
                    epoch += usize::from(j.when != 0);
                }
            }
            if func.epoch_queued != epoch {
                return Err(format!(
                    "{name}: epoch_queued {} but {epoch}",
                    func.epoch_queued
                ));
            }
            for (key, &id) in func.by_unique.iter() {
                if core.jobs.get(&id).map(|j| (j.func, &*j.unique)) != Some((f, &**key)) {
                    return Err(format!("{name}: unique map names job {id} wrongly"));
                }
            }
        }
        for (&id, job) in core.jobs.iter() {
            let in_queues = queued.get(&id).copied().unwrap_or(0);
            match job.worker {
                None if in_queues != 1 => {
                    return Err(format!("queued job {id} is in {in_queues} queues"));
                }
                Some(w) => {
                    if in_queues != 0 {
                        return Err(format!("running job {id} is also queued"));
                    }
                    let held = core
                        .peers
                        .get(w)
                        .is_some_and(|s| s.assigned.iter().any(|h| h.job == id));
                    if !held {
                        return Err(format!("job {id} is not held by its worker {w}"));
                    }
                }
                None => {}
            }
            for &c in &job.clients {
                if !core
                    .peers
                    .get(c)
                    .is_some_and(|s| s.attached.contains_key(&id))
                {
                    return Err(format!("job {id} lists client {c}, not attached"));
                }
            }
        }
        for (c, s) in core.peers.iter() {
            for h in &s.assigned {
                if core.jobs.get(&h.job).and_then(|j| j.worker) != Some(c) {
                    return Err(format!(
                        "connection {c} holds job {} it does not run",
                        h.job
                    ));
                }
            }
            for (&id, &n) in s.attached.iter() {
                let listed = core
                    .jobs
                    .get(&id)
                    .map_or(0, |j| j.clients.iter().filter(|&&x| x == c).count());
                if listed != n as usize {
                    return Err(format!(
                        "connection {c} attached {n} times to job {id}, listed {listed}"
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What [`CoreDriver::feed`] does next with a connection's input.
enum DriverStep {
    Used(usize),
    NeedMore,
    Close,
}
