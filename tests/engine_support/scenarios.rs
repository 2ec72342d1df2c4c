//! Server-level scenarios shared by the PostgreSQL and Redis queue tests: the database engine
//! itself stopped and started under load, a job completed while it is down, what clients see
//! meanwhile. Included with `#[path]` by tests that also have `common` and `store_support`.
#![allow(dead_code)]

use crate::common::proto::cmd::*;
use crate::common::TestServer;
use crate::engine_support::{Postgres, Redis};
use crate::store_support::{run_all, start_queue, submit_bg};
use std::collections::{HashSet, VecDeque};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A database engine the server's queue lives in.
pub trait Engine {
    fn name(&self) -> &'static str;
    /// The `-q` options of our server for this engine.
    fn queue_args(&self) -> Vec<String>;
    /// Stopped as an operator restarts it (fast shutdown; nothing committed is lost).
    fn stop(&mut self);
    fn start_again(&mut self);
}

impl Engine for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }
    fn queue_args(&self) -> Vec<String> {
        ["-q", "postgres", "--libpq-conninfo", &self.conninfo()]
            .map(String::from)
            .to_vec()
    }
    fn stop(&mut self) {
        Postgres::stop(self)
    }
    fn start_again(&mut self) {
        Postgres::start_again(self)
    }
}

impl Engine for Redis {
    fn name(&self) -> &'static str {
        "redis"
    }
    fn queue_args(&self) -> Vec<String> {
        ["-q", "redis", "--redis-port", &self.port.to_string()]
            .map(String::from)
            .to_vec()
    }
    fn stop(&mut self) {
        Redis::stop(self)
    }
    fn start_again(&mut self) {
        Redis::start_again(self)
    }
}

fn packet(kind: u32, args: &[&[u8]]) -> Vec<u8> {
    let payload = args.join(&0u8);
    let mut v = b"\0REQ".to_vec();
    v.extend_from_slice(&kind.to_be_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(&payload);
    v
}

fn read_packet(s: &mut TcpStream) -> Option<(u32, Vec<u8>)> {
    let mut h = [0u8; 12];
    s.read_exact(&mut h).ok()?;
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).ok()?;
    Some((u32::from_be_bytes([h[4], h[5], h[6], h[7]]), p))
}

/// What one submitting client saw.
#[derive(Default)]
struct Ledger {
    sent: HashSet<u64>,
    acked: HashSet<u64>,
    refused: HashSet<u64>,
    /// When the first and the last QUEUE_ERROR arrived (since the start).
    first_refusal: Option<Duration>,
    last_refusal: Option<Duration>,
    /// The longest wait for an answer.
    slowest: Duration,
}

/// Submits background jobs (8 in flight) until `stop`; every answer is JOB_CREATED or
/// ERROR QUEUE_ERROR, in submission order.
fn submitter(port: u16, stop: Arc<AtomicBool>, t0: Instant) -> Ledger {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    s.set_nodelay(true).expect("nodelay");
    let mut l = Ledger::default();
    let mut in_flight: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut next = 1u64;
    loop {
        while in_flight.len() < 8 && !stop.load(Ordering::Relaxed) {
            let unique = if next.is_multiple_of(2) {
                String::new()
            } else {
                format!("u{next}")
            };
            s.write_all(&packet(
                SUBMIT_JOB_BG,
                &[b"load", unique.as_bytes(), next.to_string().as_bytes()],
            ))
            .expect("submit");
            l.sent.insert(next);
            in_flight.push_back((next, Instant::now()));
            next += 1;
        }
        let Some((n, at)) = in_flight.pop_front() else {
            break;
        };
        let (kind, payload) = read_packet(&mut s).expect("an answer to every submission");
        l.slowest = l.slowest.max(at.elapsed());
        match kind {
            JOB_CREATED => {
                l.acked.insert(n);
            }
            ERROR => {
                assert!(
                    payload.starts_with(b"QUEUE_ERROR\0"),
                    "{}",
                    String::from_utf8_lossy(&payload)
                );
                l.refused.insert(n);
                l.first_refusal.get_or_insert(t0.elapsed());
                l.last_refusal = Some(t0.elapsed());
                // Do not hammer a server whose database is away.
                std::thread::sleep(Duration::from_millis(5));
            }
            k => panic!("unexpected reply {k}"),
        }
    }
    l
}

/// Takes jobs of `load` and completes them until `stop` and nothing is left; returns the job
/// numbers in the order they ran.
fn worker(port: u16, stop: Arc<AtomicBool>, ran: Arc<Mutex<Vec<u64>>>) {
    let mut w = crate::common::Conn::connect(port);
    w.can_do(&["load"]);
    loop {
        w.send(GRAB_JOB, &[]);
        let p = w.recv();
        if p.kind == NO_JOB {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        assert_eq!(p.kind, JOB_ASSIGN, "{p:?}");
        let f = p.fields(3);
        let n: u64 = String::from_utf8_lossy(&f[2]).parse().expect("job number");
        w.send(WORK_COMPLETE, &[&f[0], b""]);
        ran.lock().expect("ledger").push(n);
    }
}

/// The engine stopped and started again while a client submits and a worker completes jobs:
/// every acknowledged job runs exactly once, no refused one ever runs, clients are answered
/// QUEUE_ERROR (never left waiting) while it is down and acknowledged again once it is back,
/// and after a clean restart of our server nothing runs again (the dones of the jobs completed
/// while the engine was down were written when it came back).
pub fn engine_restart_under_load(engine: &mut dyn Engine) {
    let name = engine.name();
    let queue = engine.queue_args();
    let server = start_queue(&queue, &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let drained = Arc::new(AtomicBool::new(false));
    let ran = Arc::new(Mutex::new(Vec::new()));
    let t0 = Instant::now();
    let client = {
        let (port, stop) = (server.port, stop.clone());
        std::thread::spawn(move || submitter(port, stop, t0))
    };
    let work = {
        let (port, drained, ran) = (server.port, drained.clone(), ran.clone());
        std::thread::spawn(move || worker(port, drained, ran))
    };
    std::thread::sleep(Duration::from_millis(400));
    let down_at = t0.elapsed();
    engine.stop();
    // While it is down the server still serves: a foreground job runs.
    let mut fg = server.connect();
    let mut w = server.connect();
    w.can_do(&["fg"]);
    fg.submit(SUBMIT_JOB, "fg", b"", b"in memory");
    let (handle, _, _) = w.grab_job();
    w.work(WORK_COMPLETE, &handle, b"ok");
    fg.expect(WORK_COMPLETE);
    std::thread::sleep(Duration::from_millis(1000));
    let up_at = t0.elapsed();
    engine.start_again();
    let back_at = t0.elapsed();
    std::thread::sleep(Duration::from_millis(800));
    stop.store(true, Ordering::Relaxed);
    let l = client.join().expect("submitter");
    // Every submission is answered: the worker stops at the first NO_JOB from now on.
    drained.store(true, Ordering::Relaxed);
    work.join().expect("worker");
    let ran = ran.lock().expect("ledger").clone();
    let ran_set: HashSet<u64> = ran.iter().copied().collect();
    assert_eq!(ran.len(), ran_set.len(), "{name}: a job ran twice");
    let lost: Vec<_> = l.acked.difference(&ran_set).collect();
    assert!(
        lost.is_empty(),
        "{name}: acknowledged but never ran: {lost:?}"
    );
    let refused_ran: Vec<_> = l.refused.intersection(&ran_set).collect();
    assert!(
        refused_ran.is_empty(),
        "{name}: refused with QUEUE_ERROR but ran: {refused_ran:?}"
    );
    assert!(
        !l.refused.is_empty(),
        "{name}: nothing was refused while the engine was down"
    );
    let acked_after = l
        .acked
        .iter()
        .filter(|&&n| n > *l.refused.iter().max().expect("refusals"))
        .count();
    assert!(
        acked_after > 0,
        "{name}: nothing acknowledged after the engine came back"
    );
    println!(
        "FIGURES {name} restart: {} submitted, {} acknowledged ({acked_after} after the restart), \
         {} refused with QUEUE_ERROR from {:?} to {:?} (engine down {:?}..{:?}, up again at {:?}), \
         slowest answer {:?}",
        l.sent.len(),
        l.acked.len(),
        l.refused.len(),
        l.first_refusal.unwrap_or_default(),
        l.last_refusal.unwrap_or_default(),
        down_at,
        up_at,
        back_at,
        l.slowest
    );
    // Clean restart of our server: nothing comes back, refused adds included.
    stop_server(server);
    let server = start_queue(&queue, &[]);
    let again = run_all(&server, "load");
    assert!(
        again.is_empty(),
        "{name}: {} jobs ran again after a restart",
        again.len()
    );
}

fn stop_server(mut s: TestServer) {
    s.signal("TERM");
    assert_eq!(
        s.wait_exit(Duration::from_secs(20)),
        Some(Some(0)),
        "server did not stop cleanly"
    );
}

/// Jobs completed while the engine is down, then our server killed before it is back: their
/// dones were never written, so they run again after the restart. That window is where a
/// networked queue gives at-least-once, not exactly-once.
pub fn completed_while_down_then_killed_runs_again(engine: &mut dyn Engine) {
    let name = engine.name();
    let queue = engine.queue_args();
    let server = start_queue(&queue, &[]);
    let mut c = server.connect();
    for i in 0..3 {
        let (kind, _) = submit_bg(
            &mut c,
            "once",
            format!("k{i}").as_bytes(),
            format!("{i}").as_bytes(),
        );
        assert_eq!(kind, JOB_CREATED);
    }
    engine.stop();
    assert_eq!(run_all(&server, "once").len(), 3);
    // A submission now is refused, not acknowledged.
    let (kind, payload) = submit_bg(&mut c, "once", b"late", b"late");
    assert_eq!(kind, ERROR, "{name}");
    assert!(payload.starts_with(b"QUEUE_ERROR\0"), "{name}");
    server.signal("KILL");
    drop(server);
    engine.start_again();
    let server = start_queue(&queue, &[]);
    let mut again = run_all(&server, "once");
    again.sort();
    assert_eq!(
        again,
        vec![b"0".to_vec(), b"1".to_vec(), b"2".to_vec()],
        "{name}"
    );
}

/// Jobs completed while the engine is down and the engine back before our server stops: the
/// dones are written, nothing runs again.
pub fn completed_while_down_is_not_replayed(engine: &mut dyn Engine) {
    let name = engine.name();
    let queue = engine.queue_args();
    let server = start_queue(&queue, &[]);
    let mut c = server.connect();
    for i in 0..3 {
        let (kind, _) = submit_bg(&mut c, "once", format!("k{i}").as_bytes(), b"x");
        assert_eq!(kind, JOB_CREATED);
    }
    engine.stop();
    assert_eq!(run_all(&server, "once").len(), 3);
    engine.start_again();
    // The server retries the removals by itself (no other traffic needed).
    std::thread::sleep(Duration::from_millis(1500));
    server.signal("KILL");
    drop(server);
    let server = start_queue(&queue, &[]);
    assert!(
        run_all(&server, "once").is_empty(),
        "{name}: completed jobs came back"
    );
}

/// Our server refuses to start while its database is unreachable (it could not replay the
/// queue), naming the database.
pub fn start_without_the_engine_fails(engine: &mut dyn Engine, expect_in_message: &str) {
    let queue = engine.queue_args();
    engine.stop();
    let (code, out) = crate::store_support::run_to_exit(&queue);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains(expect_in_message), "{out}");
    engine.start_again();
}
