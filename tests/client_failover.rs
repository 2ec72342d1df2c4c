//! Client timeouts, non-blocking use, failover between servers, lost connections.

mod common;
mod core_support;

use common::{free_port, TestServer};
use core_support::spawn_worker;
use gearman::client::{EventKind, Priority, Request, TaskState};
use gearman::worker::WorkResult;
use gearman::{Client, ReturnCode};
use std::time::{Duration, Instant};

const FG: Request = Request::Job {
    priority: Priority::Normal,
    background: false,
};

#[test]
fn timeout_against_a_server_without_workers() {
    let server = TestServer::start(&[]);
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(200);
    let start = Instant::now();
    let e = c.do_job("nobody", b"x").expect_err("times out");
    let took = start.elapsed();
    assert_eq!(e.code(), ReturnCode::Timeout);
    assert!(e.message().contains("timeout reached"), "{}", e.message());
    // It did wait for its timeout (a lower bound: a busy machine only makes it later); that it
    // returned at all, with nobody to answer, shows the wait is bounded.
    assert!(took >= Duration::from_millis(190), "{took:?}");
    // A task keeps waiting across TIMEOUTs: the run loop can be called again.
    let id = c.add_task(FG, b"nobody", None, b"x").expect("task");
    let e = c
        .run_tasks(|_, _| ReturnCode::Success)
        .expect_err("timeout");
    assert_eq!(e.code(), ReturnCode::Timeout);
    assert_eq!(c.task(id).expect("t").state(), TaskState::Work);
    assert!(c.has_active_tasks());
    // Timeout 0: a wait fails without waiting (with nobody to answer, any wait would last
    // forever), and the task is still waiting for its result.
    c.set_timeout(0);
    let e = c
        .run_tasks(|_, _| ReturnCode::Success)
        .expect_err("timeout 0");
    assert_eq!(e.code(), ReturnCode::Timeout);
    assert_eq!(c.task(id).expect("t").state(), TaskState::Work);
}

#[test]
fn non_blocking_returns_io_wait_and_wait_makes_progress() {
    let server = TestServer::start(&[]);
    let _w = spawn_worker(&server.addr(), |w| {
        w.add_function("reverse", 0, |ctx| {
            std::thread::sleep(Duration::from_millis(50));
            let mut v = ctx.workload().to_vec();
            v.reverse();
            WorkResult::Complete(v)
        })
        .expect("register");
    });
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(5000);
    c.set_non_blocking(true);
    let id = c.add_task(FG, b"reverse", None, b"abc").expect("task");
    let mut io_waits = 0;
    let mut result = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no progress");
        match c.next_event() {
            Ok(Some(ev)) => {
                if ev.kind == EventKind::Complete {
                    result = c.task(ev.task).and_then(|t| t.data()).map(<[u8]>::to_vec);
                }
                c.complete_event();
            }
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.code(), ReturnCode::IoWait);
                assert_eq!(c.error_state().text(), Some("GEARMAN_IO_WAIT"));
                io_waits += 1;
                c.wait().expect("wait");
            }
        }
    }
    assert!(io_waits >= 1);
    assert_eq!(result.as_deref(), Some(&b"cba"[..]));
    assert_eq!(c.task(id).expect("t").state(), TaskState::Finished);
}

#[test]
fn failover_to_the_next_server_when_the_first_is_down() {
    let server = TestServer::start(&[]);
    let dead = free_port();
    for list in [
        format!("127.0.0.1:{dead},127.0.0.1:{}", server.port),
        format!("127.0.0.1:{},127.0.0.1:{dead}", server.port),
    ] {
        let mut c = Client::new();
        c.set_timeout(5000);
        c.add_servers(&list).expect("servers");
        let h = c
            .submit_background(Priority::Normal, b"f", None, b"x")
            .expect("submitted despite a dead server");
        assert!(h.starts_with(b"H:"));
        // Echo needs every server, so it fails on the dead one.
        let e = c.echo(b"x").expect_err("dead server");
        assert_eq!(e.code(), ReturnCode::CouldNotConnect);
    }
    let mut c = Client::new();
    c.add_server("127.0.0.1", dead).expect("add");
    let e = c
        .submit_background(Priority::Normal, b"f", None, b"x")
        .expect_err("only a dead server");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect);
    assert!(e.message().contains("failed"), "{}", e.message());
}

#[test]
fn lost_connection_ends_the_waiting_tasks_and_the_client_recovers() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.set_timeout(5000);
    let id = c.add_task(FG, b"nobody", None, b"x").expect("task");
    let ev = c.next_event().expect("created").expect("event");
    assert_eq!(ev.kind, EventKind::Created);
    c.complete_event();
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(5));
    let e = c.next_event().expect_err("lost");
    assert_eq!(e.code(), ReturnCode::LostConnection);
    let t = c.task(id).expect("task");
    assert_eq!(t.return_code(), ReturnCode::LostConnection);
    assert_eq!(t.state(), TaskState::Finished);
    assert!(!c.has_active_tasks());
    assert_eq!(c.take_quiet_ends(), vec![id]);
    assert!(c.take_quiet_ends().is_empty());
    // A new server on the same port: the client reconnects on its own.
    let server2 = common::TestServer::start_on_port(port, &[]);
    let h = c
        .submit_background(Priority::Normal, b"f", None, b"x")
        .expect("after restart");
    assert!(h.starts_with(b"H:"));
    drop(server2);
}

#[test]
fn identifier_is_sent_to_the_server() {
    let server = TestServer::start(&[]);
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    assert_eq!(
        c.set_identifier(b"bad id").expect_err("space").code(),
        ReturnCode::InvalidArgument
    );
    assert_eq!(
        c.set_identifier(&[b'x'; 255]).expect_err("long").code(),
        ReturnCode::ArgumentTooLarge
    );
    c.set_identifier(b"my-client-7").expect("id");
    c.echo(b"x").expect("echo");
    let mut admin = server.connect();
    let workers = admin.admin_list("workers");
    assert!(workers.contains("my-client-7"), "{workers}");
}

#[test]
fn server_options_are_replayed_after_a_reconnect() {
    let mut server = TestServer::start(&[]);
    let port = server.port;
    let w = spawn_worker(&server.addr(), |w| {
        w.add_function("exc", 0, |_| WorkResult::Exception(b"boom".to_vec()))
            .expect("register");
    });
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.set_timeout(10_000);
    c.enable_exceptions().expect("exceptions");
    let e = c.do_job("exc", b"1").expect_err("exception");
    assert_eq!(e.code(), ReturnCode::WorkException);
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(5));
    drop(server);
    let _server = TestServer::start_on_port(port, &[]);
    // The client reconnects and sends OPTION_REQ exceptions again before the submission;
    // without it the server would turn the exception into WORK_FAIL.
    let e = c.do_job("exc", b"2").expect_err("exception again");
    assert_eq!(e.code(), ReturnCode::WorkException);
    drop(w);
}

#[test]
fn non_blocking_do_submits_and_returns_io_wait() {
    let server = TestServer::start(&[]);
    let ran = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r2 = ran.clone();
    let _w = spawn_worker(&server.addr(), move |w| {
        w.add_function("count", 0, move |_| {
            r2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            WorkResult::Complete(b"x".to_vec())
        })
        .expect("register");
    });
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_non_blocking(true);
    // As libgearman 1.1.20: the job is sent, the call returns IO_WAIT, the result is lost.
    let e = c.do_job("count", b"x").expect_err("io wait");
    assert_eq!(e.code(), ReturnCode::IoWait);
    assert!(!c.has_tasks());
    assert!(core_support::wait_for(Duration::from_secs(5), || ran
        .load(std::sync::atomic::Ordering::SeqCst)
        == 1));
    c.remove_servers();
    c.set_non_blocking(false);
    assert_eq!(
        c.do_job("count", b"x").expect_err("no servers").code(),
        ReturnCode::NoServers
    );
}
