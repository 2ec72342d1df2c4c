//! The persistent-queue contract, run against every backend of `gearman::server::store`.
//!
//! Each backend provides a [`Fixture`]: a fresh, empty store location that can be opened again
//! and again (as a server restarts). Every case in [`cases`] runs once per fixture through the
//! `contract!` macro; a new backend (PostgreSQL, Redis, ...) plugs in by adding a fixture that
//! starts its database and one `contract!` line.

mod common;
mod engine_support;

use gearman::server::store::{self, Seq, Store, StoredJob, Sync};
use std::path::PathBuf;

/// A place where one store lives for the length of a test.
pub trait Fixture {
    /// Opens the store as a starting server would (creating it the first time).
    fn open(&mut self) -> Box<dyn Store>;

    /// False when the database engine the fixture needs is not installed: the case is skipped
    /// (engine_support says so, or fails the test with `GEARMAN_COMPAT_REQUIRED=1`).
    fn available(&self) -> bool {
        true
    }
}

/// Runs one case on a fixture whose engine is there.
fn run<F: Fixture>(mut f: F, case: fn(&mut dyn Fixture)) {
    if f.available() {
        case(&mut f);
    }
}

/// A PostgreSQL cluster of its own, with the store in gearmand's default table.
struct PostgresFixture {
    pg: Option<engine_support::Postgres>,
}

impl PostgresFixture {
    fn new() -> PostgresFixture {
        PostgresFixture {
            pg: engine_support::Postgres::start(),
        }
    }
}

impl Fixture for PostgresFixture {
    fn open(&mut self) -> Box<dyn Store> {
        let pg = self.pg.as_ref().expect("available");
        let backend = store::Backend::Postgres {
            conninfo: pg.conninfo(),
            table: store::postgres::DEFAULT_TABLE.into(),
        };
        store::open(&backend).expect("open").expect("durable")
    }

    fn available(&self) -> bool {
        self.pg.is_some()
    }
}

/// A redis-server of its own (append-only file on), with the store under gearmand's prefix.
struct RedisFixture {
    redis: Option<engine_support::Redis>,
}

impl RedisFixture {
    fn new() -> RedisFixture {
        RedisFixture {
            redis: engine_support::Redis::start(true),
        }
    }
}

impl Fixture for RedisFixture {
    fn open(&mut self) -> Box<dyn Store> {
        let r = self.redis.as_ref().expect("available");
        let backend = store::Backend::Redis {
            address: store::redis::Address {
                server: "127.0.0.1".into(),
                port: r.port,
                password: None,
            },
            prefix: store::redis::DEFAULT_PREFIX.into(),
        };
        store::open(&backend).expect("open").expect("durable")
    }

    fn available(&self) -> bool {
        self.redis.is_some()
    }
}

fn temp_path(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!(
        "gearman-contract-{}-{name}-{n}",
        std::process::id()
    ))
}

struct WalFixture {
    dir: PathBuf,
    sync: Sync,
}

impl WalFixture {
    fn new(sync: Sync) -> WalFixture {
        WalFixture {
            dir: temp_path("wal"),
            sync,
        }
    }
}

impl Fixture for WalFixture {
    fn open(&mut self) -> Box<dyn Store> {
        let backend = store::Backend::Wal {
            dir: self.dir.clone(),
            sync: self.sync,
        };
        store::open(&backend).expect("open").expect("durable")
    }
}

impl Drop for WalFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct SqliteFixture {
    dir: PathBuf,
    sync: Sync,
}

impl SqliteFixture {
    fn new(sync: Sync) -> SqliteFixture {
        let dir = temp_path("sqlite");
        std::fs::create_dir_all(&dir).expect("temp dir");
        SqliteFixture { dir, sync }
    }
}

impl Fixture for SqliteFixture {
    fn open(&mut self) -> Box<dyn Store> {
        let backend = store::Backend::Sqlite {
            path: self.dir.join("queue.db"),
            table: "gearman_queue".into(),
            sync: self.sync,
        };
        store::open(&backend).expect("open").expect("durable")
    }
}

impl Drop for SqliteFixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The cases every backend must pass.
mod cases {
    use super::*;

    pub fn job(seq: Seq, unique: &[u8], data: &[u8]) -> StoredJob {
        StoredJob {
            seq,
            function: b"func".to_vec(),
            unique: unique.to_vec(),
            priority: 1,
            when: 0,
            reducer: None,
            data: data.to_vec().into(),
        }
    }

    fn reopen(f: &mut dyn Fixture) -> (Box<dyn Store>, store::Replayed) {
        let mut s = f.open();
        let r = s.replay().expect("replay");
        (s, r)
    }

    fn seqs(r: &store::Replayed) -> Vec<Seq> {
        r.jobs.iter().map(|j| j.seq).collect()
    }

    fn commit(s: &mut dyn Store, ops: &[store::Op]) {
        for op in ops {
            match op {
                store::Op::Add(j) => s.add(j).expect("add"),
                store::Op::Done(seq) => s.done(*seq).expect("done"),
            }
        }
        s.commit().expect("commit");
    }

    pub fn empty_store_replays_nothing(f: &mut dyn Fixture) {
        let (_s, r) = reopen(f);
        assert!(r.jobs.is_empty());
        assert!(r.next_seq >= 1);
        drop(_s);
        let (_s, r) = reopen(f);
        assert!(r.jobs.is_empty(), "opening twice creates nothing");
    }

    pub fn every_field_survives_a_restart(f: &mut dyn Fixture) {
        let mut big = vec![0u8; 1 << 20];
        for (i, b) in big.iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        let jobs = vec![
            StoredJob {
                seq: 1,
                function: "fünf".as_bytes().to_vec(),
                unique: b"u-1".to_vec(),
                priority: 0,
                when: 0,
                reducer: None,
                data: b"with\0nul\0bytes".to_vec().into(),
            },
            StoredJob {
                seq: 2,
                function: vec![b'f', 0xff, 0xfe],
                unique: vec![b'x'; 64],
                priority: 2,
                when: 4_102_444_800,
                reducer: Some(b"reduce_it".to_vec()),
                data: Vec::new().into(),
            },
            StoredJob {
                seq: 3,
                function: b"func".to_vec(),
                unique: b"-".to_vec(),
                priority: 1,
                when: 0,
                reducer: Some(Vec::new()),
                data: big.into(),
            },
        ];
        let (mut s, _) = reopen(f);
        let ops: Vec<store::Op> = jobs.iter().cloned().map(store::Op::Add).collect();
        commit(&mut *s, &ops);
        drop(s);
        let (_s, r) = reopen(f);
        assert_eq!(r.jobs.len(), 3);
        for (got, want) in r.jobs.iter().zip(&jobs) {
            assert_eq!(got, want, "job {}", want.seq);
        }
        assert!(r.next_seq > 3);
    }

    pub fn same_unique_and_function_are_separate_jobs(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        commit(
            &mut *s,
            &[
                store::Op::Add(job(1, b"", b"a")),
                store::Op::Add(job(2, b"", b"b")),
                store::Op::Add(job(3, b"same", b"c")),
                store::Op::Add(job(4, b"same", b"d")),
            ],
        );
        commit(&mut *s, &[store::Op::Done(1), store::Op::Done(3)]);
        drop(s);
        let (_s, r) = reopen(f);
        assert_eq!(seqs(&r), vec![2, 4], "a done removes only its own job");
        assert_eq!(&r.jobs[0].data[..], b"b");
        assert_eq!(&r.jobs[1].data[..], b"d");
    }

    pub fn done_of_an_unknown_job_is_harmless(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        commit(&mut *s, &[store::Op::Add(job(1, b"k", b"x"))]);
        commit(
            &mut *s,
            &[store::Op::Done(99), store::Op::Done(1), store::Op::Done(1)],
        );
        drop(s);
        let (_s, r) = reopen(f);
        assert!(r.jobs.is_empty());
    }

    pub fn add_and_done_in_one_batch_leave_nothing(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        commit(
            &mut *s,
            &[
                store::Op::Add(job(1, b"", b"x")),
                store::Op::Add(job(2, b"", b"y")),
                store::Op::Done(1),
            ],
        );
        drop(s);
        let (_s, r) = reopen(f);
        assert_eq!(seqs(&r), vec![2]);
    }

    pub fn rollback_discards_the_batch(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        commit(&mut *s, &[store::Op::Add(job(1, b"", b"kept"))]);
        s.add(&job(2, b"", b"dropped")).expect("add");
        s.done(1).expect("done");
        s.rollback();
        commit(&mut *s, &[store::Op::Add(job(3, b"", b"later"))]);
        drop(s);
        let (_s, r) = reopen(f);
        assert_eq!(seqs(&r), vec![1, 3]);
    }

    pub fn many_batches_replay_in_order(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        let mut seq = 0;
        for _batch in 0..200 {
            let mut ops = Vec::new();
            for _ in 0..10 {
                seq += 1;
                ops.push(store::Op::Add(job(seq, b"", format!("{seq}").as_bytes())));
                if seq % 2 == 0 {
                    ops.push(store::Op::Done(seq - 1));
                }
            }
            commit(&mut *s, &ops);
        }
        drop(s);
        let (mut s, r) = reopen(f);
        let want: Vec<Seq> = (1..=seq).filter(|n| n % 2 == 0).collect();
        assert_eq!(seqs(&r), want);
        assert!(r.next_seq > seq);
        // Jobs added after a restart come after the replayed ones.
        let next = r.next_seq;
        commit(&mut *s, &[store::Op::Add(job(next, b"", b"new"))]);
        drop(s);
        let (_s, r) = reopen(f);
        assert_eq!(r.jobs.last().map(|j| j.seq), Some(next));
        assert_eq!(r.jobs.len(), want.len() + 1);
    }

    pub fn replace_all_keeps_exactly_the_given_jobs(f: &mut dyn Fixture) {
        let (mut s, _) = reopen(f);
        commit(
            &mut *s,
            &[
                store::Op::Add(job(1, b"", b"a")),
                store::Op::Add(job(2, b"", b"b")),
            ],
        );
        s.replace_all(&[job(2, b"", b"b"), job(7, b"u", b"g")])
            .expect("replace_all");
        drop(s);
        let (mut s, r) = reopen(f);
        assert_eq!(seqs(&r), vec![2, 7]);
        s.replace_all(&[]).expect("replace_all");
        drop(s);
        let (_s, r) = reopen(f);
        assert!(r.jobs.is_empty());
    }
}

macro_rules! contract {
    ($name:ident, $fixture:expr) => {
        mod $name {
            use super::*;

            #[test]
            fn empty_store_replays_nothing() {
                run($fixture, cases::empty_store_replays_nothing);
            }
            #[test]
            fn every_field_survives_a_restart() {
                run($fixture, cases::every_field_survives_a_restart);
            }
            #[test]
            fn same_unique_and_function_are_separate_jobs() {
                run($fixture, cases::same_unique_and_function_are_separate_jobs);
            }
            #[test]
            fn done_of_an_unknown_job_is_harmless() {
                run($fixture, cases::done_of_an_unknown_job_is_harmless);
            }
            #[test]
            fn add_and_done_in_one_batch_leave_nothing() {
                run($fixture, cases::add_and_done_in_one_batch_leave_nothing);
            }
            #[test]
            fn rollback_discards_the_batch() {
                run($fixture, cases::rollback_discards_the_batch);
            }
            #[test]
            fn many_batches_replay_in_order() {
                run($fixture, cases::many_batches_replay_in_order);
            }
            #[test]
            fn replace_all_keeps_exactly_the_given_jobs() {
                run($fixture, cases::replace_all_keeps_exactly_the_given_jobs);
            }
        }
    };
}

contract!(wal_full, WalFixture::new(Sync::Full));
contract!(wal_normal, WalFixture::new(Sync::Normal));
contract!(sqlite_full, SqliteFixture::new(Sync::Full));
contract!(sqlite_normal, SqliteFixture::new(Sync::Normal));
contract!(postgres, PostgresFixture::new());
contract!(redis, RedisFixture::new());

/// The dump lists what a store holds, per job and per function, and changes nothing.
#[test]
fn dump_lists_and_counts() {
    for backend in [
        store::Backend::Wal {
            dir: temp_path("dump-wal"),
            sync: Sync::Normal,
        },
        store::Backend::Sqlite {
            path: temp_path("dump.db"),
            table: "gearman_queue".into(),
            sync: Sync::Normal,
        },
    ] {
        let mut s = store::open(&backend).unwrap().unwrap();
        s.replay().unwrap();
        s.add(&cases::job(1, b"a b", b"xyz")).unwrap();
        let mut high = cases::job(2, b"", b"");
        high.priority = 0;
        high.function = b"other".to_vec();
        s.add(&high).unwrap();
        s.add(&cases::job(3, b"", b"12")).unwrap();
        s.commit().unwrap();
        let mut out = Vec::new();
        assert_eq!(store::dump(&backend, &mut out).unwrap(), 3);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("1\tfunc\ta\\x20b\tnormal\t0\t-\t3\n"),
            "{text}"
        );
        assert!(text.contains("2\tother\t\thigh\t0\t-\t0\n"), "{text}");
        assert!(text.contains("# func\t0\t2\t0\t2\n"), "{text}");
        assert!(text.contains("# other\t1\t0\t0\t1\n"), "{text}");
        assert!(text.ends_with("# total\t3\n"), "{text}");
        drop(s);
        match backend {
            store::Backend::Wal { dir, .. } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            store::Backend::Sqlite { path, .. } => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            _ => {}
        }
    }
}
