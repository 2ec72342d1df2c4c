//! Workers and clients with several servers, and servers that send garbage.

mod common;
mod core_support;

use common::TestServer;
use core_support::{spawn_worker, wait_for};
use gearman::client::Priority;
use gearman::worker::{Callback, WorkResult, Worker};
use gearman::{Client, ReturnCode};
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn a_worker_serves_every_server_and_a_client_uses_the_newest() {
    let a = TestServer::start(&[]);
    let b = TestServer::start(&[]);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let _w = spawn_worker(&format!("{},{}", a.addr(), b.addr()), move |w| {
        w.add_function("multi", 0, move |ctx| {
            s2.lock().expect("lock").push(ctx.workload().to_vec());
            WorkResult::Complete(Vec::new())
        })
        .expect("register");
    });
    for (server, tag) in [(&a, b"on-a"), (&b, b"on-b")] {
        let mut c = Client::new();
        c.add_server("127.0.0.1", server.port).expect("add");
        c.submit_background(Priority::Normal, b"multi", None, tag)
            .expect("bg");
    }
    assert!(wait_for(Duration::from_secs(5), || seen
        .lock()
        .expect("lock")
        .len()
        == 2));
    let mut got = seen.lock().expect("lock").clone();
    got.sort();
    assert_eq!(got, [b"on-a".to_vec(), b"on-b".to_vec()]);

    // A client with both servers sends everything to the one added last.
    let mut c = Client::new();
    c.add_server("127.0.0.1", a.port).expect("a");
    c.add_server("127.0.0.1", b.port).expect("b");
    assert_eq!(c.servers()[0].1, b.port);
    c.submit_background(Priority::Normal, b"nobody", Some(b"where"), b"x")
        .expect("bg");
    let mut admin_b = b.connect();
    let status = admin_b.admin_list("status");
    assert!(status.contains("nobody\t1\t0\t0"), "{status}");
    let mut admin_a = a.connect();
    assert!(!admin_a.admin_list("status").contains("nobody"));
}

/// A fake server that answers the first request with `reply` (raw bytes).
fn fake_server(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(reply);
        std::thread::sleep(Duration::from_millis(200));
    });
    (port, t)
}

#[test]
fn garbage_from_a_server_is_an_error_not_a_crash() {
    let (port, t) = fake_server(b"HTTP/1.1 400 Bad Request\r\n\r\n");
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.set_timeout(2000);
    let e = c.echo(b"x").expect_err("bad magic");
    assert_eq!(e.code(), ReturnCode::InvalidMagic);
    t.join().expect("fake");

    // Unknown packet type 99.
    let (port, t) = fake_server(b"\0RES\0\0\0\x63\0\0\0\0");
    let mut c = Client::new();
    c.add_server("127.0.0.1", port).expect("add");
    c.set_timeout(2000);
    let e = c
        .submit_background(Priority::Normal, b"f", None, b"x")
        .expect_err("bad command");
    assert_eq!(e.code(), ReturnCode::InvalidCommand);
    t.join().expect("fake");

    // A worker gets an answer missing its fields.
    let (port, t) = fake_server(b"\0RES\0\0\0\x28\0\0\0\x03abc");
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", port).expect("add");
    w.register_with(b"f", 0, Callback::None).expect("register");
    w.set_timeout(500);
    let e = w.grab_job(false).expect_err("bad packet");
    assert_eq!(e.code(), ReturnCode::InvalidPacket, "{e}");
    t.join().expect("fake");
}

#[test]
fn waits_with_nothing_pending() {
    let server = TestServer::start(&[]);
    let mut c = Client::new();
    c.add_server("127.0.0.1", server.port).expect("add");
    assert_eq!(c.wait().expect_err("idle").code(), ReturnCode::NoActiveFds);
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", server.port).expect("add");
    // No connection yet: the wake-up pipe alone does not count.
    assert_eq!(w.wait().expect_err("idle").code(), ReturnCode::NoActiveFds);
    w.echo(b"x").expect("echo connects");
    w.set_timeout(100);
    assert_eq!(w.wait().expect_err("quiet").code(), ReturnCode::Timeout);
    w.interrupt().expect("interrupt");
    assert_eq!(
        w.wait().expect_err("interrupted").code(),
        ReturnCode::ShutdownGraceful
    );
}

#[test]
fn worker_identifier_namespace_and_registrations_on_the_wire() {
    let server = TestServer::start(&[]);
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", server.port).expect("add");
    w.set_namespace(Some(b"ns:"));
    w.register_with(b"plain", 0, Callback::None).expect("plain");
    w.register_with(b"timed", 5000, Callback::None)
        .expect("timed");
    assert!(
        w.function_exists(b"plain"),
        "compared without the namespace"
    );
    assert!(!w.function_exists(b"ns:plain"));
    assert!(w.registry().has_changes());
    w.set_identifier(b"worker-42").expect("id");
    assert_eq!(
        w.grab_job(false).expect_err("idle").code(),
        ReturnCode::NoJobs
    );
    assert!(!w.registry().has_changes());
    let mut admin = server.connect();
    let workers = admin.admin_list("workers");
    let line = workers
        .lines()
        .find(|l| l.contains("worker-42"))
        .unwrap_or_else(|| panic!("{workers}"));
    assert!(
        line.contains("ns:plain") && line.contains("ns:timed"),
        "{line}"
    );
    w.unregister(b"plain").expect("unregister");
    assert_eq!(
        w.grab_job(false).expect_err("idle").code(),
        ReturnCode::NoJobs
    );
    let workers = admin.admin_list("workers");
    let line = workers
        .lines()
        .find(|l| l.contains("worker-42"))
        .unwrap_or_else(|| panic!("{workers}"));
    assert!(
        !line.contains("ns:plain") && line.contains("ns:timed"),
        "{line}"
    );
}
