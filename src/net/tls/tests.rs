use super::test_certs::TestCerts;
use super::*;
use crate::net::buffer::Buffer;
use std::io::{self, IoSlice};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn socket_pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let c = TcpStream::connect(l.local_addr().expect("addr")).expect("connect");
    let (s, _) = l.accept().expect("accept");
    c.set_nonblocking(true).expect("nonblocking");
    s.set_nonblocking(true).expect("nonblocking");
    (c, s)
}

fn server_config(certs: &TestCerts, verify_clients: bool) -> Arc<rustls::ServerConfig> {
    ServerTlsConfig {
        ca_file: certs.ca.clone(),
        certificate: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        verify_clients,
    }
    .build()
    .expect("server config")
}

fn client(config: TlsConfig) -> ClientTls {
    config.build().expect("client config")
}

struct Ends {
    c: TlsStream,
    cs: TcpStream,
    cin: Buffer,
    s: TlsStream,
    ss: TcpStream,
    sin: Buffer,
}

/// Runs both handshakes alternately until both are done; the error of the side that failed.
fn connect(client: &ClientTls, host: &str, server: &Arc<rustls::ServerConfig>) -> io::Result<Ends> {
    let (cs, ss) = socket_pair();
    let mut e = Ends {
        c: TlsStream::new(client.connect(host, LOCAL).expect("client session")),
        cs,
        cin: Buffer::new(),
        s: TlsStream::new(accept(server).expect("server session")),
        ss,
        sin: Buffer::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c_done = e.c.handshake(&mut e.cs)?;
        let s_done = e.s.handshake(&mut e.ss)?;
        if c_done && s_done {
            return Ok(e);
        }
        assert!(Instant::now() < deadline, "handshake did not finish");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Sends `data` from one end and reads it at the other, both non-blocking.
fn transfer(
    tx: &mut TlsStream,
    txs: &mut TcpStream,
    rx: &mut TlsStream,
    rxs: &mut TcpStream,
    rin: &mut Buffer,
    data: &[u8],
) {
    let mut sent = 0;
    let deadline = Instant::now() + Duration::from_secs(20);
    while rin.len() < data.len() {
        if sent < data.len() {
            match tx.write_plain(txs, &[IoSlice::new(&data[sent..])]) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("write: {e}"),
            }
        } else {
            tx.flush(txs).expect("flush");
        }
        match rx.read_plain(rxs, rin, 1 << 20) {
            Ok(0) => panic!("closed early"),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("read: {e}"),
        }
        assert!(Instant::now() < deadline, "transfer stalled");
    }
    assert_eq!(rin.as_slice(), data);
    rin.consume(data.len());
}

#[test]
fn verified_session_moves_a_megabyte_each_way_and_closes_cleanly() {
    let certs = TestCerts::generate();
    let server = server_config(&certs, false);
    let tls = client(TlsConfig::new().ca_file(&certs.ca));
    for host in ["localhost", "127.0.0.1"] {
        let mut e = connect(&tls, host, &server).expect("handshake");
        assert_eq!(e.c.protocol(), Some(rustls::ProtocolVersion::TLSv1_3));
        let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        transfer(&mut e.c, &mut e.cs, &mut e.s, &mut e.ss, &mut e.sin, &big);
        transfer(&mut e.s, &mut e.ss, &mut e.c, &mut e.cs, &mut e.cin, &big);
        e.c.close(&mut e.cs);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match e.s.read_plain(&mut e.ss, &mut e.sin, 1 << 20) {
                Ok(0) => break,
                Ok(n) => panic!("{n} bytes after close_notify"),
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}"),
            }
            assert!(Instant::now() < deadline, "close_notify not seen");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn tls_1_2_peers_are_served() {
    let certs = TestCerts::generate();
    let server = server_config(&certs, false);
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certs("CA certificate", &certs.ca).expect("ca") {
        roots.add(c).expect("root");
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("session");
    let (mut cs, mut ss) = socket_pair();
    let (mut c, mut s) = (
        TlsStream::new(conn),
        TlsStream::new(accept(&server).expect("s")),
    );
    let mut sin = Buffer::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(c.handshake(&mut cs).expect("client") & s.handshake(&mut ss).expect("server")) {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(s.protocol(), Some(rustls::ProtocolVersion::TLSv1_2));
    transfer(
        &mut c,
        &mut cs,
        &mut s,
        &mut ss,
        &mut sin,
        b"\0REQ\0\0\0\x10\0\0\0\0",
    );
}

fn assert_tls_failure(r: io::Result<Ends>, needle: &str) {
    match r {
        Ok(_) => panic!("handshake succeeded; expected {needle}"),
        Err(e) => {
            assert!(is_tls_error(&e), "not a TLS error: {e}");
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
    }
}

#[test]
fn a_server_outside_the_trusted_ca_or_name_is_refused() {
    let certs = TestCerts::generate();
    let server = server_config(&certs, false);
    let wrong = client(TlsConfig::new().ca_file(&certs.other_ca));
    assert_tls_failure(connect(&wrong, "localhost", &server), "UnknownIssuer");
    let right = client(TlsConfig::new().ca_file(&certs.ca));
    assert_tls_failure(
        connect(&right, "gearman.example", &server),
        "not valid for name",
    );
}

#[test]
fn legacy_certificates_need_the_opt_out() {
    let certs = TestCerts::generate();
    let legacy = ServerTlsConfig {
        ca_file: certs.legacy_cert.clone(),
        certificate: certs.legacy_cert.clone(),
        key_file: certs.legacy_key.clone(),
        verify_clients: false,
    }
    .build()
    .expect("legacy server");
    let strict = client(TlsConfig::new().ca_file(&certs.legacy_cert));
    assert!(connect(&strict, "localhost", &legacy).is_err());
    // The opt-out needs no CA file at all (the default path does not exist here either way).
    let lax = client(
        TlsConfig::new()
            .ca_file(&certs.legacy_cert)
            .verify(Verify::None),
    );
    assert_eq!(lax.verify(), Verify::None);
    let mut e = connect(&lax, "localhost", &legacy).expect("opt-out accepts");
    transfer(
        &mut e.c, &mut e.cs, &mut e.s, &mut e.ss, &mut e.sin, b"hello",
    );
}

#[test]
fn mutual_tls_requires_a_client_certificate_from_the_ca() {
    let certs = TestCerts::generate();
    let server = server_config(&certs, true);
    // No certificate named, and no default one on a test machine: none is offered.
    let without = client(TlsConfig::new().ca_file(&certs.ca));
    assert!(connect(&without, "localhost", &server).is_err());
    let with = client(
        TlsConfig::new()
            .ca_file(&certs.ca)
            .certificate(&certs.client_cert)
            .key_file(&certs.client_key),
    );
    let e = connect(&with, "localhost", &server).expect("mutual TLS");
    assert!(e.s.peer_certificates().is_some_and(|c| !c.is_empty()));
}

fn build_error(config: TlsConfig) -> String {
    config.build().expect_err("must fail")
}

#[test]
fn unusable_files_are_named_in_the_error() {
    let certs = TestCerts::generate();
    let missing = certs.dir.join("missing.pem");
    let e = build_error(TlsConfig::new().ca_file(&missing));
    assert!(
        e.contains("CA certificate file") && e.contains("missing.pem"),
        "{e}"
    );
    let e = build_error(
        TlsConfig::new()
            .ca_file(&certs.ca)
            .certificate(&certs.client_cert)
            .key_file(&missing),
    );
    assert!(
        e.contains("private key file") && e.contains("missing.pem"),
        "{e}"
    );
    let e = build_error(
        TlsConfig::new()
            .ca_file(&certs.ca)
            .certificate(&certs.client_cert)
            .key_file(&certs.server_key),
    );
    assert!(e.contains("server.key") && e.contains("client.pem"), "{e}");
    // A key file given as the CA: no certificate in it.
    let e = build_error(TlsConfig::new().ca_file(&certs.client_key));
    assert!(
        e.contains("no PEM certificate") && e.contains("client.key"),
        "{e}"
    );

    let server = |cert: &Path, key: &Path| {
        ServerTlsConfig {
            ca_file: certs.ca.clone(),
            certificate: cert.to_path_buf(),
            key_file: key.to_path_buf(),
            verify_clients: false,
        }
        .build()
        .expect_err("must fail")
    };
    let e = server(&missing, &certs.server_key);
    assert!(
        e.contains("certificate file") && e.contains("missing.pem"),
        "{e}"
    );
    let e = server(&certs.server_cert, &certs.client_key);
    assert!(e.contains("is not the key of the certificate"), "{e}");
    let encrypted = certs.dir.join("encrypted.key");
    std::fs::write(
        &encrypted,
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
    )
    .expect("write");
    let e = server(&certs.server_cert, &encrypted);
    assert!(
        e.contains("encrypted") && e.contains("encrypted.key"),
        "{e}"
    );
    let empty = certs.dir.join("empty.key");
    std::fs::write(&empty, "").expect("write");
    let e = server(&certs.server_cert, &empty);
    assert!(e.contains("no PEM private key"), "{e}");
    let e = ServerTlsConfig {
        ca_file: missing.clone(),
        certificate: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        verify_clients: true,
    }
    .build()
    .expect_err("mTLS needs the CA");
    assert!(
        e.contains("CA certificate file") && e.contains("missing.pem"),
        "{e}"
    );
}

#[test]
fn verification_setting_from_the_environment_text() {
    assert_eq!(client::parse_verify(""), Ok(Verify::Full));
    assert_eq!(client::parse_verify("FULL"), Ok(Verify::Full));
    assert_eq!(client::parse_verify("none"), Ok(Verify::None));
    let e = client::parse_verify("off").expect_err("unknown value");
    assert!(e.contains("GEARMAN_TLS_VERIFY"), "{e}");
}

/// One direction of an in-memory socket pair: bytes written by one end wait here for the
/// other; a reader of an empty pipe gets WouldBlock, a writer of a full one too.
type Pipe = std::rc::Rc<std::cell::RefCell<std::collections::VecDeque<u8>>>;

/// A non-blocking in-memory socket: reads from `rx`, writes to `tx` up to `cap` bytes waiting.
struct MemSock {
    rx: Pipe,
    tx: Pipe,
    cap: usize,
}

fn mem_pair(cap: usize) -> (MemSock, MemSock) {
    let (a, b) = (Pipe::default(), Pipe::default());
    (
        MemSock {
            rx: a.clone(),
            tx: b.clone(),
            cap,
        },
        MemSock { rx: b, tx: a, cap },
    )
}

impl io::Read for MemSock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut rx = self.rx.borrow_mut();
        if rx.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(rx.len());
        for (dst, src) in buf.iter_mut().zip(rx.drain(..n)) {
            *dst = src;
        }
        Ok(n)
    }
}

impl io::Write for MemSock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut tx = self.tx.borrow_mut();
        let n = buf.len().min(self.cap - tx.len());
        if n == 0 && !buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        tx.extend(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A client and a server session over an in-memory pair, handshake done.
fn mem_sessions(cap: usize) -> (TlsStream, MemSock, TlsStream, MemSock) {
    let certs = TestCerts::generate();
    let server = server_config(&certs, false);
    let tls = client(TlsConfig::new().ca_file(&certs.ca));
    let (mut cs, mut ss) = mem_pair(cap);
    let mut c = TlsStream::new(tls.connect("localhost", LOCAL).expect("client"));
    let mut s = TlsStream::new(accept(&server).expect("server"));
    for _ in 0..20 {
        let c_done = c.handshake(&mut cs).expect("client handshake");
        if s.handshake(&mut ss).expect("server handshake") && c_done {
            return (c, cs, s, ss);
        }
    }
    panic!("handshake did not finish");
}

/// The read(2) contract the server's edge-triggered loop relies on: a read returns less than
/// it was offered only when the socket is drained and nothing decrypted is left behind.
#[test]
fn a_short_plaintext_read_means_drained() {
    let (mut c, mut cs, mut s, mut ss) = mem_sessions(usize::MAX);
    let data: Vec<u8> = (0..300_007u32).map(|i| (i % 253) as u8).collect();
    // Several records and writes, all waiting in the socket before the server reads.
    for part in data.chunks(70_000) {
        assert_eq!(
            c.write_plain(&mut cs, &[IoSlice::new(part)])
                .expect("write"),
            part.len()
        );
    }
    assert!(!c.wants_write());
    let mut got = bytes::BytesMut::with_capacity(data.len());
    loop {
        let n = s
            .read_plain(&mut ss, &mut got, 1000)
            .unwrap_or_else(|e| panic!("read after {}: {e}", got.len()));
        assert!(n > 0);
        if n < 1000 {
            break;
        }
    }
    assert_eq!(&got[..], &data[..]);
    let e = s.read_plain(&mut ss, &mut got, 1000).expect_err("drained");
    assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
}

/// Data the client sends right after its last handshake flight reaches the server's first
/// read, without a new socket event.
#[test]
fn data_behind_the_handshake_waits_for_the_first_read() {
    let certs = TestCerts::generate();
    let server = server_config(&certs, false);
    let tls = client(TlsConfig::new().ca_file(&certs.ca));
    let (mut cs, mut ss) = mem_pair(usize::MAX);
    let mut c = TlsStream::new(tls.connect("localhost", LOCAL).expect("client"));
    let mut s = TlsStream::new(accept(&server).expect("server"));
    // ClientHello; ServerHello..Finished; the client is done (TLS 1.3) and sends at once.
    assert!(!c.handshake(&mut cs).expect("c1"));
    assert!(!s.handshake(&mut ss).expect("s1"));
    assert!(c.handshake(&mut cs).expect("c2"));
    c.write_plain(&mut cs, &[IoSlice::new(b"first request")])
        .expect("write");
    assert!(s.handshake(&mut ss).expect("s2"));
    let mut got = Buffer::new();
    assert_eq!(s.read_plain(&mut ss, &mut got, 1 << 16).expect("read"), 13);
    assert_eq!(got.as_slice(), b"first request");
}

/// The writev(2) contract: fewer bytes accepted than given only when the socket is full;
/// what was accepted may wait encrypted in the session until the socket takes it.
#[test]
fn a_short_plaintext_write_means_the_socket_is_full() {
    let (mut c, mut cs, mut s, mut ss) = mem_sessions(100_000);
    let head = [7u8; 12];
    let payload: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    let total = head.len() + payload.len();
    let mut sent = 0;
    let mut got = bytes::BytesMut::with_capacity(total);
    while sent < total || c.wants_write() {
        if sent < total {
            let rest = match sent.checked_sub(head.len()) {
                None => vec![IoSlice::new(&head[sent..]), IoSlice::new(&payload)],
                Some(p) => vec![IoSlice::new(&payload[p..])],
            };
            match c.write_plain(&mut cs, &rest) {
                Ok(n) => {
                    sent += n;
                    if sent < total {
                        assert_eq!(cs.tx.borrow().len(), cs.cap, "short write, room left");
                    }
                }
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
                    assert_eq!(cs.tx.borrow().len(), cs.cap);
                }
            }
        } else if !c.flush(&mut cs).expect("flush") {
            assert_eq!(cs.tx.borrow().len(), cs.cap);
        }
        // The peer reads a little, as a slow reader would.
        let room = got.capacity() - got.len();
        match s.read_plain(&mut ss, &mut got, room.min(64 * 1024)) {
            Ok(_) => {}
            Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}"),
        }
    }
    while got.len() < total {
        let room = got.capacity() - got.len();
        s.read_plain(&mut ss, &mut got, room).expect("read");
    }
    assert_eq!(&got[..12], &head);
    assert!(got[12..] == payload[..]);
}
