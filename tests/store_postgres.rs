//! The PostgreSQL store (`-q postgres`) against a real PostgreSQL started by each test: gearmand's
//! table converted without losing a row, batches while the database is down and after it is
//! back, nothing acknowledged lost and nothing completed brought back.

mod common;
mod engine_support;

use engine_support::Postgres;
use gearman::server::store::postgres::{Mode, PostgresStore};
use gearman::server::store::{Seq, Store, StoredJob};

fn job(seq: Seq, unique: &str, data: &str) -> StoredJob {
    StoredJob {
        seq,
        function: b"func".to_vec(),
        unique: unique.as_bytes().to_vec(),
        priority: 1,
        when: 0,
        reducer: None,
        data: data.as_bytes().to_vec().into(),
    }
}

fn open(pg: &Postgres, table: &str) -> Box<dyn Store> {
    Box::new(PostgresStore::open(&pg.conninfo(), table, Mode::Server).expect("open"))
}

fn seqs(s: &mut dyn Store) -> Vec<Seq> {
    s.replay()
        .expect("replay")
        .jobs
        .iter()
        .map(|j| j.seq)
        .collect()
}

/// gearmand 1.1.20's CREATE TABLE, as Debian's build sends it (measured).
const GEARMAND_TABLE: &str = "CREATE TABLE IF NOT EXISTS queue (unique_key VARCHAR(64), \
    function_name VARCHAR(255), priority INTEGER, data BYTEA, when_to_run INTEGER, \
    UNIQUE (unique_key, function_name))";

#[test]
fn gearmands_table_is_converted_keeping_every_row() {
    let Some(pg) = Postgres::start() else { return };
    let mut c = pg.client();
    c.batch_execute(GEARMAND_TABLE).unwrap();
    // gearmand's INSERT, parameters as it binds them.
    for (p, u, f, d, w) in [
        (1, "u1", "fn", &b"hello"[..], 0),
        (0, "", "fe", &b"empty"[..], 0),
        (2, "u-1 2", "f-x", &b"low"[..], 1_900_000_000),
    ] {
        c.execute(
            "INSERT INTO queue (priority, unique_key, function_name, data, when_to_run) \
             VALUES($1,$2,$3,$4::BYTEA,$5)",
            &[&p, &u, &f, &d, &w],
        )
        .unwrap();
    }
    let mut s = open(&pg, "queue");
    let r = s.replay().unwrap();
    assert_eq!(r.jobs.len(), 3);
    assert_eq!(
        (r.jobs[0].unique.as_slice(), &r.jobs[0].data[..]),
        (&b"u1"[..], &b"hello"[..])
    );
    assert_eq!(r.jobs[1].priority, 0);
    assert_eq!(r.jobs[1].unique, b"");
    assert_eq!(
        (r.jobs[2].function.as_slice(), r.jobs[2].unique.as_slice()),
        (&b"f-x"[..], &b"u-1 2"[..])
    );
    assert_eq!((r.jobs[2].priority, r.jobs[2].when), (2, 1_900_000_000));
    assert!(r.next_seq > 3);
    // Two more jobs with gearmand's key of an existing one now fit, and an epoch after 2038.
    let n = r.next_seq;
    s.add(&StoredJob {
        function: b"fe".to_vec(),
        ..job(n, "", "second empty")
    })
    .unwrap();
    s.add(&StoredJob {
        when: 4_102_444_800,
        ..job(n + 1, "", "third")
    })
    .unwrap();
    s.done(r.jobs[0].seq).unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = open(&pg, "queue");
    let r2 = s.replay().unwrap();
    let got: Vec<(Vec<u8>, Vec<u8>)> = r2
        .jobs
        .iter()
        .map(|j| (j.function.clone(), j.data.to_vec()))
        .collect();
    assert_eq!(
        got,
        vec![
            (b"fe".to_vec(), b"empty".to_vec()),
            (b"f-x".to_vec(), b"low".to_vec()),
            (b"fe".to_vec(), b"second empty".to_vec()),
            (b"func".to_vec(), b"third".to_vec()),
        ]
    );
    assert_eq!(r2.jobs[3].when, 4_102_444_800);
    // The keys survived the restart: the numbers are stable.
    assert_eq!(r2.jobs[0].seq, r.jobs[1].seq);
    // gearmand's SELECT still reads the table.
    let rows = c
        .query(
            "SELECT unique_key,function_name,priority,data,when_to_run FROM queue",
            &[],
        )
        .unwrap();
    assert_eq!(rows.len(), 4);
}

#[test]
fn a_restarted_database_loses_nothing_and_brings_back_nothing() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let mut s = open(&pg, "queue");
    assert!(seqs(&mut *s).is_empty());
    for i in 1..=3 {
        s.add(&job(i, &format!("u{i}"), "x")).unwrap();
    }
    s.commit().unwrap();

    pg.stop();
    // Down: a batch with an add and a done fails at once, without waiting for a connection.
    s.add(&job(4, "u4", "refused")).unwrap();
    s.done(1).unwrap();
    let started = std::time::Instant::now();
    let err = s.commit().unwrap_err();
    assert!(err.0.contains("PostgreSQL"), "{err}");
    // Within the backoff delay the next batch does not even try.
    s.add(&job(5, "u5", "refused too")).unwrap();
    assert!(s.commit().is_err());
    eprintln!("two failed batches took {:?}", started.elapsed());

    pg.start_again();
    // The first batch after the restart reconnects, removes job 1 (completed while the database
    // was down) and the two refused adds, whatever their outcome was.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // As the server does, the done of the failed batch comes again with the next one.
        s.done(1).unwrap();
        s.add(&job(6, "u6", "after")).unwrap();
        match s.commit() {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "never reconnected: {e}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    drop(s);
    let mut s = open(&pg, "queue");
    assert_eq!(seqs(&mut *s), vec![2, 3, 6]);
}

#[test]
fn a_refused_statement_is_an_error_not_a_lost_job() {
    let Some(pg) = Postgres::start() else { return };
    let mut s = open(&pg, "queue");
    s.replay().unwrap();
    s.add(&job(1, "a", "kept")).unwrap();
    s.commit().unwrap();
    // The database refuses writes (as a full disk or a revoked grant would).
    let mut c = pg.client();
    c.batch_execute(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'no space left'; END $$; \
         CREATE TRIGGER refuse BEFORE INSERT ON queue FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    .unwrap();
    s.add(&job(2, "b", "refused")).unwrap();
    let err = s.commit().unwrap_err();
    assert!(err.0.contains("no space left"), "{err}");
    c.batch_execute("DROP TRIGGER refuse ON queue").unwrap();
    // The connection is still good: the next batch goes through at once.
    s.add(&job(3, "c", "ok")).unwrap();
    s.commit().unwrap();
    drop(s);
    let mut s = open(&pg, "queue");
    assert_eq!(seqs(&mut *s), vec![1, 3]);
}

#[test]
fn an_unreachable_database_refuses_to_start() {
    let port = common::free_port();
    let err = PostgresStore::open(
        &format!("host=127.0.0.1 port={port} user=x dbname=y connect_timeout=2"),
        "queue",
        Mode::Server,
    )
    .err()
    .expect("no database there")
    .0;
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[test]
fn a_bad_row_is_named_and_stops_the_start() {
    let Some(pg) = Postgres::start() else { return };
    let mut c = pg.client();
    c.batch_execute(GEARMAND_TABLE).unwrap();
    c.batch_execute(
        "INSERT INTO queue (priority, unique_key, function_name, data, when_to_run) \
         VALUES (7, 'odd', 'fn', 'x', 0)",
    )
    .unwrap();
    let mut s = open(&pg, "queue");
    let err = s.replay().unwrap_err().0;
    assert!(
        err.contains("unique_key 'odd'") && err.contains("priority 7"),
        "{err}"
    );
}

#[test]
fn a_batch_larger_than_one_statement_commits_whole() {
    let Some(pg) = Postgres::start() else { return };
    let mut s = open(&pg, "queue");
    s.replay().unwrap();
    // Over the 32 MiB a single statement carries: the batch is split inside one transaction.
    let big: bytes::Bytes = vec![7u8; 12 << 20].into();
    for seq in 1..=3 {
        s.add(&StoredJob {
            data: big.clone(),
            ..job(seq, &format!("big{seq}"), "")
        })
        .unwrap();
    }
    s.commit().unwrap();
    drop(s);
    let mut s = open(&pg, "queue");
    let r = s.replay().unwrap();
    assert_eq!(r.jobs.len(), 3);
    assert!(r.jobs.iter().all(|j| j.data == big));
}

#[test]
fn a_database_restarted_between_batches_costs_no_failed_batch() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let mut s = open(&pg, "queue");
    s.replay().unwrap();
    s.add(&job(1, "a", "before")).unwrap();
    s.commit().unwrap();
    pg.stop();
    pg.start_again();
    // The old connection is dead; the batch is sent again at once on a new one.
    s.add(&job(2, "b", "after")).unwrap();
    s.commit().expect("retried on a fresh connection");
    drop(s);
    let mut s = open(&pg, "queue");
    assert_eq!(seqs(&mut *s), vec![1, 2]);
}
