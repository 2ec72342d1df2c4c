//! Memory of our server under megabyte payloads: while 20 clients each have a 16 MiB job in
//! flight, its resident size stays below 1.2 times the payload bytes in flight (a payload is
//! held once, as the slice it was read into, whether queued, assigned or forwarded), and once
//! the jobs are done it returns to its idle size.
//!
//! Resident size is memory, not time: it is asserted. These are properties of our server
//! (gearmand 1.1.20 copies each payload several times), so the test always runs ours.

mod common;

use common::proto::cmd::*;
use common::{proc_rss_kib, Conn, TestServer, REQ};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const CLIENTS: usize = 20;
const PAYLOAD: usize = 16 << 20;
/// Bytes of a payload that differ per client (its number), before the shared body.
const TAG: usize = 8;

fn header(kind: u32, len: usize) -> Vec<u8> {
    let mut h = REQ.to_vec();
    h.extend_from_slice(&kind.to_be_bytes());
    h.extend_from_slice(&(len as u32).to_be_bytes());
    h
}

fn read_header(s: &mut impl Read) -> (u32, usize) {
    let mut h = [0u8; 12];
    s.read_exact(&mut h).expect("header");
    assert_eq!(&h[..4], b"\0RES");
    let kind = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    (
        kind,
        u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize,
    )
}

/// Reads `len` bytes and checks them against `expect` piece by piece (no 16 MiB copy here).
fn read_and_compare(s: &mut impl Read, expect: &[u8]) -> bool {
    let mut chunk = vec![0u8; 64 << 10];
    let mut at = 0;
    let mut same = true;
    while at < expect.len() {
        let n = chunk.len().min(expect.len() - at);
        s.read_exact(&mut chunk[..n]).expect("payload");
        same &= chunk[..n] == expect[at..at + n];
        at += n;
    }
    same
}

/// One client: submits its 16 MiB job, reports the handle, then checks its result.
fn client(port: u16, i: usize, body: Arc<Vec<u8>>, created: mpsc::Sender<()>) -> bool {
    let mut c = Conn::connect(port);
    c.stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let tag = format!("{i:0width$}", width = TAG);
    let unique = format!("mem-{i}");
    let fields = format!("mem\0{unique}\0");
    c.send_raw(&header(SUBMIT_JOB, fields.len() + TAG + body.len()));
    c.send_raw(fields.as_bytes());
    c.send_raw(tag.as_bytes());
    c.stream.write_all(&body).expect("body");
    let (kind, len) = read_header(&mut c.stream);
    assert_eq!(kind, JOB_CREATED);
    let mut handle = vec![0u8; len];
    c.stream.read_exact(&mut handle).expect("handle");
    created.send(()).expect("report");
    let (kind, len) = read_header(&mut c.stream);
    assert_eq!(kind, WORK_COMPLETE);
    let mut got = vec![0u8; handle.len() + 1 + TAG];
    c.stream.read_exact(&mut got).expect("handle and tag");
    assert_eq!(len, got.len() + body.len());
    assert_eq!(&got[..handle.len()], &handle[..]);
    assert_eq!(
        &got[handle.len() + 1..],
        tag.as_bytes(),
        "client {i} got another's result"
    );
    read_and_compare(&mut c.stream, &body)
}

/// An echo worker for `jobs` jobs, one at a time.
fn worker(port: u16, jobs: usize) {
    let mut w = Conn::connect(port);
    w.stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    w.send(CAN_DO, &[b"mem"]);
    for _ in 0..jobs {
        w.send(GRAB_JOB, &[]);
        let (kind, len) = read_header(&mut w.stream);
        assert_eq!(kind, JOB_ASSIGN);
        let mut p = vec![0u8; len];
        w.stream.read_exact(&mut p).expect("assignment");
        let handle_end = p.iter().position(|&b| b == 0).expect("handle");
        let data_at = handle_end + 1 + b"mem\0".len();
        let mut reply = header(WORK_COMPLETE, handle_end + 1 + (len - data_at));
        reply.extend_from_slice(&p[..=handle_end]);
        w.send_raw(&reply);
        w.stream.write_all(&p[data_at..]).expect("result");
    }
}

#[test]
fn rss_stays_within_the_payloads_in_flight_and_returns_to_idle() {
    let s = TestServer::start_bin(Path::new(env!("CARGO_BIN_EXE_gearmand")), &[]);
    let pid = s.pid();
    // One small round trip first, so that what a first request sets up counts as idle.
    let mut admin = s.connect();
    admin.send(ECHO_REQ, &[b"warm"]);
    admin.recv();
    let idle = proc_rss_kib(pid);

    let peak = Arc::new(AtomicU64::new(idle));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = std::thread::spawn({
        let (peak, stop) = (peak.clone(), stop.clone());
        move || {
            while !stop.load(Ordering::SeqCst) {
                peak.fetch_max(proc_rss_kib(pid), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });

    let body: Arc<Vec<u8>> = Arc::new(
        (0..PAYLOAD - TAG)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    let (created_tx, created) = mpsc::channel();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (body, tx, port) = (body.clone(), created_tx.clone(), s.port);
            std::thread::spawn(move || client(port, i, body, tx))
        })
        .collect();
    for _ in 0..CLIENTS {
        created
            .recv_timeout(Duration::from_secs(60))
            .expect("every submission is acknowledged");
    }
    // All 20 jobs are queued: 320 MiB in flight.
    let queued = proc_rss_kib(pid);
    let w = std::thread::spawn({
        let port = s.port;
        move || worker(port, CLIENTS)
    });
    for (i, c) in clients.into_iter().enumerate() {
        assert!(c.join().expect("client"), "client {i}: payload damaged");
    }
    w.join().expect("worker");
    stop.store(true, Ordering::SeqCst);
    sampler.join().expect("sampler");
    let peak = peak.load(Ordering::SeqCst);

    // Back to idle: the connections are gone and the server gives memory back soon after.
    let mut after = 0;
    let returned = common::proto::eventually(Duration::from_secs(20), || {
        after = proc_rss_kib(pid);
        after <= idle + 4 * 1024
    });
    let in_flight_kib = (CLIENTS * PAYLOAD / 1024) as u64;
    eprintln!(
        "FIGURES payload-memory: {CLIENTS} x {} MiB in flight = {} MiB; server RSS idle {idle} \
         KiB, all queued {queued} KiB, peak {peak} KiB ({:.2}x in flight), after {after} KiB",
        PAYLOAD >> 20,
        in_flight_kib / 1024,
        peak as f64 / in_flight_kib as f64
    );
    assert!(
        peak * 10 < in_flight_kib * 12,
        "server RSS peaked at {peak} KiB with {in_flight_kib} KiB of payloads in flight"
    );
    assert!(
        returned,
        "server RSS {after} KiB did not return to its idle {idle} KiB"
    );
    drop(admin);
}
