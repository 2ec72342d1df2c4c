//! Worker behaviour against a real job server: grab errors, timeouts, wake-ups, grab modes,
//! CAN_DO_TIMEOUT, retries, registration changes, reconnection after a server restart.

mod common;
mod core_support;

use common::{free_port, TestServer};
use core_support::spawn_worker;
use gearman::client::Priority;
use gearman::worker::{Callback, GrabMode, Outcome, WorkResult, Worker};
use gearman::{Client, ReturnCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn worker_for(server: &TestServer) -> Worker {
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", server.port).expect("add");
    w
}

fn client_for(server: &TestServer) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(10_000);
    c
}

#[test]
fn grab_errors_without_servers_functions_or_jobs() {
    let mut w = Worker::new().expect("worker");
    assert_eq!(
        w.work().expect_err("no servers").code(),
        ReturnCode::NoServers
    );
    let server = TestServer::start(&[]);
    w.add_server("127.0.0.1", server.port).expect("add");
    let e = w.work().expect_err("no functions");
    assert_eq!(e.code(), ReturnCode::NoRegisteredFunctions);
    w.register_with(b"f", 0, Callback::None).expect("register");
    let e = w.grab_job(false).expect_err("no jobs");
    assert_eq!(e.code(), ReturnCode::NoJobs);
    assert!(w.function_exists(b"f"));
    w.unregister(b"f").expect("unregister");
    assert!(!w.function_exists(b"f"));
    assert_eq!(
        w.unregister(b"f").expect_err("twice").code(),
        ReturnCode::NoRegisteredFunction
    );
    assert_eq!(
        w.unregister_all().expect_err("none").code(),
        ReturnCode::NoRegisteredFunctions
    );
    assert_eq!(
        w.register_with(b"", 0, Callback::None)
            .expect_err("empty")
            .code(),
        ReturnCode::InvalidArgument
    );
    w.echo(b"hello").expect("worker echo");
}

#[test]
fn timeout_returns_and_interrupt_wakes() {
    let server = TestServer::start(&[]);
    let mut w = worker_for(&server);
    w.add_function("idle", 0, |_| WorkResult::Complete(Vec::new()))
        .expect("register");
    w.set_timeout(200);
    let start = Instant::now();
    let e = w.work().expect_err("timeout");
    assert_eq!(e.code(), ReturnCode::Timeout);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(190) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // An interrupt from another thread ends a blocked wait, and stays set.
    w.set_timeout(-1);
    let fd = w.wake_fds().1;
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        gearman::net::wake::interrupt_fd(fd).expect("interrupt");
    });
    let e = w.work().expect_err("interrupted");
    assert_eq!(e.code(), ReturnCode::ShutdownGraceful);
    t.join().expect("join");
    assert_eq!(
        w.work().expect_err("still interrupted").code(),
        ReturnCode::ShutdownGraceful
    );
}

#[test]
fn grab_modes_and_job_accessors() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let h1 = c
        .submit_background(Priority::Normal, b"g", Some(b"u-all"), b"w1")
        .expect("bg");
    let h2 = c
        .submit_background(Priority::Normal, b"g", Some(b"u-plain"), b"w2")
        .expect("bg");
    let mut w = worker_for(&server);
    w.register_with(b"g", 0, Callback::None).expect("register");
    assert_eq!(w.grab_mode(), GrabMode::All);
    let mut job = w.grab_job(false).expect("job");
    assert_eq!(job.handle(), &h1[..]);
    assert_eq!(job.function_name(), b"g");
    assert_eq!(job.unique(), b"u-all");
    assert_eq!(job.workload(), b"w1");
    w.job_send_complete(&mut job, b"r").expect("complete");
    assert!(job.is_finished());
    w.set_grab_mode(GrabMode::Plain);
    let mut job = w.grab_job(false).expect("job");
    assert_eq!(job.handle(), &h2[..]);
    assert_eq!(job.unique(), b"");
    assert_eq!(job.take_workload(), b"w2");
    assert_eq!(
        w.finish_job(&mut job, Outcome::Fail(ReturnCode::WorkFail)),
        ReturnCode::WorkFail
    );
    assert_eq!(
        w.grab_job(false).expect_err("drained").code(),
        ReturnCode::NoJobs
    );
}

#[test]
fn can_do_timeout_requeues_a_slow_job() {
    let server = TestServer::start(&[]);
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let _w = spawn_worker(&server.addr(), move |w| {
        // gearmand 1.1.20 reads the CAN_DO_TIMEOUT value as milliseconds (minimum 1000).
        w.add_function("slow", 1000, move |_| {
            if c2.fetch_add(1, Ordering::SeqCst) == 0 {
                std::thread::sleep(Duration::from_millis(1800));
            }
            WorkResult::Complete(b"ok".to_vec())
        })
        .expect("register");
    });
    let mut c = client_for(&server);
    assert_eq!(c.do_job("slow", b"x").expect("done"), b"ok");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "the timed-out job ran again"
    );
}

#[test]
fn retry_hands_the_job_out_again() {
    let server = TestServer::start(&[]);
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let _w = spawn_worker(&server.addr(), move |w| {
        w.add_function("flaky", 0, move |_| {
            if c2.fetch_add(1, Ordering::SeqCst) == 0 {
                WorkResult::Retry
            } else {
                WorkResult::Complete(b"second try".to_vec())
            }
        })
        .expect("register");
    });
    let mut c = client_for(&server);
    assert_eq!(c.do_job("flaky", b"x").expect("done"), b"second try");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn unregistered_functions_get_no_jobs() {
    let server = TestServer::start(&[]);
    let mut w = worker_for(&server);
    w.register_with(b"a", 0, Callback::None).expect("a");
    w.register_with(b"b", 0, Callback::None).expect("b");
    assert_eq!(
        w.grab_job(false).expect_err("idle").code(),
        ReturnCode::NoJobs
    );
    w.unregister(b"a").expect("unregister");
    let mut c = client_for(&server);
    c.submit_background(Priority::Normal, b"a", None, b"x")
        .expect("bg a");
    assert_eq!(
        w.grab_job(false).expect_err("a is gone").code(),
        ReturnCode::NoJobs
    );
    c.submit_background(Priority::Normal, b"b", None, b"y")
        .expect("bg b");
    let job = w.grab_job(false).expect("b job");
    assert_eq!(job.function_name(), b"b");
    w.unregister_all().expect("reset");
    assert!(!w.function_exists(b"b"));
}

#[test]
fn worker_reregisters_after_a_server_restart() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let served = Arc::new(AtomicUsize::new(0));
    let s2 = served.clone();
    let w = spawn_worker(&server.addr(), move |w| {
        w.add_function("reverse", 0, move |ctx| {
            s2.fetch_add(1, Ordering::SeqCst);
            let mut v = ctx.workload().to_vec();
            v.reverse();
            WorkResult::Complete(v)
        })
        .expect("register");
    });
    let mut c = client_for(&server);
    assert_eq!(c.do_job("reverse", b"abc").expect("before"), b"cba");
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(5));
    drop(server);
    std::thread::sleep(Duration::from_millis(300));
    let server = TestServer::start_on_port(port, &[]);
    // The worker reconnects by itself (backoff ≤ 5 s) and registers again.
    let mut c = client_for(&server);
    assert_eq!(c.do_job("reverse", b"xyz").expect("after restart"), b"zyx");
    assert_eq!(served.load(Ordering::SeqCst), 2);
    drop(w);
}

#[test]
fn a_job_whose_server_vanished_is_not_reported_twice() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let mut c = client_for(&server);
    c.submit_background(Priority::Normal, b"v", None, b"x")
        .expect("bg");
    let mut w = worker_for(&server);
    w.register_with(b"v", 0, Callback::None).expect("register");
    let mut job = w.grab_job(false).expect("job");
    // The job runs a while; meanwhile its server dies and a new one takes the port.
    std::thread::sleep(Duration::from_millis(150));
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(5));
    drop(server);
    let _server = TestServer::start_on_port(port, &[]);
    // The first send notices the dead connection; the job cannot be reported any more.
    let e = w
        .job_send_complete(&mut job, b"r")
        .expect_err("dead connection");
    assert_eq!(e.code(), ReturnCode::LostConnection);
    assert!(!job.is_finished());
    let e = w
        .job_send_complete(&mut job, b"r")
        .expect_err("still refused");
    assert_eq!(e.code(), ReturnCode::LostConnection);
    // After reconnecting, the worker gets on with new jobs.
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.submit_background(Priority::Normal, b"v", None, b"y")
        .expect("bg");
    let job = w.grab_job(false).expect("new job");
    assert_eq!(job.workload(), b"y");
}

#[test]
fn unreachable_server_is_could_not_connect() {
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", free_port()).expect("add");
    w.register_with(b"f", 0, Callback::None).expect("register");
    let e = w.work().expect_err("down");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect);
    let start = Instant::now();
    let e = w.work().expect_err("still down");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn non_blocking_worker_returns_no_jobs_then_waits_for_noop() {
    let server = TestServer::start(&[]);
    let mut w = worker_for(&server);
    w.register_with(b"nb", 0, Callback::None).expect("register");
    w.set_non_blocking(true);
    w.set_timeout(5000);
    // Nothing queued: after PRE_SLEEP a non-blocking grab returns NO_JOBS (or IO_WAIT while
    // the server's answer is on its way).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match w.grab_job(true) {
            Err(e) if e.code() == ReturnCode::NoJobs => break,
            Err(e) if e.code() == ReturnCode::IoWait => w.wait().expect("wait"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(Instant::now() < deadline);
    }
    let mut c = client_for(&server);
    let h = c
        .submit_background(Priority::Normal, b"nb", None, b"x")
        .expect("bg");
    // The NOOP wakes the wait; the next grabs get the job.
    w.wait().expect("noop arrives");
    let job = loop {
        match w.grab_job(true) {
            Ok(job) => break job,
            Err(e) if e.code() == ReturnCode::IoWait || e.code() == ReturnCode::NoJobs => {
                w.wait().expect("wait")
            }
            Err(e) => panic!("unexpected {e}"),
        }
        assert!(Instant::now() < deadline);
    };
    assert_eq!(job.handle(), &h[..]);
}

/// CPU time used by the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: `ru` is a plain C struct that getrusage fills; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes into `ru`, a valid exclusive reference.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
    assert_eq!(rc, 0);
    let t = |tv: libc::timeval| {
        Duration::from_secs(tv.tv_sec as u64) + Duration::from_micros(tv.tv_usec as u64)
    };
    t(ru.ru_utime) + t(ru.ru_stime)
}

#[test]
fn waiting_for_a_lost_server_does_not_spin() {
    let mut server = TestServer::start(&[]);
    let mut w = worker_for(&server);
    w.register_with(b"f", 0, Callback::None).expect("register");
    assert_eq!(
        w.grab_job(false).expect_err("idle").code(),
        ReturnCode::NoJobs
    );
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(5));
    drop(server);
    w.set_timeout(1500);
    let cpu = thread_cpu();
    let start = Instant::now();
    let e = w.work().expect_err("server gone");
    let took = start.elapsed();
    let used = thread_cpu() - cpu;
    // It waits (reconnecting with backoff) instead of failing at once or spinning.
    assert_eq!(e.code(), ReturnCode::Timeout);
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    assert!(
        used < Duration::from_millis(300),
        "used {used:?} of CPU in {took:?}"
    );
}
