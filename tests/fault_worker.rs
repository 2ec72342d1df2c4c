//! Worker resilience end to end (the C worker of tests/c on our library, and on Debian's for a
//! recorded baseline): one of two servers killed, the worker's CPU while it is down, the
//! server restarted and the worker registered there again, a job whose server vanished while
//! it ran. Every job is counted.

mod capi_support;
mod common;
mod fault_support;

use common::TestServer;
use fault_support::{
    c_worker, debian_lib_present, proc_cpu, wait_for_starts, wait_until, worker_runs, CProc,
    Ledger, Lib,
};
use gearman::Client;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn client_for(server: &TestServer, timeout_ms: i32) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(timeout_ms);
    c
}

/// The `workers` line of the worker named `id` on `server`, if it is connected.
fn worker_line(server: &TestServer, id: &str) -> Option<String> {
    let listing = server.connect().admin_list("workers");
    listing
        .lines()
        .find(|l| l.split_whitespace().nth(2) == Some(id))
        .map(str::to_string)
}

struct Outcome {
    ledger: Ledger,
    cpu_share_while_down: f64,
    reregistered_after: Option<Duration>,
}

fn worker_through_a_restart(lib: Lib) -> Outcome {
    let mut a = TestServer::start(&[]);
    let b = TestServer::start(&[]);
    let id = format!("fw-{lib:?}");
    let w: CProc = c_worker(
        &format!("{},{}", a.addr(), b.addr()),
        "echo",
        0,
        30,
        &id,
        lib,
    );
    // 1.1.20 may never register again: its baseline run waits less.
    let patience = Duration::from_secs(if lib == Lib::Ours { 15 } else { 6 });
    let registered = |s: &TestServer| {
        wait_until(patience, || {
            worker_line(s, &id).is_some_and(|l| l.ends_with(": echo"))
        })
    };
    assert!(registered(&a) && registered(&b), "worker not registered");
    let mut ids = Vec::new();
    let mut outcomes = HashMap::new();
    let mut run = |s: &TestServer, tag: &str, n: usize| {
        let mut c = client_for(s, 10_000);
        for i in 0..n {
            let job = format!("{tag}-{lib:?}-{i}");
            let ok = c.do_job("echo", job.as_bytes()).as_deref() == Ok(job.as_bytes());
            outcomes.insert(job.clone(), ok);
            ids.push(job);
        }
    };
    run(&a, "a-up", 10);
    run(&b, "b-up", 10);
    let port = a.port;
    a.signal("KILL");
    assert!(a.wait_exit(Duration::from_secs(5)).is_some());
    drop(a);
    // Still serving the other server.
    run(&b, "b-while-a-down", 10);
    // Idle with one server down: the reconnection attempts must not spin.
    let cpu0 = proc_cpu(w.pid());
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let cpu_share_while_down =
        (proc_cpu(w.pid()) - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let a = TestServer::start_on_port(port, &[]);
    let back = Instant::now();
    let reregistered_after = if registered(&a) {
        Some(back.elapsed())
    } else {
        None
    };
    if reregistered_after.is_some() {
        run(&a, "a-restarted", 10);
    }
    run(&b, "b-end", 10);
    wait_for_starts(&w, outcomes.values().filter(|&&ok| ok).count());
    let runs = worker_runs(&w.out.snapshot(), "start");
    let ledger = Ledger::account(&ids, &outcomes, &runs);
    ledger.print(&format!("worker-server-restart ({lib:?})"));
    eprintln!(
        "FIGURES worker-server-restart ({lib:?}): CPU while a server is down {:.2}% of wall time; \
         re-registered after {reregistered_after:?}",
        cpu_share_while_down * 100.0
    );
    Outcome {
        ledger,
        cpu_share_while_down,
        reregistered_after,
    }
}

#[test]
fn c_worker_keeps_serving_and_reregisters_after_a_restart() {
    let o = worker_through_a_restart(Lib::Ours);
    o.ledger.assert_sound("worker-server-restart");
    assert_eq!(o.ledger.completed, 50, "{:?}", o.ledger);
    assert!(o.reregistered_after.is_some(), "did not register again");
    // A generous bound: an idle worker waiting for a reconnection uses next to no CPU.
    assert!(
        o.cpu_share_while_down < 0.10,
        "worker used {:.1}% CPU while a server was down",
        o.cpu_share_while_down * 100.0
    );
}

/// Debian's libgearman 1.1.20 through the same scenario: its other server keeps every job
/// going, no job is lost or run twice, but it never registers again with the restarted server
/// (measured: re-registered after None in every run). Its CPU share is only printed (a figure,
/// not a property).
#[test]
fn c_worker_restart_baseline_1_1_20() {
    if !debian_lib_present() {
        eprintln!("SKIPPED: Debian's libgearman.so.8 is not installed");
        return;
    }
    let o = worker_through_a_restart(Lib::Debian);
    o.ledger.assert_sound("worker-server-restart (1.1.20)");
    // Without the restarted server's 10 jobs (never submitted: nobody serves them), the 40
    // jobs of the two servers complete.
    assert_eq!(o.ledger.submitted, 40, "{:?}", o.ledger);
    assert_eq!(o.ledger.completed, 40, "{:?}", o.ledger);
    assert_eq!(
        o.reregistered_after, None,
        "1.1.20 registered again with the restarted server"
    );
}

#[test]
fn a_job_whose_server_vanished_mid_work_is_not_reported_twice() {
    let mut a = TestServer::start(&[]);
    let port = a.port;
    let w = c_worker(&a.addr(), "echo", 1500, 0, "fw-vanish", Lib::Ours);
    let mut c = client_for(&a, 20_000);
    let r = std::thread::scope(|s| {
        let call = s.spawn(|| c.do_job("echo", b"vanish"));
        assert!(
            w.out.wait(Duration::from_secs(10), |l| l
                .iter()
                .any(|x| x == "start vanish")),
            "job not started"
        );
        a.signal("KILL");
        call.join().expect("call")
    });
    // The client is told; nothing is retried behind its back (the job had been created).
    assert_eq!(
        r.expect_err("server died").code(),
        gearman::ReturnCode::LostConnection
    );
    assert!(a.wait_exit(Duration::from_secs(5)).is_some());
    drop(a);
    let a = TestServer::start_on_port(port, &[]);
    assert!(
        wait_until(Duration::from_secs(15), || worker_line(&a, "fw-vanish")
            .is_some()),
        "worker did not come back"
    );
    let mut c = client_for(&a, 20_000);
    assert_eq!(c.do_job("echo", b"after").expect("after"), b"after");
    wait_for_starts(&w, 2);
    let runs = worker_runs(&w.out.snapshot(), "start");
    assert_eq!(runs.get("vanish"), Some(&1), "{runs:?}");
    assert_eq!(runs.get("after"), Some(&1), "{runs:?}");
    // The new server never saw the old handle: nothing was reported to it, so no stray
    // result or error is logged there and no job is left.
    let jobs = a.connect().admin_list("show jobs");
    assert_eq!(jobs, ".\n", "{jobs}");
}

/// The classic complaint: a worker whose only server restarts. Returns (CPU share while the
/// server was down, whether it served a job on the restarted server).
fn only_server_restarts(lib: Lib) -> (f64, bool) {
    let mut s = TestServer::start(&[]);
    let port = s.port;
    let id = format!("solo-{lib:?}");
    let w = c_worker(&s.addr(), "echo", 0, 0, &id, lib);
    let mut c = client_for(&s, 10_000);
    assert_eq!(c.do_job("echo", b"solo-1").expect("first"), b"solo-1");
    s.signal("KILL");
    assert!(s.wait_exit(Duration::from_secs(5)).is_some());
    drop(s);
    let cpu0 = proc_cpu(w.pid());
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let share = (proc_cpu(w.pid()) - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let s = TestServer::start_on_port(port, &[]);
    let patience = Duration::from_secs(if lib == Lib::Ours { 15 } else { 6 });
    let back = wait_until(patience, || {
        worker_line(&s, &id).is_some_and(|l| l.ends_with(": echo"))
    });
    let served = back && {
        let mut c = client_for(&s, 10_000);
        c.do_job("echo", b"solo-2").as_deref() == Ok(&b"solo-2"[..])
    };
    eprintln!(
        "FIGURES only-server-restart ({lib:?}): CPU while down {:.2}% of wall time; \
         registered again and served: {served}",
        share * 100.0
    );
    (share, served)
}

#[test]
fn a_worker_whose_only_server_restarts_does_not_spin_and_comes_back() {
    let (share, served) = only_server_restarts(Lib::Ours);
    assert!(share < 0.10, "worker used {:.1}% CPU", share * 100.0);
    assert!(served, "the worker did not serve the restarted server");
}

/// Debian's libgearman 1.1.20 through the same scenario: its worker does not come back to
/// its only server once it restarts (what ours fixes). Its CPU share while the server is down
/// (10-27 % measured: it spins) is only printed: a figure of a busy machine, not a property.
#[test]
fn only_server_restart_baseline_1_1_20() {
    if !debian_lib_present() {
        eprintln!("SKIPPED: Debian's libgearman.so.8 is not installed");
        return;
    }
    let (_share, served) = only_server_restarts(Lib::Debian);
    assert!(!served, "1.1.20's worker came back to its restarted server");
}

/// Reads request packets from `s` until `until` arrives or `limit` passes: (type, payload).
fn read_requests(s: &mut std::net::TcpStream, until: u32, limit: Duration) -> Vec<(u32, Vec<u8>)> {
    use std::io::Read;
    let end = Instant::now() + limit;
    let mut buf = Vec::new();
    let mut out = Vec::new();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    while Instant::now() < end {
        let mut chunk = [0u8; 4096];
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => {}
        }
        while buf.len() >= 12 {
            let kind = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
            let len = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]) as usize;
            if buf.len() < 12 + len {
                break;
            }
            assert_eq!(&buf[..4], b"\0REQ", "not a request");
            out.push((kind, buf[12..12 + len].to_vec()));
            buf.drain(..12 + len);
        }
        if out.iter().any(|(k, _)| *k == until) {
            break;
        }
    }
    out
}

#[test]
fn reregistration_replays_the_client_id_and_can_do_timeout() {
    const SET_CLIENT_ID: u32 = 22;
    const CAN_DO_TIMEOUT: u32 = 23;
    const GRAB_JOB: u32 = 9;
    const GRAB_JOB_UNIQ: u32 = 30;
    const GRAB_JOB_ALL: u32 = 39;
    let mut a = TestServer::start(&[]);
    let port = a.port;
    let w = c_worker(&a.addr(), "echo", 0, 30, "fw-replay", Lib::Ours);
    assert!(wait_until(Duration::from_secs(15), || worker_line(
        &a,
        "fw-replay"
    )
    .is_some()));
    a.signal("KILL");
    assert!(a.wait_exit(Duration::from_secs(5)).is_some());
    drop(a);
    // A bare listener takes the port and records what the worker says on reconnecting.
    let l = std::net::TcpListener::bind(("127.0.0.1", port)).expect("rebind the port");
    l.set_nonblocking(true).expect("nonblocking");
    let mut conn = None;
    assert!(
        wait_until(Duration::from_secs(15), || {
            conn = l.accept().ok().map(|(s, _)| s);
            conn.is_some()
        }),
        "the worker did not reconnect"
    );
    let mut s = conn.expect("connection");
    s.set_nonblocking(false).expect("blocking");
    let reqs = read_requests(&mut s, GRAB_JOB_ALL, Duration::from_secs(3));
    let kinds: Vec<u32> = reqs.iter().map(|r| r.0).collect();
    assert!(
        reqs.contains(&(SET_CLIENT_ID, b"fw-replay".to_vec())),
        "{kinds:?}"
    );
    assert!(
        reqs.contains(&(CAN_DO_TIMEOUT, b"echo\x0030".to_vec())),
        "{kinds:?}"
    );
    // Registrations come before the first grab.
    let first_grab = kinds
        .iter()
        .position(|k| [GRAB_JOB, GRAB_JOB_UNIQ, GRAB_JOB_ALL].contains(k));
    let reg = kinds.iter().position(|&k| k == CAN_DO_TIMEOUT);
    if let (Some(g), Some(r)) = (first_grab, reg) {
        assert!(r < g, "{kinds:?}");
    }
    drop(w);
}

/// Runs `n` jobs through `server` from a client thread; returns how many completed in time.
fn jobs_complete_within(server: &TestServer, tag: &str, n: usize, limit: Duration) -> usize {
    let port = server.port;
    let tag = tag.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut c = Client::new();
        c.add_server("127.0.0.1", port).expect("add");
        c.set_timeout(limit.as_millis() as i32);
        for i in 0..n {
            let job = format!("{tag}-{i}");
            if c.do_job("echo", job.as_bytes()).as_deref() != Ok(job.as_bytes()) {
                break;
            }
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    let end = Instant::now() + limit;
    let mut done = 0;
    while done < n {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(()) => done += 1,
            Err(_) => break,
        }
    }
    done
}

/// A hung (SIGSTOPped) server must not stall the worker's service of the other server.
fn hung_server_does_not_stall(lib: Lib) -> (usize, usize) {
    let a = TestServer::start(&[]);
    let b = TestServer::start(&[]);
    let id = format!("hung-{lib:?}");
    let _w = c_worker(
        &format!("{},{}", a.addr(), b.addr()),
        "echo",
        0,
        0,
        &id,
        lib,
    );
    assert!(wait_until(Duration::from_secs(15), || worker_line(&a, &id)
        .is_some()
        && worker_line(&b, &id).is_some()));
    a.signal("STOP");
    let n = 10;
    let done = jobs_complete_within(&b, &format!("b-{lib:?}"), n, Duration::from_secs(10));
    a.signal("CONT");
    eprintln!("FIGURES hung-server ({lib:?}): {done} of {n} jobs on the other server completed");
    (done, n)
}

#[test]
fn a_hung_server_does_not_stall_the_worker() {
    let (done, n) = hung_server_does_not_stall(Lib::Ours);
    assert_eq!(
        done, n,
        "jobs on the live server stalled behind the hung one"
    );
}

/// Debian's libgearman 1.1.20 through the same scenario: it stalls behind the hung server,
/// so jobs on the live one do not all complete (1 of 10 in every run measured).
#[test]
fn hung_server_baseline_1_1_20() {
    if !debian_lib_present() {
        eprintln!("SKIPPED: Debian's libgearman.so.8 is not installed");
        return;
    }
    let (done, n) = hung_server_does_not_stall(Lib::Debian);
    assert!(
        done < n,
        "1.1.20 served the live server past the hung one: {done} of {n}"
    );
}
