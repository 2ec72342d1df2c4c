//! The job server's state machine, free of sockets: the event loop feeds it frames and flushes
//! what it queues in each session's output buffer.

use super::config::Config;
use super::durable::Durable;
use super::model::{ConnId, FuncId, Function, Gate, IdMap, Job, JobId, Session, Stored, UniqueKey};
use super::wire;
use crate::net::OutQueue;
use crate::protocol::Command;
use bytes::Bytes;
use std::cmp::Reverse;
use std::collections::hash_map::Entry;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

/// What the event loop does with a connection after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Close without a further reply (gearmand's fatal protocol errors).
    Close,
}

/// Connected sessions and the list of those with output to flush.
#[derive(Debug, Default)]
pub struct Peers {
    pub slots: Vec<Option<Session>>,
    free: Vec<ConnId>,
    pub dirty: Vec<ConnId>,
    /// ERROR packets sent, by code (for the metrics).
    pub errors_sent: super::metrics::ErrorCounts,
    next_gate: u64,
}

impl Peers {
    pub fn get(&self, id: ConnId) -> Option<&Session> {
        self.slots.get(id).and_then(|s| s.as_ref())
    }

    pub fn get_mut(&mut self, id: ConnId) -> Option<&mut Session> {
        self.slots.get_mut(id).and_then(|s| s.as_mut())
    }

    /// Queues output to `id` (ignored if it is gone): into its output, or behind the answer
    /// of a submission that waits for a commit (see [`Session::gates`]).
    fn queue(&mut self, id: ConnId, write: impl FnOnce(&mut OutQueue)) {
        let Some(s) = self.slots.get_mut(id).and_then(|s| s.as_mut()) else {
            return;
        };
        if let Some(token) = s.answering {
            if let Some(g) = s.gates.iter_mut().find(|g| g.token == token) {
                write(g.answer.get_or_insert_with(OutQueue::new));
                return;
            }
        }
        match s.gates.back_mut() {
            Some(g) => write(&mut g.after),
            None => {
                write(&mut s.out);
                if !s.dirty {
                    s.dirty = true;
                    self.dirty.push(id);
                }
            }
        }
    }

    /// Queues one response packet to `id` (ignored if it is gone).
    pub fn send(&mut self, id: ConnId, command: Command, args: &[&[u8]]) {
        self.queue(id, |out| wire::put(out, command, args));
    }

    /// Queues one response packet that carries a data blob to `id`: the fields are copied, a
    /// large `data` is queued by reference (see [`wire::put_shared`]).
    pub fn send_shared(&mut self, id: ConnId, command: Command, fields: &[&[u8]], data: Bytes) {
        self.queue(id, |out| wire::put_shared(out, command, fields, data));
    }

    /// Queues raw text (admin replies) to `id`.
    pub fn send_text(&mut self, id: ConnId, text: &[u8]) {
        self.queue(id, |out| out.extend_from_slice(text));
    }

    /// A submission of `id` waits for a commit: later output to `id` is held behind its
    /// answer. Returns the gate's token.
    pub fn add_gate(&mut self, id: ConnId) -> u64 {
        self.next_gate += 1;
        let token = self.next_gate;
        if let Some(s) = self.get_mut(id) {
            s.gates.push_back(Gate {
                token,
                ..Gate::default()
            });
        }
        token
    }

    /// What is sent to `id` until [`Peers::end_answer`] is the answer of gate `token`.
    pub fn begin_answer(&mut self, id: ConnId, token: u64) {
        if let Some(s) = self.get_mut(id) {
            s.answering = Some(token);
        }
    }

    /// The answer of gate `token` is complete: answers at the front are released in order,
    /// each followed by what was held behind it.
    pub fn end_answer(&mut self, id: ConnId, token: u64) {
        let Some(s) = self.slots.get_mut(id).and_then(|s| s.as_mut()) else {
            return;
        };
        s.answering = None;
        if let Some(g) = s.gates.iter_mut().find(|g| g.token == token) {
            g.answer.get_or_insert_with(OutQueue::new);
        }
        let mut released = false;
        while s.gates.front().is_some_and(|g| g.answer.is_some()) {
            let Some(g) = s.gates.pop_front() else { break };
            for mut part in [g.answer.unwrap_or_default(), g.after] {
                s.out.append(&mut part);
            }
            released = true;
        }
        if released && !s.dirty {
            s.dirty = true;
            self.dirty.push(id);
        }
    }

    pub fn error(&mut self, id: ConnId, code: &'static str, text: &str) {
        self.errors_sent.add(code);
        self.send(id, Command::Error, &[code.as_bytes(), text.as_bytes()]);
    }

    fn insert(&mut self, session: Session) -> ConnId {
        match self.free.pop() {
            Some(id) => {
                self.slots[id] = Some(session);
                id
            }
            None => {
                self.slots.push(Some(session));
                self.slots.len() - 1
            }
        }
    }

    /// Takes the session out; its id stays reserved until [`Peers::release`], because the
    /// socket may still be flushing its last output under that id (the mio token).
    fn remove(&mut self, id: ConnId) -> Option<Session> {
        self.slots.get_mut(id)?.take()
    }

    /// Makes a removed session's id available to new connections. Called once per id.
    pub fn release(&mut self, id: ConnId) {
        if self.slots.get(id).is_some_and(|s| s.is_none()) {
            self.free.push(id);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (ConnId, &Session)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
    }
}

/// Behaviour switches taken from [`Config`].
#[derive(Debug, Clone)]
pub struct Rules {
    pub job_retries: u32,
    pub worker_wakeup: u32,
    pub round_robin: bool,
    pub global_priority: bool,
    pub exceptions: bool,
    pub verbose: &'static str,
}

pub struct Core {
    pub rules: Rules,
    /// Handle prefix without the `:` before the number.
    pub prefix: Box<[u8]>,
    pub peers: Peers,
    pub jobs: IdMap<Job>,
    pub funcs: Vec<Option<Function>>,
    pub func_ids: HashMap<Box<[u8]>, FuncId>,
    pub next_job: JobId,
    next_seq: u64,
    /// CAN_DO_TIMEOUT deadlines: (deadline, job, assignment generation).
    pub timeouts: BinaryHeap<Reverse<(Instant, JobId, u64)>>,
    /// Epoch jobs not due yet: (unix seconds, job).
    pub epochs: BinaryHeap<Reverse<(i64, JobId)>>,
    pub pid: u32,
    /// A job with a large payload was freed (the event loop then gives memory back soon).
    pub released_large: bool,
    /// The durable store's side of the core (`None` with the in-memory queue).
    pub durable: Option<Durable>,
}

impl Core {
    pub fn new(config: &Config) -> Core {
        Core {
            rules: Rules {
                job_retries: config.job_retries,
                worker_wakeup: config.worker_wakeup,
                round_robin: config.round_robin,
                global_priority: config.global_priority,
                exceptions: config.exceptions,
                verbose: config.verbose.name(),
            },
            prefix: config.job_handle_prefix.as_bytes().into(),
            peers: Peers::default(),
            jobs: IdMap::default(),
            funcs: Vec::new(),
            func_ids: HashMap::new(),
            next_job: 1,
            next_seq: 0,
            timeouts: BinaryHeap::new(),
            epochs: BinaryHeap::new(),
            pid: std::process::id(),
            released_large: false,
            durable: Durable::for_config(&config.queue),
        }
    }

    /// A new connection; the returned id is its token in the event loop.
    pub fn connect(&mut self, fd: i32, ip: String) -> ConnId {
        self.next_seq += 1;
        let session = Session::new(fd, ip, self.next_seq, self.rules.exceptions);
        self.peers.insert(session)
    }

    /// Takes the list of sessions with pending output, clearing their dirty marks.
    pub fn take_dirty(&mut self, into: &mut Vec<ConnId>) {
        std::mem::swap(into, &mut self.peers.dirty);
        for &id in into.iter() {
            if let Some(s) = self.peers.get_mut(id) {
                s.dirty = false;
            }
        }
    }

    /// Gives back table memory after a burst (called from the idle sweep): tables that are
    /// mostly empty shrink to twice their contents.
    pub fn shrink(&mut self) {
        const KEEP: usize = 1024;
        fn worth(len: usize, cap: usize) -> bool {
            cap > KEEP && len * 4 < cap
        }
        if worth(self.jobs.len(), self.jobs.capacity()) {
            self.jobs.shrink_to(self.jobs.len() * 2);
        }
        for f in self.funcs.iter_mut().flatten() {
            for q in &mut f.queues {
                if worth(q.len(), q.capacity()) {
                    q.shrink_to(q.len() * 2);
                }
            }
            if worth(f.by_unique.len(), f.by_unique.capacity()) {
                f.by_unique.shrink_to(f.by_unique.len() * 2);
            }
            if worth(f.by_data.len(), f.by_data.capacity()) {
                f.by_data.shrink_to(f.by_data.len() * 2);
            }
        }
        if self.timeouts.is_empty() {
            self.timeouts.shrink_to_fit();
        }
        if self.epochs.is_empty() {
            self.epochs.shrink_to_fit();
        }
    }

    /// Number of jobs queued or running (graceful shutdown waits for zero).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    pub fn func(&self, f: FuncId) -> &Function {
        self.funcs[f]
            .as_ref()
            .expect("function ids in use are never dropped")
    }

    pub fn func_mut(&mut self, f: FuncId) -> &mut Function {
        self.funcs[f]
            .as_mut()
            .expect("function ids in use are never dropped")
    }

    pub fn func_id(&mut self, name: &[u8]) -> FuncId {
        if let Some(&f) = self.func_ids.get(name) {
            return f;
        }
        self.funcs.push(Some(Function::new(name)));
        let f = self.funcs.len() - 1;
        self.func_ids.insert(name.into(), f);
        f
    }

    /// The job whose handle is `handle` (compared up to its first NUL).
    pub fn lookup(&self, handle: &[u8]) -> Option<JobId> {
        let h = wire::until_nul(handle);
        let digits = h.strip_prefix(&*self.prefix)?.strip_prefix(b":")?;
        if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = digits
            .iter()
            .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        let job = self.jobs.get(&n)?;
        (*job.handle == *h).then_some(n)
    }

    /// Removes a job from every table (it must not be in a queue, or be accounted as queued).
    pub fn free_job(&mut self, id: JobId) -> Option<Job> {
        let job = self.jobs.remove(&id)?;
        self.released_large |= job.data.len() >= super::framing::SHARE_PAYLOAD;
        self.store_done(&job);
        forget_unique(&mut self.funcs, id, &job);
        for &c in &job.clients {
            if let Some(s) = self.peers.get_mut(c) {
                s.attached.remove(&id);
            }
        }
        if let Some(f) = self.funcs[job.func].as_mut() {
            f.total -= 1;
        }
        Some(job)
    }

    /// Flags a job as abandoned: never run, reaped when a worker's search reaches it.
    pub fn abandon(&mut self, id: JobId) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        job.ignore = true;
        job.persisted = false;
        if let Stored::Yes(seq) = job.stored {
            // Cancelled: removed from the store now, not when the job is reaped.
            job.stored = Stored::No;
            if let Some(d) = self.durable.as_mut() {
                d.done(seq);
            }
        }
        forget_unique(&mut self.funcs, id, job);
        job.key = UniqueKey::None;
    }

    /// A connection went away: detach it as a client, requeue what it held as a worker.
    /// Returns its session so the caller can still flush its output.
    pub fn disconnect(&mut self, id: ConnId) -> Option<Session> {
        let session = self.peers.remove(id)?;
        for (&job_id, _) in session.attached.iter() {
            let Some(job) = self.jobs.get_mut(&job_id) else {
                continue;
            };
            job.clients.retain(|&c| c != id);
            if job.clients.is_empty() && !job.background {
                self.abandon(job_id);
            }
        }
        let mut seen: Vec<FuncId> = Vec::new();
        for a in &session.abilities {
            if !seen.contains(&a.func) {
                seen.push(a.func);
                if let Some(f) = self.funcs[a.func].as_mut() {
                    f.workers.retain(|&c| c != id);
                }
            }
        }
        for i in super::assign::requeue_order(&session.assigned, &session.abilities) {
            let job_id = session.assigned[i].job;
            if self.jobs.get(&job_id).map(|j| j.worker) == Some(Some(id)) {
                self.requeue(job_id);
            }
        }
        Some(session)
    }
}

/// Drops the job from its function's coalescing maps, if it is the entry there.
fn forget_unique(funcs: &mut [Option<Function>], id: JobId, job: &Job) {
    let Some(f) = funcs[job.func].as_mut() else {
        return;
    };
    match job.key {
        UniqueKey::None => {}
        UniqueKey::Unique => {
            if f.by_unique.get(&job.unique) == Some(&id) {
                f.by_unique.remove(&job.unique);
            }
        }
        UniqueKey::Data => {
            // One lookup: hashing a large payload is the expensive part.
            if let Entry::Occupied(e) = f.by_data.entry(job.data.clone()) {
                if *e.get() == id {
                    e.remove();
                }
            }
        }
    }
}
