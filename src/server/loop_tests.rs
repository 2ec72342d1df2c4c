//! In-process tests of the event loop: framing errors, limits and back-pressure, stopping.

use super::{Config, Server, ServerHandle};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn start(cfg: impl FnOnce(&mut Config)) -> ServerHandle {
    let mut c = Config::loopback();
    c.job_handle_prefix = "T".into();
    cfg(&mut c);
    Server::spawn(c).unwrap()
}

fn connect(h: &ServerHandle) -> TcpStream {
    let s = TcpStream::connect(h.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn req(cmd: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = b"\0REQ".to_vec();
    v.extend_from_slice(&cmd.to_be_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Reads one response packet: (type, payload).
fn read_packet(s: &mut TcpStream) -> (u32, Vec<u8>) {
    let mut h = [0u8; 12];
    s.read_exact(&mut h).unwrap();
    assert_eq!(&h[..4], b"\0RES");
    let kind = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).unwrap();
    (kind, p)
}

fn is_closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => true,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        other => panic!("expected close, got {other:?}"),
    }
}

fn version_ok(h: &ServerHandle) {
    let mut s = connect(h);
    s.write_all(b"version\n").unwrap();
    let mut r = [0u8; 13];
    s.read_exact(&mut r).unwrap();
    assert_eq!(&r, b"OK 1.1.20+ds\n");
}

#[test]
fn oversized_packet_gets_an_error_then_close() {
    let h = start(|c| c.max_packet_size = 1000);
    let mut bystander = connect(&h);
    bystander.write_all(&req(18, b"f\0u\0queued")).unwrap();
    assert_eq!(read_packet(&mut bystander), (8, b"T:1".to_vec()));
    let mut s = connect(&h);
    s.write_all(&req(16, &[b'x'; 1001])).unwrap();
    let (kind, payload) = read_packet(&mut s);
    assert_eq!(kind, 19);
    assert!(payload.starts_with(b"ARGUMENT_TOO_LARGE\0"), "{payload:?}");
    assert!(is_closed(&mut s));
    // Nothing else was disturbed: the other connection and its job are still there.
    bystander.write_all(&req(15, b"T:1")).unwrap();
    assert_eq!(
        read_packet(&mut bystander),
        (20, b"T:1\x001\x000\x000\x000".to_vec())
    );
    // The limit itself is fine.
    let mut s = connect(&h);
    s.write_all(&req(16, &[b'x'; 1000])).unwrap();
    assert_eq!(read_packet(&mut s).1.len(), 1000);
}

#[test]
fn too_few_fields_gets_an_error_then_close() {
    let h = start(|_| {});
    let mut s = connect(&h);
    // SUBMIT_REDUCE_JOB needs four NUL-terminated fields before the data.
    s.write_all(&req(37, b"f\0u\0r\0")).unwrap();
    let (kind, payload) = read_packet(&mut s);
    assert_eq!(kind, 19);
    assert!(payload.starts_with(b"INVALID_PACKET\0"), "{payload:?}");
    assert!(is_closed(&mut s));
    version_ok(&h);
}

#[test]
fn bad_magic_and_unknown_types_close_silently() {
    let h = start(|_| {});
    for bad in [
        b"\0XYZ\0\0\0\x10\0\0\0\0".to_vec(),
        req(0, b""),
        req(43, b""),
    ] {
        let mut s = connect(&h);
        s.write_all(&bad).unwrap();
        assert!(is_closed(&mut s));
    }
    version_ok(&h);
}

#[test]
fn payload_on_an_argumentless_type_is_skipped() {
    let h = start(|_| {});
    let mut s = connect(&h);
    s.write_all(&req(3, b"junk")).unwrap();
    s.write_all(&req(16, b"still in sync")).unwrap();
    assert_eq!(read_packet(&mut s), (17, b"still in sync".to_vec()));
}

#[test]
fn text_and_binary_mix_on_one_connection() {
    let h = start(|_| {});
    let mut s = connect(&h);
    let mut bytes = req(16, b"a");
    bytes.extend_from_slice(b"status\r\n");
    bytes.extend_from_slice(&req(16, b"b"));
    s.write_all(&bytes).unwrap();
    assert_eq!(read_packet(&mut s), (17, b"a".to_vec()));
    let mut dot = [0u8; 2];
    s.read_exact(&mut dot).unwrap();
    assert_eq!(&dot, b".\n");
    assert_eq!(read_packet(&mut s), (17, b"b".to_vec()));
}

#[test]
fn a_peer_that_does_not_read_is_paused_not_buffered_without_bound() {
    let h = start(|c| c.max_output_backlog = 256 << 10);
    let mut s = connect(&h);
    s.set_write_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let packet = req(16, &[7u8; 32 << 10]);
    let mut sent = 0usize;
    // Write echo requests without reading the replies until the server stops taking them.
    loop {
        let at = sent % packet.len();
        match s.write(&packet[at..]) {
            Ok(n) => sent += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(
            sent < 512 << 20,
            "the server kept reading: no back-pressure"
        );
    }
    // Others are still served meanwhile.
    version_ok(&h);
    // Every complete request is answered once the peer reads.
    let complete = sent / packet.len();
    s.set_write_timeout(None).unwrap();
    let rest = packet.len() - sent % packet.len();
    if rest != packet.len() {
        let tail = packet[packet.len() - rest..].to_vec();
        let writer = std::thread::spawn({
            let mut w = s.try_clone().unwrap();
            move || w.write_all(&tail).unwrap()
        });
        for _ in 0..=complete {
            assert_eq!(read_packet(&mut s).1.len(), 32 << 10);
        }
        writer.join().unwrap();
    } else {
        for _ in 0..complete {
            assert_eq!(read_packet(&mut s).1.len(), 32 << 10);
        }
    }
}

#[test]
fn graceful_stop_waits_for_jobs() {
    let h = start(|_| {});
    let addr = h.addr();
    let mut c = connect(&h);
    c.write_all(&req(18, b"f\0\0d")).unwrap();
    assert_eq!(read_packet(&mut c).0, 8);
    h.controller().graceful();
    std::thread::sleep(Duration::from_millis(100));
    // The listener is closed, the existing connection still works.
    assert!(TcpStream::connect(addr).is_err());
    c.write_all(&req(1, b"f")).unwrap();
    c.write_all(&req(9, b"")).unwrap();
    let (kind, payload) = read_packet(&mut c);
    assert_eq!(kind, 11);
    c.write_all(&req(13, &[&payload[..4], b"done"].concat()))
        .unwrap();
    // With no job left the loop ends and the connection is closed.
    assert!(is_closed(&mut c));
    h.shutdown().unwrap();
}
