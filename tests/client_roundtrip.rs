//! Client round trips against a real job server with a Rust worker.

mod common;
mod core_support;

use common::TestServer;
use core_support::spawn_worker;
use gearman::client::{EventKind, Priority, Request};
use gearman::worker::WorkResult;
use gearman::{Client, ReturnCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn client_for(server: &TestServer) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add_server");
    c.set_timeout(10_000);
    c
}

fn reverse_worker(server: &TestServer) -> core_support::WorkerThread {
    spawn_worker(&server.addr(), |w| {
        w.add_function("reverse", 0, |ctx| {
            let mut v = ctx.workload().to_vec();
            v.reverse();
            WorkResult::Complete(v)
        })
        .expect("register");
    })
}

#[test]
fn do_job_round_trip_and_error_state() {
    let server = TestServer::start(&[]);
    let _w = reverse_worker(&server);
    let mut c = client_for(&server);
    assert_eq!(c.error_state().code(), ReturnCode::Success);
    assert_eq!(c.error_state().text(), None);
    assert_eq!(c.do_job("reverse", b"hello").expect("do"), b"olleh");
    // libgearman leaves UNKNOWN_STATE after a successful networked call.
    assert_eq!(c.error_state().code(), ReturnCode::UnknownState);
    assert_eq!(c.error_state().text(), Some("GEARMAN_UNKNOWN_STATE"));
    for p in [Priority::High, Priority::Low, Priority::Normal] {
        let out = c
            .do_job_with(p, b"reverse", Some(b"u-1"), b"abc")
            .expect("do with priority");
        assert_eq!(out, b"cba");
    }
    // An empty result is an empty vector.
    assert_eq!(c.do_job("reverse", b"").expect("empty"), b"");
}

#[test]
fn one_megabyte_round_trip() {
    let server = TestServer::start(&[]);
    let _w = reverse_worker(&server);
    let mut c = client_for(&server);
    let payload: Vec<u8> = (0..(1 << 20)).map(|i| (i % 251) as u8).collect();
    let start = Instant::now();
    let out = c.do_job("reverse", &payload).expect("1 MB job");
    let took = start.elapsed();
    let mut expect = payload.clone();
    expect.reverse();
    assert_eq!(out.len(), expect.len());
    assert!(out == expect, "payload corrupted");
    assert!(
        took < Duration::from_secs(5),
        "1 MB round trip took {took:?}"
    );
}

#[test]
fn background_job_status_and_unique_status() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let handle = c
        .submit_background(Priority::Normal, b"nobody_serves", Some(b"bg-unique"), b"x")
        .expect("background");
    assert!(handle.starts_with(b"H:"), "{handle:?}");
    let st = c.job_status(&handle).expect("status");
    assert!(st.known);
    assert!(!st.running);
    assert_eq!((st.numerator, st.denominator), (0, 0));
    let st = c.job_status(b"H:nowhere:1").expect("unknown status");
    assert!(!st.known && !st.running);
    let us = c.unique_status(b"bg-unique").expect("unique status");
    assert!(us.known);
    assert!(!us.running);
}

#[test]
fn background_priorities_reach_the_worker_in_priority_order() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    c.submit_background(Priority::Low, b"prio", None, b"low")
        .expect("low");
    c.submit_background(Priority::Normal, b"prio", None, b"normal")
        .expect("normal");
    c.submit_background(Priority::High, b"prio", None, b"high")
        .expect("high");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let _w = spawn_worker(&server.addr(), move |w| {
        w.add_function("prio", 0, move |ctx| {
            s2.lock().expect("lock").push(ctx.workload().to_vec());
            WorkResult::Complete(Vec::new())
        })
        .expect("register");
    });
    assert!(core_support::wait_for(Duration::from_secs(5), || seen
        .lock()
        .expect("lock")
        .len()
        == 3));
    let got = seen.lock().expect("lock").clone();
    assert_eq!(
        got,
        vec![b"high".to_vec(), b"normal".to_vec(), b"low".to_vec()]
    );
}

#[test]
fn tasks_are_submitted_newest_first() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let job = |p, bg| Request::Job {
        priority: p,
        background: bg,
    };
    // The same sequence as PHP's gearman_tasks_integration_test_001.
    c.add_task(job(Priority::Normal, false), b"order", None, b"normal")
        .expect("t");
    c.add_task(job(Priority::Normal, true), b"order", None, b"normalbg")
        .expect("t");
    c.add_task(job(Priority::High, false), b"order", None, b"1")
        .expect("t");
    c.add_task(job(Priority::High, true), b"order", None, b"2")
        .expect("t");
    c.add_task(job(Priority::Low, false), b"order", None, b"low")
        .expect("t");
    c.add_task(job(Priority::Low, true), b"order", None, b"1")
        .expect("t");
    // Submit everything before a worker exists: run until the three foreground tasks are
    // known and the three background ones finished.
    let mut created = 0;
    while created < 6 {
        let ev = c.next_event().expect("event").expect("some event");
        assert_eq!(ev.kind, EventKind::Created);
        created += 1;
        c.complete_event();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let _w = spawn_worker(&server.addr(), move |w| {
        w.add_function("order", 0, move |ctx| {
            s2.lock()
                .expect("lock")
                .push(String::from_utf8_lossy(ctx.workload()).into_owned());
            WorkResult::Complete(b"done".to_vec())
        })
        .expect("register");
    });
    let mut completes = 0;
    c.run_tasks(|_, ev| {
        if ev.kind == EventKind::Complete {
            completes += 1;
        }
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(completes, 3);
    assert!(!c.has_active_tasks());
    let got = seen.lock().expect("lock").clone();
    assert_eq!(got, ["2", "1", "normalbg", "normal", "1", "low"]);
}

#[test]
fn echo_and_unknown_server_option() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    c.echo(b"ping").expect("echo");
    let e = c.set_server_option(b"bogus").expect_err("unknown option");
    assert_eq!(e.code(), ReturnCode::UnknownOption);
    assert!(!c.exceptions_enabled());
    c.enable_exceptions().expect("exceptions");
    assert!(c.exceptions_enabled());
    c.echo(b"still fine").expect("echo after options");
    let e = c.echo(b"").expect_err("empty echo");
    assert_eq!(e.code(), ReturnCode::InvalidArgument);
}

#[test]
fn cancel_job_is_refused_by_the_server() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let h = c
        .submit_background(Priority::Normal, b"never", None, b"x")
        .expect("bg");
    let e = c
        .cancel_job(&h)
        .expect_err("gearmand refuses client WORK_FAIL");
    assert_eq!(e.code(), ReturnCode::JobNotFound);
    assert!(e.message().contains("JOB_NOT_FOUND"), "{}", e.message());
}

#[test]
fn no_servers_and_bad_arguments() {
    let mut c = Client::new();
    let e = c.do_job("f", b"x").expect_err("no servers");
    assert_eq!(e.code(), ReturnCode::NoServers);
    assert_eq!(c.error_state().code(), ReturnCode::NoServers);
    let long = vec![b'f'; 513];
    let e = c
        .add_task(
            Request::Job {
                priority: Priority::Normal,
                background: false,
            },
            &long,
            None,
            b"",
        )
        .expect_err("long name");
    assert_eq!(e.code(), ReturnCode::InvalidArgument);
    let e = c
        .do_job_with(Priority::Normal, b"f", Some(&[b'u'; 65]), b"")
        .expect_err("long unique");
    assert_eq!(e.code(), ReturnCode::InvalidArgument);
    let e = c.add_server("no.such.host.invalid", 1).expect_err("dns");
    assert_eq!(e.code(), ReturnCode::GetAddrInfo);
}

#[test]
fn namespace_prefixes_client_and_worker_names() {
    let server = TestServer::start(&[]);
    let _w = spawn_worker(&server.addr(), |w| {
        w.set_namespace(Some(b"ns_"));
        w.add_function("reverse", 0, |ctx| {
            assert_eq!(ctx.function_name(), b"ns_reverse");
            let mut v = ctx.workload().to_vec();
            v.reverse();
            WorkResult::Complete(v)
        })
        .expect("register");
    });
    let mut c = client_for(&server);
    c.set_namespace(Some(b"ns_"));
    let id = c
        .add_task(
            Request::Job {
                priority: Priority::Normal,
                background: false,
            },
            b"reverse",
            None,
            b"abc",
        )
        .expect("task");
    assert_eq!(c.task(id).expect("task").function_name(), b"ns_reverse");
    let mut result = Vec::new();
    c.run_tasks(|c, ev| {
        if ev.kind == EventKind::Complete {
            result = c
                .task(ev.task)
                .and_then(|t| t.data())
                .unwrap_or(b"")
                .to_vec();
        }
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(result, b"cba");
}
