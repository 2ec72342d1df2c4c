//! Epoch and reduce submissions, status tasks, and the wire form of what the client sends.

mod common;

use common::TestServer;
use gearman::client::{EventKind, Mode, Request};
use gearman::worker::{Callback, Worker};
use gearman::{Client, ReturnCode};

fn client_for(server: &TestServer) -> Client {
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    c.set_timeout(10_000);
    c
}

#[test]
fn epoch_job_due_now_is_assigned() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let h = c
        .submit_at(0, b"ep", Some(b"ep-1"), b"when")
        .expect("epoch");
    assert!(h.starts_with(b"H:"));
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", server.port).expect("add");
    w.register_with(b"ep", 0, Callback::None).expect("register");
    let job = w.grab_job(false).expect("job");
    assert_eq!(job.handle(), &h[..]);
    assert_eq!(job.unique(), b"ep-1");
    assert_eq!(job.workload(), b"when");
}

#[test]
fn reduce_job_carries_its_reducer() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let id = c
        .add_task(
            Request::Reduce {
                reducer: b"count".to_vec(),
                background: true,
            },
            b"map",
            Some(b"r-1"),
            b"a b c",
        )
        .expect("task");
    let ev = c.next_event().expect("event").expect("created");
    assert_eq!(ev.kind, EventKind::Created);
    assert!(ev.terminal);
    c.complete_event();
    assert_eq!(c.task(id).expect("t").return_code(), ReturnCode::Success);
    assert!(c.next_event().expect("done").is_none());
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", server.port).expect("add");
    w.register_with(b"map", 0, Callback::None)
        .expect("register");
    let job = w.grab_job(false).expect("job");
    assert_eq!(job.function_name(), b"map");
    assert_eq!(job.reducer(), b"count");
    assert_eq!(job.unique(), b"r-1");
    assert_eq!(job.workload(), b"a b c");
}

#[test]
fn status_tasks_report_through_events() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    let h = c
        .submit_background(
            gearman::client::Priority::Normal,
            b"st",
            Some(b"st-u"),
            b"x",
        )
        .expect("bg");
    let by_handle = c.add_status_task(&h, Mode::Events);
    let by_unique = c
        .add_status_unique_task(b"st-u", Mode::Events)
        .expect("unique task");
    assert_eq!(c.task(by_handle).expect("t").function_name(), &h[..]);
    assert_eq!(c.task(by_unique).expect("t").function_name(), b"st-u");
    let mut statuses = 0;
    c.run_tasks(|c, ev| {
        assert_eq!(ev.kind, EventKind::Status);
        let t = c.task(ev.task).expect("task");
        assert!(t.is_known());
        assert!(!t.is_running());
        statuses += 1;
        ReturnCode::Success
    })
    .expect("run");
    assert_eq!(statuses, 2);
    assert_eq!(c.task(by_unique).expect("t").client_count(), 0);
}

#[test]
fn wire_form_of_a_submission() {
    // A fake server shows the exact bytes of SUBMIT_JOB: fn\0unique\0workload.
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        let packet = |cmd: u32, payload: &[u8]| {
            let mut v = b"\0RES".to_vec();
            v.extend_from_slice(&cmd.to_be_bytes());
            v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            v.extend_from_slice(payload);
            v
        };
        // OPTION_REQ from set_server_option.
        while !got.ends_with(b"exceptions") {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(&packet(27, b"exceptions")).expect("write");
        got.clear();
        while !got.ends_with(b"payload") {
            let n = s.read(&mut buf).expect("read");
            assert!(n > 0);
            got.extend_from_slice(&buf[..n]);
        }
        s.write_all(&packet(8, b"H:fake:1")).expect("write");
        s.write_all(&packet(13, b"H:fake:1\0result"))
            .expect("write");
        got
    });
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.set_timeout(5000);
    c.enable_exceptions().expect("option");
    let out = c
        .do_job_with(
            gearman::client::Priority::Normal,
            b"fn",
            Some(b"uniq"),
            b"payload",
        )
        .expect("do");
    assert_eq!(out, b"result");
    let wire = t.join().expect("server");
    let mut expect = b"\0REQ".to_vec();
    expect.extend_from_slice(&7u32.to_be_bytes());
    expect.extend_from_slice(&15u32.to_be_bytes());
    expect.extend_from_slice(b"fn\0uniq\0payload");
    assert_eq!(wire, expect);
}

#[test]
fn server_error_ends_the_submission_it_answers() {
    let server = TestServer::start(&[]);
    let mut c = client_for(&server);
    c.submit_background(gearman::client::Priority::Normal, b"full", None, b"1")
        .expect("first fits");
    let mut admin = server.connect();
    assert_eq!(admin.admin_line("maxqueue full 1").trim_end(), "OK");
    let e = c
        .submit_background(gearman::client::Priority::Normal, b"full", None, b"2")
        .expect_err("queue full");
    // gearmand answers ERROR QUEUE_ERROR "Job queue is full".
    assert_eq!(e.code(), ReturnCode::QueueError);
    assert!(e.message().contains("QUEUE_ERROR"), "{}", e.message());
    // With tasks: the run loop returns the code and the task ends with it, without an event.
    let id = c
        .add_task(
            Request::Job {
                priority: gearman::client::Priority::Normal,
                background: true,
            },
            b"full",
            None,
            b"3",
        )
        .expect("task");
    let e = c.next_event().expect_err("queue full");
    assert_eq!(e.code(), ReturnCode::QueueError);
    assert_eq!(c.task(id).expect("t").return_code(), ReturnCode::QueueError);
    assert!(!c.has_active_tasks());
    assert_eq!(c.take_quiet_ends(), vec![id]);
    // The connection is still good.
    c.echo(b"ok").expect("echo");
}
