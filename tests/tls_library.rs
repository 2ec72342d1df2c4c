//! Our library against our server over TLS (Rust API): do, background, tasks, a worker,
//! 1 MB payloads, failover from a TLS server that dies, a non-blocking client, a client that
//! does not trust the server (it fails and sends no Gearman packet: checked on the wire), the
//! verification opt-out, unusable files, and large replies arriving back to back.

mod common;
mod tls_support;

use gearman::client::{EventKind, Mode, Priority, Request};
use gearman::net::tls::{TlsConfig, Verify};
use gearman::worker::GrabMode;
use gearman::{Client, ReturnCode};
use std::time::{Duration, Instant};
use tls_support::*;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn reversed(v: &[u8]) -> Vec<u8> {
    let mut r = v.to_vec();
    r.reverse();
    r
}

fn client(port: u16, tls: TlsConfig) -> Client {
    let mut c = Client::new();
    c.set_tls(Some(tls));
    c.set_timeout(20_000);
    c.add_server("localhost", port).expect("add server");
    c
}

#[test]
fn do_background_tasks_and_megabyte_payloads() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut cl = client(server.port, client_tls(&c));
    assert_eq!(cl.do_job("reverse", b"hello").expect("do"), b"olleh");
    let big = payload(1 << 20);
    assert_eq!(cl.do_job("reverse", &big).expect("do 1 MB"), reversed(&big));
    let handle = cl
        .submit_background(Priority::Low, b"reverse", None, b"later")
        .expect("background");
    assert!(handle.starts_with(b"H:"));
    // Several tasks in flight on one connection, results routed by handle.
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let w = vec![b'a' + i; 1000 + usize::from(i)];
        let id = cl
            .add_task(
                Request::Job {
                    priority: Priority::Normal,
                    background: false,
                },
                b"reverse",
                None,
                &w,
            )
            .expect("task");
        ids.push((id, w));
    }
    let mut done = 0;
    while let Some(ev) = cl.next_event().expect("run") {
        if ev.terminal {
            let t = cl.task(ev.task).expect("task");
            let (_, w) = ids.iter().find(|(id, _)| *id == ev.task).expect("ours");
            assert_eq!(t.data(), Some(&reversed(w)[..]));
            done += 1;
        }
        cl.complete_event();
    }
    assert_eq!(done, 5);
    // Admin text protocol over TLS on the same port.
    let mut admin = TlsAdmin::connect(server.port, &c).expect("admin");
    assert!(admin.list("status").contains("reverse\t"));
    assert_eq!(admin.line("version"), "OK 1.1.20+ds\n");
}

#[test]
fn non_blocking_client_waits_through_the_handshake() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut cl = client(server.port, client_tls(&c));
    cl.set_non_blocking(true);
    let id = cl
        .add_task_with(gearman::client::NewTask {
            request: Request::Job {
                priority: Priority::Normal,
                background: false,
            },
            function: b"reverse",
            unique: None,
            workload: b"non-blocking".to_vec(),
            mode: Mode::Collect,
            kind: gearman::client::TaskKind::AddTask,
        })
        .expect("task");
    let mut io_waits = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match cl.next_event_for(id) {
            Ok(None) => break,
            Ok(Some(_)) => cl.complete_event(),
            Err(e) if e.code() == ReturnCode::IoWait => {
                io_waits += 1;
                cl.wait().expect("wait");
            }
            Err(e) => panic!("non-blocking run: {e}"),
        }
        assert!(Instant::now() < deadline, "no result");
    }
    assert!(io_waits > 0, "a TLS connect cannot finish without waiting");
    let t = cl.task(id).expect("task");
    assert_eq!(t.result(), Some(&b"gnikcolb-non"[..]));
}

#[test]
fn failover_from_a_tls_server_that_died() {
    let c = TestCerts::generate();
    let first = TlsServer::start(&c, &[]);
    let second = TlsServer::start(&c, &[]);
    let _worker = ReverseWorker::start(
        &[first.port, second.port],
        Some(client_tls(&c)),
        GrabMode::All,
    );
    let mut cl = Client::new();
    cl.set_tls(Some(client_tls(&c)));
    cl.set_timeout(20_000);
    cl.add_server("127.0.0.1", second.port).expect("second");
    cl.add_server("127.0.0.1", first.port)
        .expect("first (tried first)");
    assert_eq!(cl.do_job("reverse", b"one").expect("first"), b"eno");
    drop(first);
    assert_eq!(cl.do_job("reverse", b"two").expect("failover"), b"owt");
}

/// A client that does not trust the server gets COULD_NOT_CONNECT with the reason, goes on to
/// the next server, and never sends a Gearman packet to the one it refused.
#[test]
fn untrusted_server_is_refused_before_any_packet() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let relay = Recorder::start(server.port);
    let wrong = TlsConfig::new().ca_file(&c.other_ca);
    let mut cl = Client::new();
    cl.set_tls(Some(wrong));
    cl.set_timeout(10_000);
    cl.add_server("127.0.0.1", relay.port).expect("server");
    let e = cl
        .do_job("reverse", b"secret")
        .expect_err("must not connect");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect, "{e}");
    assert!(e.message().contains("SSL failure"), "{e}");
    assert!(e.message().contains("UnknownIssuer"), "{e}");
    std::thread::sleep(Duration::from_millis(200));
    let wire = relay.recorded();
    assert!(!wire.is_empty(), "the relay saw the ClientHello");
    assert_eq!(wire[0], 0x16, "the first byte is a TLS handshake record");
    assert!(!contains(&wire, b"\0REQ"), "a Gearman request went out");
    assert!(!contains(&wire, b"secret"), "the workload went out");

    // With a trusted second server the same call succeeds there.
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut cl = Client::new();
    cl.set_tls(Some(TlsConfig::new().ca_file(&c.other_ca)));
    cl.set_timeout(10_000);
    cl.add_server("127.0.0.1", server.port)
        .expect("good server");
    cl.add_server("127.0.0.1", relay.port)
        .expect("refused server, tried first");
    // Both servers have the same certificate, so with the wrong CA both fail ...
    assert!(cl.do_job("reverse", b"x").is_err());
    // ... and with the right one the first is used.
    cl.set_tls(Some(client_tls(&c)));
    assert_eq!(cl.do_job("reverse", b"xy").expect("trusted"), b"yx");
}

/// A plain client never gets an answer from a TLS port, and a TLS client never falls back to
/// plain TCP against a plain server.
#[test]
fn no_plaintext_either_way() {
    let c = TestCerts::generate();
    let plain = common::TestServer::start(&[]);
    let mut cl = client(plain.port, client_tls(&c));
    let e = cl.do_job("reverse", b"x").expect_err("plain server");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect, "{e}");
    assert!(e.message().contains("SSL failure"), "{e}");
    let server = TlsServer::start(&c, &[]);
    let mut raw = std::net::TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    std::io::Write::write_all(&mut raw, b"status\n").expect("send");
    let mut answer = Vec::new();
    std::io::Read::read_to_end(&mut raw, &mut answer).expect("the server closes");
    // At most a TLS alert record (type 21), never an admin answer.
    assert!(
        answer.is_empty() || answer[0] == 0x15,
        "TLS port answered plain text: {answer:?}"
    );
}

/// Legacy certificates (CN only, self-signed, no subjectAltName) need the explicit opt-out.
#[test]
fn legacy_certificate_needs_the_opt_out() {
    let c = TestCerts::generate();
    let legacy = TlsServer::start_raw(
        &c,
        &[
            "--ssl",
            &format!("--ssl-certificate={}", c.legacy_cert.display()),
            &format!("--ssl-key={}", c.legacy_key.display()),
        ],
        &[],
        false,
    );
    let strict = TlsConfig::new().ca_file(&c.legacy_cert);
    let mut cl = client(legacy.port, strict);
    let e = cl.echo(b"ping").expect_err("full verification refuses it");
    assert_eq!(e.code(), ReturnCode::CouldNotConnect, "{e}");
    let lax = TlsConfig::new()
        .ca_file(&c.legacy_cert)
        .verify(Verify::None);
    let mut cl = client(legacy.port, lax);
    cl.echo(b"ping").expect("opt-out connects");
    let log = cl.error_state_mut().take_log().join("\n");
    assert!(log.contains("verification is off"), "no warning: {log}");
}

#[test]
fn unusable_files_are_invalid_argument_naming_them() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let missing = c.dir.join("nope.pem");
    let mut cl = client(server.port, TlsConfig::new().ca_file(&missing));
    let e = cl.do_job("reverse", b"x").expect_err("bad CA");
    assert_eq!(e.code(), ReturnCode::InvalidArgument);
    assert!(e.message().contains("nope.pem"), "{e}");
    let mut w = gearman::Worker::new().expect("worker");
    w.set_tls(Some(
        TlsConfig::new()
            .ca_file(&c.ca)
            .certificate(&c.client_cert)
            .key_file(&c.server_key),
    ));
    w.add_server("127.0.0.1", server.port).expect("server");
    w.add_function(
        "f",
        0,
        |_| gearman::worker::WorkResult::Complete(Vec::new()),
    )
    .expect("function");
    let e = w.grab_job(false).expect_err("mismatched key");
    assert_eq!(e.code(), ReturnCode::InvalidArgument);
    assert!(e.message().contains("server.key"), "{e}");
}

/// Large replies that arrive back to back: a read stops once the reply at the front is
/// complete, leaving what follows decrypted or staged inside the TLS session, where a poll on
/// the socket cannot see it. The client takes it from there without waiting (a wait would run
/// into the 5 s timeout and fail the task).
#[test]
fn back_to_back_large_replies_are_not_left_in_the_session() {
    use common::proto::cmd::*;
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let mut w = TlsAdmin::connect(server.port, &c).expect("raw worker");
    w.send_packet(CAN_DO, &[b"chunks"]);
    let chunks: Vec<Vec<u8>> = (0..4u8)
        .map(|i| (0..100_003).map(|j| (j % 251) as u8 ^ i).collect())
        .collect();
    let (go_tx, go) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        // Until the client's submission is there.
        let assigned = loop {
            w.send_packet(GRAB_JOB, &[]);
            match w.recv_packet() {
                (JOB_ASSIGN, assigned) => break assigned,
                (NO_JOB, _) => std::thread::sleep(Duration::from_millis(10)),
                (kind, _) => panic!("unexpected packet type {kind}"),
            }
        };
        let handle = assigned.split(|&b| b == 0).next().expect("handle").to_vec();
        // All results in one write: they reach the client together.
        let mut burst = Vec::new();
        for chunk in &chunks {
            burst.extend(common::packet(common::REQ, WORK_DATA, &[&handle, chunk]));
        }
        burst.extend(common::packet(
            common::REQ,
            WORK_COMPLETE,
            &[&handle, b"end"],
        ));
        go.recv_timeout(Duration::from_secs(20)).expect("go");
        w.send(&burst);
        (w, chunks)
    });
    let mut cl = client(server.port, client_tls(&c));
    cl.set_timeout(5_000);
    let id = cl
        .add_task(
            Request::Job {
                priority: Priority::Normal,
                background: false,
            },
            b"chunks",
            None,
            b"go",
        )
        .expect("task");
    let mut got = Vec::new();
    let mut done = false;
    while let Some(ev) = cl.next_event().expect("events without a timeout") {
        assert_eq!(ev.task, id);
        if ev.kind == EventKind::Created {
            // The whole burst reaches the socket before the client reads any of it: the last
            // replies then end up in the session with nothing left in the socket.
            go_tx.send(()).expect("worker waiting");
            std::thread::sleep(Duration::from_millis(300));
        }
        if let Some(d) = cl.task(ev.task).and_then(|t| t.data()) {
            got.extend_from_slice(d);
        }
        done |= ev.terminal;
        cl.complete_event();
    }
    assert!(done, "no WORK_COMPLETE");
    let (_w, chunks) = worker.join().expect("worker");
    let mut expect = chunks.concat();
    expect.extend_from_slice(b"end");
    assert!(
        got == expect,
        "results damaged: {} bytes, expected {}",
        got.len(),
        expect.len()
    );
}
