//! Durable queues: where background jobs are kept so that they outlive the server process.
//!
//! A backend implements [`Store`], the persistent-queue contract of gearmand 1.1.20 (add,
//! flush, done, replay) with two changes: records are keyed by the server's own sequence
//! number ([`Seq`]) instead of (unique, function), so jobs with an empty unique no longer
//! overwrite each other, and the reducer of a background reduce job is kept.
//!
//! The server never calls a store from its event loop: a store thread receives each round's
//! operations as one batch, calls [`Store::add`] / [`Store::done`] for each and
//! [`Store::commit`] once (group commit), and the loop answers the batch's submitters only
//! when that commit returned. A backend therefore sees exactly this sequence:
//!
//! ```text
//! open -> replay (once) -> { (add | done)* -> commit | rollback }* [-> replace_all]
//! ```
//!
//! Backends: [`sqlite`] (gearmand's `-q libsqlite3` table), [`wal`] (an append-only log of
//! our own), [`postgres`] (gearmand's `-q postgres` table) and [`redis`] (gearmand's `-q redis`
//! keys). [`open`] picks one from a [`Backend`] description; [`dump`] lists what a store holds
//! without a server.

mod link;
pub mod postgres;
pub mod redis;
pub mod sqlite;
mod stats;
pub mod wal;

pub use stats::{StoreStats, StoreStatsSnapshot};

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

/// The key of a stored job: assigned by the server, increasing, never reused by one store.
pub type Seq = u64;

/// One background job as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredJob {
    pub seq: Seq,
    pub function: Vec<u8>,
    pub unique: Vec<u8>,
    /// gearmand's encoding: 0 = high, 1 = normal, 2 = low.
    pub priority: u8,
    /// Unix time before which the job is not run (epoch jobs); 0 = now.
    pub when: i64,
    /// The reducer of a SUBMIT_REDUCE_JOB_BACKGROUND job.
    pub reducer: Option<Vec<u8>>,
    /// The payload, shared with the server's job (no copy on the way to the store thread).
    pub data: bytes::Bytes,
}

/// One operation of a batch, as the store thread applies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Add(StoredJob),
    Done(Seq),
}

/// What a store held at start.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Live jobs, oldest first (the order gearmand replays them in).
    pub jobs: Vec<StoredJob>,
    /// The first sequence number the server may use for new jobs: above every key the store
    /// has seen.
    pub next_seq: Seq,
}

/// Why a store operation failed. The text names the store (file, table) and, for a damaged
/// store, the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    pub fn new(msg: impl Into<String>) -> StoreError {
        StoreError(msg.into())
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A persistent queue backend. Calls come from one thread at a time (the store thread).
pub trait Store: Send {
    /// Where the store lives, for messages ("sqlite database /var/lib/q.db, table gearman_queue").
    fn describe(&self) -> String;

    /// Reads every live job. Called once, before any other operation. A store that cannot be
    /// read completely fails here (never drops what it cannot read); a torn tail left by a
    /// crash in the middle of a commit is not an error, since nothing in it was acknowledged.
    fn replay(&mut self) -> Result<Replayed>;

    /// Adds a job to the open batch (opening one if needed). Not durable before [`Store::commit`].
    fn add(&mut self, job: &StoredJob) -> Result<()>;

    /// Removes the job stored under `seq` within the open batch. An unknown `seq` is not an error.
    fn done(&mut self, seq: Seq) -> Result<()>;

    /// Makes the open batch durable, all of it or none of it. Only after it returns Ok does the
    /// server acknowledge the batch's submissions.
    fn commit(&mut self) -> Result<()>;

    /// Discards the open batch after a failed add, done or commit.
    fn rollback(&mut self);

    /// Replaces everything stored by `jobs`, atomically (`--store-queue-on-shutdown`).
    fn replace_all(&mut self, jobs: &[StoredJob]) -> Result<()>;
}

/// What survives when an acknowledged batch is followed by a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// Written and flushed to stable storage (fsync) before the acknowledgement: survives the
    /// server being killed and the machine losing power.
    Full,
    /// Written to the operating system before the acknowledgement, flushed to disk later: an
    /// acknowledged job survives the server being killed (SIGKILL, crash), not a power loss.
    Normal,
}

impl Sync {
    pub fn parse(s: &str) -> Option<Sync> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Some(Sync::Full),
            "normal" => Some(Sync::Normal),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Sync::Full => "full",
            Sync::Normal => "normal",
        }
    }
}

/// Which persistent queue a server uses (`-q`), with its options.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Backend {
    /// In memory only (gearmand's `builtin`).
    #[default]
    Builtin,
    /// gearmand's `libsqlite3` table.
    Sqlite {
        path: PathBuf,
        table: String,
        sync: Sync,
    },
    /// Our append-only log in a directory.
    Wal { dir: PathBuf, sync: Sync },
    /// gearmand's `postgres` table (`--libpq-conninfo`, `--libpq-table`).
    Postgres { conninfo: String, table: String },
    /// gearmand's `redis` keys (`--redis-server`, `--redis-port`, `--redis-password`,
    /// `--redis-prefix`).
    Redis {
        address: redis::Address,
        prefix: String,
    },
}

/// The persistent-queue settings of a server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueConfig {
    pub backend: Backend,
    /// `--store-queue-on-shutdown`: nothing is written while running; the jobs still queued are
    /// written at a clean shutdown (fast, but a crash loses the jobs of the run).
    pub on_shutdown: bool,
}

impl QueueConfig {
    pub fn is_durable(&self) -> bool {
        self.backend != Backend::Builtin
    }
}

/// Opens the backend for a server (creating what is missing). `None` for `builtin`.
pub fn open(backend: &Backend) -> Result<Option<Box<dyn Store>>> {
    Ok(match backend {
        Backend::Builtin => None,
        Backend::Sqlite { path, table, sync } => Some(Box::new(sqlite::SqliteStore::open(
            path,
            table,
            *sync,
            sqlite::Mode::Server,
        )?)),
        Backend::Wal { dir, sync } => Some(Box::new(wal::WalStore::open(
            dir,
            *sync,
            wal::Mode::Server,
        )?)),
        Backend::Postgres { conninfo, table } => Some(Box::new(postgres::PostgresStore::open(
            conninfo,
            table,
            postgres::Mode::Server,
        )?)),
        Backend::Redis { address, prefix } => {
            Some(Box::new(redis::RedisStore::open(address.clone(), prefix)?))
        }
    })
}

/// Lists every job a store holds, then the count per function, without changing the store
/// (`gearmand --queue-dump`). Returns the number of jobs.
pub fn dump(backend: &Backend, out: &mut dyn Write) -> Result<usize> {
    let mut store: Box<dyn Store> =
        match backend {
            Backend::Builtin => return Err(StoreError::new(
                "the builtin queue is in memory: there is nothing to dump (pick a queue with -q)",
            )),
            Backend::Sqlite { path, table, sync } => Box::new(sqlite::SqliteStore::open(
                path,
                table,
                *sync,
                sqlite::Mode::ReadOnly,
            )?),
            Backend::Wal { dir, sync } => {
                Box::new(wal::WalStore::open(dir, *sync, wal::Mode::ReadOnly)?)
            }
            Backend::Postgres { conninfo, table } => Box::new(postgres::PostgresStore::open(
                conninfo,
                table,
                postgres::Mode::ReadOnly,
            )?),
            // Replay only reads: the Redis store has no separate read-only mode.
            Backend::Redis { address, prefix } => {
                Box::new(redis::RedisStore::open(address.clone(), prefix)?)
            }
        };
    let replayed = store.replay()?;
    let io = |e: std::io::Error| StoreError::new(format!("writing the dump: {e}"));
    writeln!(out, "# {}", store.describe()).map_err(io)?;
    writeln!(out, "seq\tfunction\tunique\tpriority\twhen\treducer\tbytes").map_err(io)?;
    let mut counts: Vec<(Vec<u8>, [usize; 3])> = Vec::new();
    for j in &replayed.jobs {
        let prio = match j.priority {
            0 => "high",
            1 => "normal",
            _ => "low",
        };
        let reducer = j.reducer.as_deref().map_or("-".to_string(), printable);
        writeln!(
            out,
            "{}\t{}\t{}\t{prio}\t{}\t{reducer}\t{}",
            j.seq,
            printable(&j.function),
            printable(&j.unique),
            j.when,
            j.data.len()
        )
        .map_err(io)?;
        let p = usize::from(j.priority.min(2));
        match counts.iter_mut().find(|(f, _)| *f == j.function) {
            Some((_, c)) => c[p] += 1,
            None => {
                let mut c = [0; 3];
                c[p] = 1;
                counts.push((j.function.clone(), c));
            }
        }
    }
    writeln!(out, "# function\thigh\tnormal\tlow\ttotal").map_err(io)?;
    for (f, c) in &counts {
        writeln!(
            out,
            "# {}\t{}\t{}\t{}\t{}",
            printable(f),
            c[0],
            c[1],
            c[2],
            c[0] + c[1] + c[2]
        )
        .map_err(io)?;
    }
    writeln!(out, "# total\t{}", replayed.jobs.len()).map_err(io)?;
    Ok(replayed.jobs.len())
}

/// Bytes as text for listings: printable ASCII as is, anything else (and `\`) escaped.
pub fn printable(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len());
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            0x21..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes() {
        assert_eq!(printable(b"ab c\\\0"), "ab\\x20c\\\\\\x00");
    }

    #[test]
    fn sync_names() {
        assert_eq!(Sync::parse("FULL"), Some(Sync::Full));
        assert_eq!(Sync::parse("normal"), Some(Sync::Normal));
        assert_eq!(Sync::parse("off"), None);
    }
}
