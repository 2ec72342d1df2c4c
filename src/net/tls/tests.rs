use super::test_certs::TestCerts;
use super::*;
use crate::net::buffer::{Buffer, Fill};
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
        let c_done = e.c.handshake(&mut e.cs, &mut e.cin)?;
        let s_done = e.s.handshake(&mut e.ss, &mut e.sin)?;
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
        match rx.read_plain(rxs, rin, 1 << 20, true).expect("read") {
            Fill::Closed(_) => panic!("closed early"),
            Fill::Drained(_) | Fill::More(_) => {}
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
            match e
                .s
                .read_plain(&mut e.ss, &mut e.sin, 1 << 20, true)
                .expect("read")
            {
                Fill::Closed(0) => break,
                other => assert!(matches!(other, Fill::Drained(0)), "{other:?}"),
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
    let (mut cin, mut sin) = (Buffer::new(), Buffer::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(c.handshake(&mut cs, &mut cin).expect("client")
        & s.handshake(&mut ss, &mut sin).expect("server"))
    {
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
