//! Our server with `-q redis` on a real redis-server started by each test: Redis restarted
//! under load, jobs completed while it is down, and one keyspace shared with Debian's gearmand
//! 1.1.20 in both directions (skipped without `/usr/sbin/gearmand` unless
//! `GEARMAN_COMPAT_REQUIRED=1`).

mod common;
mod engine_support;
#[path = "engine_support/scenarios.rs"]
mod scenarios;
mod store_support;

use common::proto::cmd::*;
use common::proto::status_of;
use common::{reference_tool, TestServer};
use engine_support::Redis;
use std::path::Path;
use std::time::Duration;
use store_support::{run_all, start_queue};

#[test]
fn redis_restarted_under_load() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    scenarios::engine_restart_under_load(&mut r);
}

#[test]
fn completed_while_redis_is_down_is_not_replayed() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    scenarios::completed_while_down_is_not_replayed(&mut r);
}

#[test]
fn completed_while_down_and_server_killed_runs_again() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    scenarios::completed_while_down_then_killed_runs_again(&mut r);
}

#[test]
fn no_redis_no_start() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    let port = r.port.to_string();
    scenarios::start_without_the_engine_fails(&mut r, &format!("127.0.0.1:{port}"));
}

#[test]
fn epoch_jobs_are_stored() {
    let Some(r) = Redis::start(true) else { return };
    let q = ["-q", "redis", "--redis-port", &r.port.to_string()].map(String::from);
    let ours = start_queue(&q, &[]);
    let mut c = ours.connect();
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    c.send(SUBMIT_JOB_EPOCH, &[b"e", b"u", later.as_bytes(), b"epoch"]);
    c.expect(JOB_CREATED);
    ours.signal("KILL");
    drop(ours);
    let ours = start_queue(&q, &[]);
    // Replayed and still waiting for its time.
    assert_eq!(status_of(&ours, "e").as_deref(), Some("e\t1\t0\t0"));
    assert!(run_all(&ours, "e").is_empty());
    let mut conn = r.connection();
    let when: String = redis::cmd("HGET")
        .arg("_gear_-e-u")
        .arg("when")
        .query(&mut conn)
        .unwrap();
    assert_eq!(when, later);
}

fn gearmand_on(bin: &Path, r: &Redis) -> TestServer {
    TestServer::start_bin(
        bin,
        &[
            "--job-handle-prefix=G",
            "-q",
            "redis",
            "--redis-server=127.0.0.1",
            &format!("--redis-port={}", r.port),
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

fn keys(r: &Redis) -> Vec<String> {
    let mut k: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query(&mut r.connection())
        .expect("KEYS");
    k.sort();
    k
}

#[test]
fn gearmands_keys_are_replayed_by_ours() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let Some(r) = Redis::start(true) else { return };
    let g = gearmand_on(&bin, &r);
    let mut c = g.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"u1", b"normal");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"u2", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"u3", b"low");
    // libgearman's uniques are UUIDs, with dashes; gearmand 1.1.20 reads those back.
    c.submit(
        SUBMIT_JOB_BG,
        "f",
        b"5e9a0c3c-1b2c-11ec-9621-0242ac130002",
        b"uuid",
    );
    // gearmand 1.1.20 refuses epoch jobs with a redis queue.
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"u4", b"4102444800", b"epoch"]);
    assert_eq!(c.recv().kind, ERROR);
    stop(g);

    let q = ["-q", "redis", "--redis-port", &r.port.to_string()].map(String::from);
    let ours = start_queue(&q, &[]);
    assert_eq!(status_of(&ours, "f").as_deref(), Some("f\t4\t0\t0"));
    // Priorities kept; gearmand's keys carry no order, so equal priorities run in key order.
    let mut ran = run_all(&ours, "f");
    assert_eq!(
        (ran[0].as_slice(), ran[3].as_slice()),
        (&b"high"[..], &b"low"[..])
    );
    ran[1..3].sort();
    assert_eq!(ran[1..3], [b"normal".to_vec(), b"uuid".to_vec()]);
    stop(ours);
    assert!(keys(&r).is_empty(), "{:?}", keys(&r));
}

#[test]
fn our_keys_are_replayed_by_gearmand() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let Some(r) = Redis::start(true) else { return };
    let q = ["-q", "redis", "--redis-port", &r.port.to_string()].map(String::from);
    let ours = start_queue(&q, &[]);
    let mut c = ours.connect();
    // Two jobs with an empty unique and one with a space: gearmand 1.1.20 would merge the
    // first two into one key and never delete the third; ours gives each a key it can read.
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-1");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-2");
    c.submit(SUBMIT_JOB_BG, "f", b"a b", b"space");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"k", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"l", b"low");
    stop(ours);

    let g = gearmand_on(&bin, &r);
    assert_eq!(status_of(&g, "f").as_deref(), Some("f\t5\t0\t0"));
    let mut ran = run_all(&g, "f");
    ran.sort();
    assert_eq!(
        ran,
        vec![
            b"empty-1".to_vec(),
            b"empty-2".to_vec(),
            b"high".to_vec(),
            b"low".to_vec(),
            b"space".to_vec()
        ]
    );
    // gearmand's DELs found every key; it keeps writing the keyspace as we left it.
    assert!(keys(&r).is_empty(), "{:?}", keys(&r));
    g.connect()
        .submit(SUBMIT_JOB_BG, "f", b"from-g", b"added by gearmand");
    stop(g);
    let ours = start_queue(&q, &[]);
    assert_eq!(run_all(&ours, "f"), vec![b"added by gearmand".to_vec()]);
    stop(ours);
    assert!(keys(&r).is_empty());
}

#[test]
fn queue_dump_reads_the_keys_without_changing_them() {
    let Some(r) = Redis::start(true) else { return };
    let q = ["-q", "redis", "--redis-port", &r.port.to_string()].map(String::from);
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
    assert_eq!(keys(&r).len(), 2);
}
