//! Our server with `-q postgres` on a real PostgreSQL started by each test: the database
//! restarted under load, jobs completed while it is down, and one table shared with Debian's
//! gearmand 1.1.20 in both directions (skipped without `/usr/sbin/gearmand` unless
//! `GEARMAN_COMPAT_REQUIRED=1`).

mod common;
mod engine_support;
#[path = "engine_support/scenarios.rs"]
mod scenarios;
mod store_support;

use common::proto::cmd::*;
use common::proto::status_of;
use common::{reference_tool, TestServer};
use engine_support::Postgres;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store_support::{run_all, start_queue};

#[test]
fn database_restarted_under_load() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    scenarios::engine_restart_under_load(&mut pg);
}

#[test]
fn completed_while_the_database_is_down_is_not_replayed() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    scenarios::completed_while_down_is_not_replayed(&mut pg);
}

#[test]
fn completed_while_down_and_server_killed_runs_again() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    scenarios::completed_while_down_then_killed_runs_again(&mut pg);
}

#[test]
fn no_database_no_start() {
    let Some(mut pg) = Postgres::start() else {
        return;
    };
    let port = pg.port.to_string();
    scenarios::start_without_the_engine_fails(&mut pg, &format!("127.0.0.1:{port}"));
}

fn gearmand_on(bin: &Path, pg: &Postgres) -> TestServer {
    TestServer::start_bin(
        bin,
        &[
            "--job-handle-prefix=G",
            "-q",
            "postgres",
            "--libpq-conninfo",
            &pg.conninfo(),
        ],
    )
}

fn stop(mut s: TestServer) {
    s.signal("TERM");
    assert!(
        s.wait_exit(Duration::from_secs(10)).is_some(),
        "server did not stop"
    );
}

fn rows(pg: &Postgres) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pg
        .client()
        .query(
            "SELECT function_name::text, unique_key::text FROM queue",
            &[],
        )
        .expect("SELECT")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    v.sort();
    v
}

#[test]
fn gearmands_table_is_replayed_by_ours() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let g = gearmand_on(&bin, &pg);
    let mut c = g.connect();
    let later = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    c.submit(SUBMIT_JOB_BG, "f", b"u1", b"normal");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"u2", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"u3", b"low");
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"u4", later.as_bytes(), b"epoch"]);
    c.expect(JOB_CREATED);
    // gearmand splices the unique into its DELETE: this one it can insert but never remove.
    c.submit(SUBMIT_JOB_BG, "q", b"it's", b"quote");
    c.submit(SUBMIT_JOB_BG, "f-x", b"a-b c", b"dashes");
    stop(g);

    let q = ["-q", "postgres", "--libpq-conninfo", &pg.conninfo()].map(String::from);
    let ours = start_queue(&q, &[]);
    assert_eq!(status_of(&ours, "f").as_deref(), Some("f\t4\t0\t0"));
    assert_eq!(
        run_all(&ours, "f"),
        vec![b"high".to_vec(), b"normal".to_vec(), b"low".to_vec()]
    );
    assert_eq!(run_all(&ours, "q"), vec![b"quote".to_vec()]);
    assert_eq!(run_all(&ours, "f-x"), vec![b"dashes".to_vec()]);
    stop(ours);
    // Only the epoch job, not due yet, is left.
    assert_eq!(rows(&pg), vec![("f".to_string(), "u4".to_string())]);
}

#[test]
fn our_table_is_replayed_by_gearmand() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let Some(pg) = Postgres::start() else { return };
    let q = ["-q", "postgres", "--libpq-conninfo", &pg.conninfo()].map(String::from);
    let ours = start_queue(&q, &[]);
    let mut c = ours.connect();
    // Two jobs with an empty unique: gearmand's own table refuses the second (QUEUE_ERROR).
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-1");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-2");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"k", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"l", b"low");
    stop(ours);

    let g = gearmand_on(&bin, &pg);
    assert_eq!(status_of(&g, "f").as_deref(), Some("f\t4\t0\t0"));
    let mut ran = run_all(&g, "f");
    ran.sort();
    assert_eq!(
        ran,
        vec![
            b"empty-1".to_vec(),
            b"empty-2".to_vec(),
            b"high".to_vec(),
            b"low".to_vec()
        ]
    );
    // gearmand's dones removed its rows; it keeps writing the table as we left it.
    assert!(rows(&pg).is_empty(), "{:?}", rows(&pg));
    g.connect()
        .submit(SUBMIT_JOB_BG, "f", b"from-g", b"added by gearmand");
    stop(g);
    let ours = start_queue(&q, &[]);
    assert_eq!(run_all(&ours, "f"), vec![b"added by gearmand".to_vec()]);
    stop(ours);
    assert!(rows(&pg).is_empty());
}

#[test]
fn queue_dump_reads_the_table_without_changing_it() {
    let Some(pg) = Postgres::start() else { return };
    let q = ["-q", "postgres", "--libpq-conninfo", &pg.conninfo()].map(String::from);
    let ours = start_queue(&q, &[]);
    let mut c = ours.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"a", b"xyz");
    c.submit(SUBMIT_JOB_HIGH_BG, "g", b"", b"");
    stop(ours);
    let mut args = q.to_vec();
    args.push("--queue-dump".into());
    let (code, out) = store_support::run_to_exit(&args);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("\tf\ta\tnormal\t0\t-\t3\n"), "{out}");
    assert!(out.contains("# g\t1\t0\t0\t1\n"), "{out}");
    assert!(out.contains("# total\t2\n"), "{out}");
    assert_eq!(rows(&pg).len(), 2);
}
