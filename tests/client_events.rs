//! Client events: streaming, failures, exceptions, pause/resume, re-entrant task handling,
//! coalescing.

mod common;
mod core_support;

use common::TestServer;
use core_support::spawn_worker;
use gearman::client::{EventKind, Priority, Request, TaskState};
use gearman::worker::WorkResult;
use gearman::{Client, ReturnCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const FG: Request = Request::Job {
    priority: Priority::Normal,
    background: false,
};

fn client_for(server: &TestServer) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add_server");
    c.set_timeout(10_000);
    c
}

/// A worker with: `stream` (d1, 1/2, w1, d2, complete "done"), `fail`, `exc` (exception
/// "unhandled"), `early` (complete "early" then returns "late").
fn busy_worker(server: &TestServer) -> core_support::WorkerThread {
    spawn_worker(&server.addr(), |w| {
        w.add_function("stream", 0, |ctx| {
            ctx.send_data(b"d1").expect("data");
            ctx.send_status(1, 2).expect("status");
            ctx.send_warning(b"w1").expect("warning");
            ctx.send_data(b"d2").expect("data");
            WorkResult::Complete(b"done".to_vec())
        })
        .expect("register");
        w.add_function("fail", 0, |_| WorkResult::Fail)
            .expect("register");
        w.add_function("exc", 0, |_| WorkResult::Exception(b"unhandled".to_vec()))
            .expect("register");
        w.add_function("early", 0, |ctx| {
            ctx.send_complete(b"early").expect("complete");
            WorkResult::Complete(b"late".to_vec())
        })
        .expect("register");
    })
}

#[test]
fn streamed_events_arrive_in_order_with_their_payloads() {
    let server = TestServer::start(&[]);
    let _w = busy_worker(&server);
    let mut c = client_for(&server);
    let id = c.add_task(FG, b"stream", None, b"x").expect("task");
    assert_eq!(c.task(id).expect("task").state(), TaskState::New);
    assert_eq!(c.task(id).expect("task").unique().len(), 36);
    let mut seen = Vec::new();
    c.run_tasks(|c, ev| {
        let t = c.task(ev.task).expect("task");
        let data = String::from_utf8_lossy(t.data().unwrap_or(b"")).into_owned();
        match ev.kind {
            EventKind::Created => {
                assert!(t.is_known() && !t.is_running());
                assert!(t.job_handle().starts_with(b"H:"));
                seen.push("created".to_string());
            }
            EventKind::Status => seen.push(format!("status {}/{}", t.numerator(), t.denominator())),
            EventKind::Data => {
                assert!(t.is_running());
                seen.push(format!("data {data}"))
            }
            EventKind::Warning => seen.push(format!("warning {data}")),
            EventKind::Complete => {
                assert_eq!(t.return_code(), ReturnCode::Success);
                seen.push(format!("complete {data}"))
            }
            other => seen.push(format!("{other:?}")),
        }
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(
        seen,
        [
            "created",
            "data d1",
            "status 1/2",
            "warning w1",
            "data d2",
            "complete done"
        ]
    );
    let t = c.task(id).expect("task");
    assert_eq!(t.state(), TaskState::Finished);
    assert_eq!(t.data(), None);
    // do() concatenates the data chunks and the final payload.
    assert_eq!(c.do_job("stream", b"x").expect("do"), b"d1d2done");
}

#[test]
fn fail_and_first_result_wins() {
    let server = TestServer::start(&[]);
    let _w = busy_worker(&server);
    let mut c = client_for(&server);
    let e = c.do_job("fail", b"x").expect_err("fails");
    assert_eq!(e.code(), ReturnCode::WorkFail);
    assert_eq!(c.error_state().text(), Some("GEARMAN_WORK_FAIL"));
    assert_eq!(c.do_job("early", b"x").expect("early"), b"early");
}

#[test]
fn exceptions_with_and_without_the_option() {
    let server = TestServer::start(&[]);
    let _w = busy_worker(&server);
    // Without the option gearmand turns the exception into WORK_FAIL whose handle carries a
    // trailing NUL; the client must still finish (libgearman 1.1.20 hung here).
    let mut c = client_for(&server);
    c.set_timeout(3000);
    let e = c.do_job("exc", b"x").expect_err("fails");
    assert_eq!(e.code(), ReturnCode::WorkFail);

    let mut c = client_for(&server);
    c.enable_exceptions().expect("exceptions");
    let e = c.do_job("exc", b"x").expect_err("exception");
    assert_eq!(e.code(), ReturnCode::WorkException);
    assert_eq!(e.message(), "unhandled");
    assert_eq!(c.error_state().text(), Some("GEARMAN_WORK_EXCEPTION"));
    let id = c.add_task(FG, b"exc", None, b"x").expect("task");
    let mut kinds = Vec::new();
    c.run_tasks(|c, ev| {
        let t = c.task(ev.task).expect("task");
        if ev.kind == EventKind::Exception {
            assert_eq!(t.data(), Some(&b"unhandled"[..]));
            assert_eq!(t.return_code(), ReturnCode::WorkException);
        }
        kinds.push(ev.kind);
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(kinds, [EventKind::Created, EventKind::Exception]);
    assert_eq!(
        c.task(id).expect("task").exception(),
        Some(&b"unhandled"[..])
    );
}

#[test]
fn pause_redelivers_the_same_event() {
    let server = TestServer::start(&[]);
    let _w = busy_worker(&server);
    let mut c = client_for(&server);
    let id = c.add_task(FG, b"stream", None, b"x").expect("task");
    let mut first_data_calls = 0;
    let mut data_seen = Vec::new();
    let mut pass = |c: &mut Client| {
        c.run_tasks(|c, ev| {
            if ev.kind == EventKind::Data {
                let d = c
                    .task(ev.task)
                    .and_then(|t| t.data())
                    .unwrap_or(b"")
                    .to_vec();
                if d == b"d1" {
                    first_data_calls += 1;
                    if first_data_calls == 1 {
                        return ReturnCode::Pause;
                    }
                }
                data_seen.push(d);
            }
            ReturnCode::Success
        })
    };
    let e = pass(&mut c).expect_err("paused");
    assert_eq!(e.code(), ReturnCode::Pause);
    assert_eq!(c.task(id).expect("task").state(), TaskState::Data);
    pass(&mut c).expect("resumed");
    assert_eq!(first_data_calls, 2);
    assert_eq!(data_seen, [b"d1".to_vec(), b"d2".to_vec()]);
}

#[test]
fn handlers_may_add_and_free_tasks() {
    let server = TestServer::start(&[]);
    let _w = busy_worker(&server);
    let mut c = client_for(&server);
    let first = c.add_task(FG, b"early", None, b"1").expect("task");
    let mut completes = 0;
    let mut added = None;
    c.run_tasks(|c, ev| {
        if ev.kind == EventKind::Complete {
            completes += 1;
            if added.is_none() {
                // Re-entrancy: add a task from inside the handler, free the finished one.
                added = Some(c.add_task(FG, b"early", None, b"2").expect("nested add"));
            }
        }
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(completes, 2);
    assert!(c.free_task(first).is_some());
    assert!(c.free_task(first).is_none(), "stale ids are refused");
    let added = added.expect("added");
    assert_eq!(c.task(added).expect("task").state(), TaskState::Finished);
    assert_eq!(c.task_ids(), vec![added]);
}

#[test]
fn coalesced_submissions_run_once() {
    let server = TestServer::start(&[]);
    let runs = Arc::new(AtomicUsize::new(0));
    let r2 = runs.clone();
    // The job waits for the test's go, given once both submissions are created: they coalesce
    // however slowly the machine runs.
    let (go, gate) = std::sync::mpsc::channel::<()>();
    let gate = std::sync::Mutex::new(gate);
    let _w = spawn_worker(&server.addr(), move |w| {
        w.add_function("slow", 0, move |ctx| {
            r2.fetch_add(1, Ordering::SeqCst);
            let _ = gate
                .lock()
                .expect("gate")
                .recv_timeout(Duration::from_secs(30));
            WorkResult::Complete(ctx.unique().to_vec())
        })
        .expect("register");
    });
    let mut a = client_for(&server);
    let mut b = client_for(&server);
    let ta = a.add_task(FG, b"slow", Some(b"same"), b"x").expect("a");
    let tb = b.add_task(FG, b"slow", Some(b"same"), b"x").expect("b");
    // Both submissions are in before the job can finish.
    assert_eq!(
        a.next_event().expect("a").expect("ev").kind,
        EventKind::Created
    );
    a.complete_event();
    assert_eq!(
        b.next_event().expect("b").expect("ev").kind,
        EventKind::Created
    );
    b.complete_event();
    assert_eq!(
        a.task(ta).expect("t").job_handle(),
        b.task(tb).expect("t").job_handle()
    );
    go.send(()).expect("release the job");
    for (c, t) in [(&mut a, ta), (&mut b, tb)] {
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
        assert_eq!(result, b"same");
        assert_eq!(c.task(t).expect("t").return_code(), ReturnCode::Success);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    // "#" hashes the workload: the same workload yields the same unique.
    let mut c = client_for(&server);
    let t1 = c.add_task(FG, b"slow", Some(b"#"), b"abc").expect("t");
    assert_eq!(c.task(t1).expect("t").unique(), b"634628250");
}

#[test]
fn thousands_of_tasks_and_parallel_clients() {
    let server = TestServer::start(&[]);
    let _w1 = busy_worker(&server);
    let _w2 = busy_worker(&server);
    let mut c = client_for(&server);
    let n = 3000;
    for i in 0..n {
        c.add_task(FG, b"early", None, format!("{i}").as_bytes())
            .expect("task");
    }
    let mut completes = 0;
    c.run_tasks(|c, ev| {
        if ev.kind == EventKind::Complete {
            completes += 1;
            // Free each task as soon as it is done, as FREE_TASKS does.
            assert!(c.free_task(ev.task).is_some());
        }
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(completes, n);
    assert!(!c.has_tasks());
    assert!(!c.has_active_tasks());

    let port = server.port;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::new();
                c.add_server("127.0.0.1", port).expect("add");
                c.set_timeout(10_000);
                for i in 0..200 {
                    let out = c
                        .do_job("stream", format!("{t}-{i}").as_bytes())
                        .expect("do");
                    assert_eq!(out, b"d1d2done");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("client thread");
    }
}
