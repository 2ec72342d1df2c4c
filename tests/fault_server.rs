//! Server faults end to end: a worker process killed mid-job (requeue, `--job-retries`), a
//! client process killed mid-job, a stalled reader, 1,000 concurrent connections, a malformed
//! stream next to healthy connections. Jobs are counted.

mod capi_support;
mod common;
mod core_support;
mod fault_support;

use common::proto::cmd::*;
use common::{packet, proc_rss_kib, Conn, TestServer};
use core_support::spawn_worker;
use fault_support::{
    c_client, c_worker, client_results, raise_nofile, wait_for_starts, wait_until, worker_runs,
    Ledger, Lib,
};
use gearman::worker::WorkResult;
use gearman::{Client, ReturnCode};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn client_for(server: &TestServer) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(60_000);
    c
}

/// A foreground call on its own thread: its job id and how it ended.
type Call = std::thread::JoinHandle<(String, Result<Vec<u8>, ReturnCode>)>;

/// Runs `ids` as foreground jobs, one client thread each.
fn submit_all(server: &TestServer, ids: &[String]) -> Vec<Call> {
    ids.iter()
        .map(|id| {
            let mut c = client_for(server);
            let id = id.clone();
            std::thread::spawn(move || {
                let r = c.do_job("echo", id.as_bytes()).map_err(|e| e.code());
                (id, r)
            })
        })
        .collect()
}

fn show_jobs(s: &TestServer) -> String {
    s.connect().admin_list("show jobs")
}

#[test]
fn a_worker_killed_mid_job_has_its_job_run_by_another() {
    let s = TestServer::start(&[]);
    let mut slow = c_worker(&s.addr(), "echo", 60_000, 0, "slow", Lib::Ours);
    let ids: Vec<String> = (0..3).map(|i| format!("kill-{i}")).collect();
    let calls = submit_all(&s, &ids);
    assert!(
        slow.out.wait(Duration::from_secs(10), |l| l
            .iter()
            .any(|x| x.starts_with("start "))),
        "slow worker got no job"
    );
    let held = slow.out.snapshot()[1..].to_vec();
    slow.signal(libc::SIGKILL);
    assert!(slow.wait_exit(Duration::from_secs(5)).is_some());
    let fast = c_worker(&s.addr(), "echo", 0, 0, "fast", Lib::Ours);
    let mut outcomes = HashMap::new();
    for call in calls {
        let (id, r) = call.join().expect("client");
        outcomes.insert(id.clone(), r.as_deref() == Ok(id.as_bytes()));
    }
    wait_for_starts(&fast, 3);
    let runs = worker_runs(&fast.out.snapshot(), "start");
    let ledger = Ledger::account(&ids, &outcomes, &runs);
    ledger.assert_sound("worker-killed-mid-job");
    assert_eq!(ledger.completed, 3, "{ledger:?}");
    // The job the killed worker held was among them, run to completion by the other worker.
    let held_id = held[0].strip_prefix("start ").expect("start line");
    assert_eq!(runs.get(held_id), Some(&1), "{runs:?}");
    assert_eq!(show_jobs(&s), ".\n");
}

#[test]
fn job_retries_fail_a_job_whose_workers_keep_dying() {
    let s = TestServer::start(&["--job-retries=2"]);
    let ids = vec!["doomed".to_string()];
    let calls = submit_all(&s, &ids);
    for attempt in 1..=2 {
        let mut w = c_worker(&s.addr(), "echo", 60_000, 0, "dies", Lib::Ours);
        assert!(
            w.out.wait(Duration::from_secs(10), |l| l
                .iter()
                .any(|x| x == "start doomed")),
            "attempt {attempt}: no job"
        );
        w.signal(libc::SIGKILL);
        assert!(w.wait_exit(Duration::from_secs(5)).is_some());
    }
    // The second loss reached the limit: the client is told, the job is gone.
    let (_, r) = calls
        .into_iter()
        .next()
        .expect("call")
        .join()
        .expect("client");
    assert_eq!(r.expect_err("failed"), ReturnCode::WorkFail);
    assert!(wait_until(Duration::from_secs(5), || show_jobs(&s) == ".\n"));
    // No third attempt reaches a new worker.
    let w = c_worker(&s.addr(), "echo", 0, 0, "after", Lib::Ours);
    let mut c = client_for(&s);
    assert_eq!(c.do_job("echo", b"next").expect("next"), b"next");
    wait_for_starts(&w, 1);
    let runs = worker_runs(&w.out.snapshot(), "start");
    assert_eq!(runs.get("doomed"), None, "{runs:?}");
}

#[test]
fn a_client_killed_mid_job_leaves_the_server_consistent() {
    let s = TestServer::start(&[]);
    let w = c_worker(&s.addr(), "echo", 1000, 0, "w", Lib::Ours);
    let mut client = c_client(&s.addr(), "echo", 5, 20_000, "gone", Lib::Ours);
    client.send_line("go");
    assert!(
        w.out.wait(Duration::from_secs(10), |l| l
            .iter()
            .any(|x| x == "start gone-0")),
        "no job"
    );
    client.signal(libc::SIGKILL);
    assert!(client.wait_exit(Duration::from_secs(5)).is_some());
    // The job finishes with nobody to tell; the server forgets it and keeps serving.
    assert!(
        wait_until(Duration::from_secs(10), || show_jobs(&s) == ".\n"),
        "{}",
        show_jobs(&s)
    );
    let status = s.connect().admin_list("status");
    assert_eq!(status, "echo\t0\t0\t1\n.\n");
    let mut c = client_for(&s);
    assert_eq!(c.do_job("echo", b"next").expect("next"), b"next");
    assert!(client_results(&client.out.snapshot()).is_empty());
    wait_for_starts(&w, 2);
    let runs = worker_runs(&w.out.snapshot(), "start");
    assert_eq!(runs.get("gone-0"), Some(&1), "{runs:?}");
}

/// One result much larger than its request: a client that never reads piles them up.
const BIG_RESULT: usize = 1 << 20;

#[test]
fn a_stalled_reader_is_disconnected_and_the_server_stays_bounded() {
    // A 1 MiB packet limit makes the per-connection output bound 128 MiB.
    // At the default log level the server says why it closes the connection.
    let s = TestServer::start(&["--max-packet-size", "1048576"]);
    let amplified = Arc::new(AtomicUsize::new(0));
    let a2 = amplified.clone();
    let _w = spawn_worker(&s.addr(), move |w| {
        w.add_function("amplify", 0, move |_| {
            a2.fetch_add(1, Ordering::SeqCst);
            WorkResult::Complete(vec![b'x'; BIG_RESULT - 64])
        })
        .expect("amplify");
        w.add_function("echo", 0, |ctx| {
            WorkResult::Complete(ctx.workload().to_vec())
        })
        .expect("echo");
    });
    let rss_start = proc_rss_kib(s.pid());
    let jobs = 400; // 400 MiB of results for a peer that reads none
    let mut stalled = Conn::connect(s.port);
    let mut burst = Vec::new();
    for i in 0..jobs {
        burst.extend(packet(
            b"\0REQ",
            SUBMIT_JOB,
            &[b"amplify", format!("s{i}").as_bytes(), b"x"],
        ));
    }
    stalled.send_raw(&burst);
    let mut peak = rss_start;
    let mut other = client_for(&s);
    let closed = wait_until(Duration::from_secs(90), || {
        peak = peak.max(proc_rss_kib(s.pid()));
        s.log().contains("does not read its output")
    });
    assert!(
        closed,
        "the stalled reader was not disconnected ({} jobs run, server RSS {} KiB): {}",
        amplified.load(Ordering::SeqCst),
        proc_rss_kib(s.pid()),
        s.log()
    );
    // Others are served meanwhile and afterwards.
    assert_eq!(
        other.do_job("echo", b"fine").expect("other client"),
        b"fine"
    );
    // The disconnected client's jobs still queued are abandoned; the server drains to empty.
    assert!(
        wait_until(Duration::from_secs(60), || {
            peak = peak.max(proc_rss_kib(s.pid()));
            common::proto::status_of(&s, "amplify")
                .is_some_and(|l| l.starts_with("amplify\t0\t0\t"))
        }),
        "{:?}",
        common::proto::status_of(&s, "amplify")
    );
    let rss_end = proc_rss_kib(s.pid());
    eprintln!(
        "FIGURES stalled-reader: {jobs} jobs of 1 MiB results for a non-reading peer, {} run \
         before it was disconnected and the rest abandoned; server RSS start {rss_start} KiB, \
         peak {peak} KiB, end {rss_end} KiB",
        amplified.load(Ordering::SeqCst)
    );
    // 128 MiB bound on the connection's output plus buffers in flight, far below the 400 MiB
    // the peer asked for on top of its own buffers.
    assert!(peak < 400 << 10, "server RSS peaked at {peak} KiB");
    assert_eq!(other.do_job("echo", b"still").expect("other"), b"still");
    drop(stalled);
}

#[test]
fn a_thousand_concurrent_connections_are_served() {
    let limit = raise_nofile(4096);
    assert!(limit >= 2200, "RLIMIT_NOFILE is only {limit}");
    let s = TestServer::start(&["-b", "1024"]);
    if common::is_ours() {
        // Without -f the server takes as many descriptors as it may (soft = hard limit).
        let limits = std::fs::read_to_string(format!("/proc/{}/limits", s.pid())).expect("limits");
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .expect("open files line");
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[3], f[4], "{line}");
    }
    let done: Arc<Mutex<HashMap<Vec<u8>, usize>>> = Arc::default();
    let d2 = done.clone();
    let _w = spawn_worker(&s.addr(), move |w| {
        w.add_function("bulk", 0, move |ctx| {
            *d2.lock()
                .expect("done")
                .entry(ctx.workload().to_vec())
                .or_insert(0) += 1;
            WorkResult::Complete(Vec::new())
        })
        .expect("bulk");
    });
    let mut conns: Vec<Conn> = (0..1000).map(|_| s.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        if i % 2 == 0 {
            c.send(SUBMIT_JOB_BG, &[b"bulk", b"", format!("{i}").as_bytes()]);
        } else {
            c.send(ECHO_REQ, &[format!("{i}").as_bytes()]);
        }
    }
    for (i, c) in conns.iter_mut().enumerate() {
        if i % 2 == 0 {
            c.expect(JOB_CREATED);
        } else {
            c.expect_pkt(ECHO_RES, format!("{i}").as_bytes());
        }
    }
    let listing = s.connect().admin_list("workers");
    // 1000 + the worker + the admin connection + the final ".".
    assert_eq!(listing.lines().count(), 1003, "connections listed");
    assert!(wait_until(Duration::from_secs(30), || done
        .lock()
        .expect("done")
        .len()
        == 500));
    let done = done.lock().expect("done");
    assert!(done.values().all(|&n| n == 1), "a job ran twice");
    eprintln!("FIGURES 1000-connections: submitted 500 completed 500 lost 0 duplicated 0");
}

#[test]
fn a_malformed_stream_does_not_affect_other_connections() {
    let s = TestServer::start(&[]);
    let mut worker = s.connect();
    worker.can_do(&["f"]);
    // A client in the middle of sending a submission.
    let mut healthy = s.connect();
    let submit = packet(b"\0REQ", SUBMIT_JOB, &[b"f", b"u1", b"payload"]);
    healthy.send_raw(&submit[..9]);
    // Garbage on other connections: bad magic, an unknown command, an oversized length.
    let mut bad_magic = s.connect();
    bad_magic.send_raw(b"\0BAD\0\0\0\x07\0\0\0\0");
    let mut bad_cmd = s.connect();
    bad_cmd.send_raw(&packet(b"\0REQ", 999, &[b"x"]));
    let mut too_long = s.connect();
    let mut huge = b"\0REQ".to_vec();
    huge.extend_from_slice(&SUBMIT_JOB.to_be_bytes());
    huge.extend_from_slice(&u32::MAX.to_be_bytes());
    too_long.send_raw(&huge);
    // Each bad connection gets an ERROR packet, or is closed.
    for (name, c) in [
        ("bad magic", &mut bad_magic),
        ("unknown command", &mut bad_cmd),
        ("oversized", &mut too_long),
    ] {
        if let Some(p) = c.try_recv_or_closed(Duration::from_secs(5)) {
            assert_eq!(p.kind, ERROR, "{name}: {p:?}");
        }
    }
    // The healthy connection finishes its packet and is served end to end.
    healthy.send_raw(&submit[9..]);
    let created = healthy.expect(JOB_CREATED).fields(1)[0].clone();
    let (handle, _, data) = worker.grab_job();
    assert_eq!(handle, created);
    assert_eq!(data, b"payload");
    worker.work(WORK_COMPLETE, &handle, b"ok");
    let done = healthy.expect(WORK_COMPLETE);
    assert_eq!(done.fields(2)[1], b"ok");
}
