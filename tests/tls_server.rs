//! Our server with `--ssl`: handshakes never block the loop (a silent client delays nobody and
//! is dropped after the handshake timeout), mutual TLS behind `--ssl-verify-clients`, refusal to
//! start with unusable files, `GEARMAND_*` over the flags, SIGHUP reloading the certificate
//! without dropping established connections; and the payload path over TLS: a large payload
//! shared by coalesced clients reaches each intact, a peer that stops reading is dropped at the
//! output cap; `-r http` stays plain next to a TLS job port.

mod common;
mod tls_support;

use common::proto::cmd::*;
use gearman::worker::GrabMode;
use gearman::Client;
use std::io::Read;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};
use tls_support::*;

#[test]
fn a_silent_client_delays_nobody_and_is_dropped_after_the_timeout() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &["--ssl-handshake-timeout=2"]);
    // Connects and sends nothing (no ClientHello).
    let mut silent = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    // A half handshake: a TLS client that stops after its ClientHello.
    let half = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let tls = client_tls(&c).build().expect("tls");
    let mut conn = tls
        .connect("localhost", half.peer_addr().expect("peer").ip())
        .expect("session");
    let mut w = &half;
    conn.write_tls(&mut w).expect("ClientHello");
    // Meanwhile others are served as usual.
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut cl = Client::new();
    cl.set_tls(Some(client_tls(&c)));
    cl.set_timeout(10_000);
    cl.add_server("localhost", server.port).expect("server");
    for i in 0..20 {
        let w = format!("job {i}");
        let want: Vec<u8> = w.bytes().rev().collect();
        assert_eq!(cl.do_job("reverse", w.as_bytes()).expect("do"), want);
    }
    // The silent one is closed once the timeout passed (2 s; allow for a busy machine).
    silent
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let started = Instant::now();
    let n = silent.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n, 0,
        "the server sent something to a client that said nothing"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(
        server.log().contains("no TLS handshake within 2 s"),
        "{}",
        server.log()
    );
}

#[test]
fn mutual_tls_requires_a_client_certificate() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &["--ssl-verify-clients"]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut with = Client::new();
    with.set_tls(Some(client_tls(&c)));
    with.set_timeout(10_000);
    with.add_server("localhost", server.port).expect("server");
    assert_eq!(
        with.do_job("reverse", b"ab").expect("with a certificate"),
        b"ba"
    );
    let mut without = Client::new();
    // No certificate named, and no default one on a test machine.
    without.set_tls(Some(gearman::net::tls::TlsConfig::new().ca_file(&c.ca)));
    without.set_timeout(10_000);
    without
        .add_server("localhost", server.port)
        .expect("server");
    assert!(without.do_job("reverse", b"ab").is_err());
}

#[test]
fn refuses_to_start_with_unusable_files() {
    let c = TestCerts::generate();
    let flag = |name: &str, p: &Path| format!("--{name}={}", p.display());
    let missing = c.dir.join("missing.pem");
    let (code, err) = run_server_expecting_exit(
        &[
            "--ssl",
            &flag("ssl-certificate", &missing),
            &flag("ssl-key", &c.server_key),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.pem"), "{err}");
    let (code, err) = run_server_expecting_exit(
        &[
            "--ssl",
            &flag("ssl-certificate", &c.server_cert),
            &flag("ssl-key", &c.client_key),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("client.key") && err.contains("is not the key of the certificate"),
        "{err}"
    );
    // The environment wins over the flags, as in gearmand.
    let (code, err) = run_server_expecting_exit(
        &[
            "--ssl",
            &flag("ssl-certificate", &c.server_cert),
            &flag("ssl-key", &c.server_key),
        ],
        &[("GEARMAND_SERVER_KEY", &missing)],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("missing.pem"), "{err}");
    // mTLS needs the CA file.
    let (code, err) = run_server_expecting_exit(
        &[
            "--ssl",
            "--ssl-verify-clients",
            &flag("ssl-ca-file", &missing),
            &flag("ssl-certificate", &c.server_cert),
            &flag("ssl-key", &c.server_key),
        ],
        &[],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("CA certificate file") && err.contains("missing.pem"),
        "{err}"
    );
}

#[test]
fn environment_names_the_files() {
    let c = TestCerts::generate();
    let server = TlsServer::start_raw(
        &c,
        &[
            "--ssl",
            "--ssl-certificate=/nonexistent",
            "--ssl-key=/nonexistent",
        ],
        &[
            ("GEARMAND_SERVER_PEM", &c.server_cert),
            ("GEARMAND_SERVER_KEY", &c.server_key),
        ],
        true,
    );
    let mut admin = TlsAdmin::connect(server.port, &c).expect("admin");
    assert_eq!(admin.line("version"), "OK 1.1.20+ds\n");
}

/// SIGHUP loads the certificate again: new connections get the new one, an established
/// connection stays up and keeps working.
#[test]
fn sighup_reloads_the_certificate_and_keeps_connections() {
    let first = TestCerts::generate();
    let dir = first.dir.join("live");
    std::fs::create_dir_all(&dir).expect("dir");
    let (cert, key) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::copy(&first.server_cert, &cert).expect("copy");
    std::fs::copy(&first.server_key, &key).expect("copy");
    let server = TlsServer::start_raw(
        &first,
        &[
            "--ssl",
            &format!("--ssl-certificate={}", cert.display()),
            &format!("--ssl-key={}", key.display()),
        ],
        &[],
        true,
    );
    let mut established = TlsAdmin::connect(server.port, &first).expect("admin");
    assert_eq!(established.line("version"), "OK 1.1.20+ds\n");
    // A certificate from another CA replaces the files.
    let second = TestCerts::generate();
    std::fs::copy(&second.server_cert, &cert).expect("copy");
    std::fs::copy(&second.server_key, &key).expect("copy");
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("TLS certificate reloaded") {
        assert!(Instant::now() < deadline, "no reload: {}", server.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        TlsAdmin::connect(server.port, &second)
            .map(|mut a| a.line("version"))
            .is_ok_and(|l| l == "OK 1.1.20+ds\n"),
        "new connections get the new certificate"
    );
    let mut old = TlsAdmin::connect(server.port, &first).expect("tcp");
    let refused = old.try_line("version");
    assert!(refused.is_err(), "old CA still accepted: {refused:?}");
    assert_eq!(
        established.line("version"),
        "OK 1.1.20+ds\n",
        "the established connection was dropped"
    );
    // A broken file on reload keeps the current certificate.
    std::fs::write(&key, "garbage").expect("write");
    server.signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server.log().contains("TLS reload failed") {
        assert!(
            Instant::now() < deadline,
            "no failure logged: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut again = TlsAdmin::connect(server.port, &second).expect("admin");
    assert_eq!(again.line("version"), "OK 1.1.20+ds\n");
}

/// A megabyte job coalesced by several TLS clients, and a worker's megabyte results: the
/// server sends the same shared slices into each client's session.
#[test]
fn a_large_payload_shared_by_coalesced_tls_clients_reaches_each_intact() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    // Larger than a TLS record and a read, with NULs, not a multiple of either.
    let data: Vec<u8> = (0..(1usize << 20) + 77)
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    let partial: Vec<u8> = data[..300_001].iter().rev().copied().collect();
    let result: Vec<u8> = data.iter().map(|b| b ^ 0x5a).collect();
    let mut w = TlsAdmin::connect(server.port, &c).expect("worker");
    w.send_packet(CAN_DO, &[b"big"]);
    let mut clients: Vec<TlsAdmin> = (0..3)
        .map(|_| TlsAdmin::connect(server.port, &c).expect("client"))
        .collect();
    let mut handle = None;
    for cl in clients.iter_mut() {
        cl.send_packet(SUBMIT_JOB, &[b"big", b"same", &data]);
        let (kind, h) = cl.recv_packet();
        assert_eq!(kind, JOB_CREATED);
        assert_eq!(handle.get_or_insert_with(|| h.clone()), &h, "coalesced");
    }
    let handle = handle.expect("handle");
    w.send_packet(GRAB_JOB, &[]);
    let (kind, assigned) = w.recv_packet();
    assert_eq!(kind, JOB_ASSIGN);
    let expect_assign = [&handle[..], b"\0big\0", &data].concat();
    assert!(assigned == expect_assign, "the worker's payload is damaged");
    w.send_packet(WORK_DATA, &[&handle, &partial]);
    w.send_packet(WORK_COMPLETE, &[&handle, &result]);
    for (i, cl) in clients.iter_mut().enumerate() {
        for (want_kind, want) in [(WORK_DATA, &partial), (WORK_COMPLETE, &result)] {
            let (kind, payload) = cl.recv_packet();
            assert_eq!(kind, want_kind, "client {i}");
            assert!(
                payload == [&handle[..], b"\0", want].concat(),
                "client {i}: packet type {kind} damaged"
            );
        }
    }
}

/// A TLS client that submits jobs with megabyte results and never reads is disconnected at
/// the per-connection output cap (128 MiB), like a plaintext one; others are served.
#[test]
fn a_tls_client_that_stops_reading_is_dropped_at_the_output_cap() {
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &["--max-packet-size", "1048576"]);
    let _worker = ReverseWorker::start_with(
        &[server.port],
        Some(client_tls(&c)),
        GrabMode::All,
        "amplify",
        |_| vec![b'x'; (1 << 20) - 64],
    );
    // 160 MiB of results, more than the cap plus what the socket and the session buffer.
    let mut stalled = TlsAdmin::connect(server.port, &c).expect("stalled client");
    let mut burst = Vec::new();
    for i in 0..160 {
        burst.extend(common::packet(
            common::REQ,
            SUBMIT_JOB,
            &[b"amplify", format!("s{i}").as_bytes(), b"x"],
        ));
    }
    stalled.send(&burst);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !server.log().contains("does not read its output") {
        assert!(
            Instant::now() < deadline,
            "the stalled TLS reader was not disconnected: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut other = Client::new();
    other.set_tls(Some(client_tls(&c)));
    other.set_timeout(30_000);
    other.add_server("localhost", server.port).expect("server");
    let got = other.do_job("amplify", b"y").expect("other client");
    assert_eq!(got.len(), (1 << 20) - 64);
    drop(stalled);
}

/// `-r http` on a `--ssl` server stays plain HTTP (gearmand's HTTP plugin has no TLS), while
/// its job port speaks TLS only; a job submitted over HTTP reaches a TLS worker.
#[test]
fn the_http_protocol_stays_plain_on_a_tls_server() {
    let c = TestCerts::generate();
    let http_port = common::free_port();
    let http_arg = format!("--http-port={http_port}");
    let server = TlsServer::start(&c, &["-r", "http", &http_arg]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut admin = TlsAdmin::connect(server.port, &c).expect("admin");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !admin.list("status").contains("reverse\t") {
        assert!(Instant::now() < deadline, "the worker did not register");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut http = TcpStream::connect(("127.0.0.1", http_port)).expect("HTTP port");
    http.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    std::io::Write::write_all(
        &mut http,
        b"POST /reverse HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
    )
    .expect("request");
    let mut reply = Vec::new();
    http.read_to_end(&mut reply).expect("reply");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.0 200"), "{reply}");
    assert!(reply.ends_with("\r\n\r\nolleh"), "{reply}");
}
