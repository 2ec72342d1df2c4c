//! The records of the job server: jobs, functions and connected peers (sessions).

use super::metrics::FuncStats;
use crate::net::OutQueue;
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// Index of a session; the event loop uses it as the mio token.
pub type ConnId = usize;
/// A job's number, the `<n>` of its handle; never reused within one process.
pub type JobId = u64;
/// Index of a function record.
pub type FuncId = usize;

/// Hasher for integer keys that are already unique (job numbers): no SipHash rounds.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread sequential ids over the table (Fibonacci hashing).
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

pub type IdMap<V> = HashMap<JobId, V, BuildHasherDefault<IdHasher>>;

/// Priority lists of a function, in the order they are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    High = 0,
    Normal = 1,
    Low = 2,
}

/// How a job is found again by a later submission with the same unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    /// Empty unique: never coalesces.
    None,
    /// Keyed by the unique string.
    Unique,
    /// The unique `-`: keyed by the payload.
    Data,
}

#[derive(Debug)]
pub struct Job {
    pub handle: Box<[u8]>,
    pub func: FuncId,
    pub unique: Box<[u8]>,
    pub key: UniqueKey,
    /// The payload: a slice of the buffer the submission was read into (large payloads) or
    /// a copy (small ones); JOB_ASSIGN and the unique `-` index share it.
    pub data: Bytes,
    pub reducer: Option<Box<[u8]>>,
    pub priority: Priority,
    /// Some background submission owns this job: it lives on without attached clients.
    pub background: bool,
    /// Handed to the (builtin, in-memory) queue at creation, as gearmand's `show jobs` reports.
    pub persisted: bool,
    /// Attached foreground submitters, oldest first; a connection may appear more than once.
    pub clients: Vec<ConnId>,
    pub worker: Option<ConnId>,
    /// Increments on every assignment, so stale timeout entries are recognised.
    pub assign_gen: u64,
    pub retries: u32,
    /// Cancelled or abandoned: reaped when a worker's search reaches it, never run.
    pub ignore: bool,
    pub numerator: u32,
    pub denominator: u32,
    /// Unix time before which an epoch job is not handed out; 0 = now.
    pub when: i64,
    /// When it entered its queue (created or requeued), for the queue-wait metrics.
    pub queued_at: Instant,
    /// When it was last handed to a worker, for the run-time metric.
    pub started_at: Instant,
    /// Its record in the durable store.
    pub stored: Stored,
}

/// Where a job stands with the durable store (`-q libsqlite3`, `-q wal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Not stored (foreground job, or no durable store).
    No,
    /// Its add is waiting for (or inside) a batch commit; the submitters are answered when the
    /// commit returns. A job created this way is not queued (not assignable) until then.
    Pending(crate::server::store::Seq),
    /// Committed under this key; its end removes it.
    Yes(crate::server::store::Seq),
}

impl Job {
    pub fn is_queued(&self) -> bool {
        self.worker.is_none()
    }
}

#[derive(Debug)]
pub struct Function {
    pub name: Box<[u8]>,
    pub queues: [VecDeque<JobId>; 3],
    /// Jobs in `queues` with a `when` set: while nonzero, searches skip the not-yet-due ones.
    pub epoch_queued: usize,
    /// Queued plus running jobs (includes abandoned ones not reaped yet).
    pub total: usize,
    pub running: usize,
    /// One entry per ability registration, in registration order.
    pub workers: Vec<ConnId>,
    /// Where the next `-w N` wake-up round starts.
    pub wake_cursor: usize,
    /// `maxqueue` limits per priority; 0 or less = unlimited.
    pub max_queue: [i64; 3],
    pub by_unique: HashMap<Box<[u8]>, JobId>,
    /// Jobs submitted with the unique `-`, by payload (the key shares the job's data).
    pub by_data: HashMap<Bytes, JobId>,
    pub stats: FuncStats,
}

impl Function {
    pub fn new(name: &[u8]) -> Function {
        Function {
            name: name.into(),
            queues: Default::default(),
            epoch_queued: 0,
            total: 0,
            running: 0,
            workers: Vec::new(),
            wake_cursor: 0,
            max_queue: [0; 3],
            by_unique: HashMap::new(),
            by_data: HashMap::new(),
            stats: FuncStats::default(),
        }
    }

    pub fn queued(&self, p: usize) -> usize {
        self.queues[p].len()
    }
}

/// One registration of a worker ability.
#[derive(Debug, Clone, Copy)]
pub struct Ability {
    pub func: FuncId,
    /// Registration number within the session: held jobs remember which one they came through.
    pub reg: u64,
    /// CAN_DO_TIMEOUT in milliseconds (already raised to the 1000 ms minimum); 0 = none.
    pub timeout_ms: u64,
}

/// A job held by a worker, with the registration it was taken through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub job: JobId,
    pub reg: u64,
}

/// A connected peer: client, worker, admin or all of these at once.
#[derive(Debug)]
pub struct Session {
    /// Output waiting to be written; the event loop swaps it into the socket's queue to flush.
    pub out: OutQueue,
    pub fd: i32,
    pub ip: String,
    /// Connection order, for the `workers` listing (newest first).
    pub seq: u64,
    pub client_id: Option<Box<[u8]>>,
    /// Abilities in registration order (searched newest first).
    pub abilities: Vec<Ability>,
    pub sleeping: bool,
    pub noop_sent: bool,
    pub exceptions: bool,
    /// Jobs this connection holds as a worker.
    pub assigned: Vec<Held>,
    /// Next ability registration number.
    pub next_reg: u64,
    /// Foreground jobs this connection is attached to, with the attach count.
    pub attached: IdMap<u32>,
    /// Already listed in the core's dirty list (output pending a flush).
    pub dirty: bool,
    /// Submissions waiting for a durable-store commit, oldest first: what is sent to this
    /// connection after one of them waits behind its answer, so a client sees its answers in
    /// the order it asked (libgearman matches JOB_CREATED to submissions by order).
    pub gates: std::collections::VecDeque<Gate>,
    /// The gate whose answer is being written (see `Peers::begin_answer`).
    pub answering: Option<u64>,
}

/// Output held behind a submission whose answer waits for a commit.
#[derive(Debug, Default)]
pub struct Gate {
    pub token: u64,
    /// The answer, once known.
    pub answer: Option<OutQueue>,
    /// What was queued for the connection after the submission.
    pub after: OutQueue,
}

impl Session {
    pub fn new(fd: i32, ip: String, seq: u64, exceptions: bool) -> Session {
        Session {
            out: OutQueue::new(),
            fd,
            ip,
            seq,
            client_id: None,
            abilities: Vec::new(),
            sleeping: false,
            noop_sent: false,
            exceptions,
            assigned: Vec::new(),
            next_reg: 0,
            attached: IdMap::default(),
            dirty: false,
            gates: Default::default(),
            answering: None,
        }
    }
}
