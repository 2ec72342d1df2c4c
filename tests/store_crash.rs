//! Crash test of the durable queues: a client submits background jobs as fast as it can while
//! the server is SIGKILLed at random moments and restarted, several times. Afterwards every job
//! whose JOB_CREATED reached the client runs exactly once, nothing runs that was never
//! submitted, and after the clean dones a restart runs nothing again.
//!
//! A job whose submission was sent but not answered before the kill may or may not run (its
//! commit may have reached the disk just before the kill): at most once, never twice. The
//! test prints how many did (`FIGURES`, see `--nocapture`).

mod common;
mod engine_support;
mod store_support;

use common::proto::cmd::*;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use store_support::{queue_args, run_all, start_queue, Kind, TempDir, KINDS};

/// Crash rounds per backend.
const ROUNDS: usize = 5;
/// Submissions in flight on the connection (so batches hold several jobs).
const WINDOW: usize = 8;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
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

/// Reads one packet's type; None when the connection broke (the server was killed).
fn read_kind(s: &mut TcpStream) -> Option<u32> {
    let mut h = [0u8; 12];
    s.read_exact(&mut h).ok()?;
    let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).ok()?;
    Some(u32::from_be_bytes([h[4], h[5], h[6], h[7]]))
}

/// Submits jobs numbered from `*next` until the connection breaks; records what was sent and
/// what was acknowledged (answers come back in submission order).
fn submit_until_killed(
    port: u16,
    next: &mut u64,
    sent: &mut HashSet<u64>,
    acked: &mut HashSet<u64>,
) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
    let _ = s.set_nodelay(true);
    let mut in_flight: std::collections::VecDeque<u64> = Default::default();
    loop {
        while in_flight.len() < WINDOW {
            let n = *next;
            *next += 1;
            // Half of the jobs have an empty unique: gearmand 1.1.20's store loses those.
            let unique = if n.is_multiple_of(2) {
                String::new()
            } else {
                format!("u{n}")
            };
            sent.insert(n);
            if s.write_all(&packet(
                SUBMIT_JOB_BG,
                &[b"crash", unique.as_bytes(), n.to_string().as_bytes()],
            ))
            .is_err()
            {
                return;
            }
            in_flight.push_back(n);
        }
        match read_kind(&mut s) {
            Some(JOB_CREATED) => {
                let n = in_flight.pop_front().expect("an answer to a submission");
                acked.insert(n);
            }
            Some(k) => panic!("unexpected reply type {k}"),
            None => return,
        }
    }
}

fn crash_test(kind: Kind) {
    let dir = TempDir::new("crash");
    crash_test_on(&format!("{kind:?}"), &queue_args(kind, &dir.path));
}

/// The crash test on the store that the `-q` options `queue` name (`name` in messages).
fn crash_test_on(kind: &str, queue: &[String]) {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64
        | 1;
    eprintln!("{kind}: seed {seed}");
    let mut rng = Rng(seed);
    let (mut sent, mut acked) = (HashSet::new(), HashSet::new());
    let mut next = 1u64;
    for round in 0..ROUNDS {
        let server = start_queue(queue, &[]);
        let pid = server.pid();
        let delay = Duration::from_millis(30 + rng.next() % 400);
        let killer = std::thread::spawn(move || {
            std::thread::sleep(delay);
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        });
        let started = Instant::now();
        submit_until_killed(server.port, &mut next, &mut sent, &mut acked);
        killer.join().expect("killer thread");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "round {round} hung"
        );
        drop(server);
    }
    // Restart and run everything.
    let server = start_queue(queue, &[]);
    let ran: Vec<u64> = run_all(&server, "crash")
        .iter()
        .map(|d| {
            String::from_utf8_lossy(d)
                .parse()
                .expect("job data is its number")
        })
        .collect();
    let ran_set: HashSet<u64> = ran.iter().copied().collect();
    assert_eq!(ran.len(), ran_set.len(), "{kind}: a job ran twice");
    let lost: Vec<_> = acked.difference(&ran_set).collect();
    assert!(lost.is_empty(), "{kind}: acknowledged but lost: {lost:?}");
    let phantom: Vec<_> = ran_set.difference(&sent).collect();
    assert!(
        phantom.is_empty(),
        "{kind}: ran but never submitted: {phantom:?}"
    );
    println!(
        "FIGURES {kind}: {} submitted, {} acknowledged, {} ran ({} unacknowledged ones among them)",
        sent.len(),
        acked.len(),
        ran.len(),
        ran.len() - acked.len()
    );
    assert!(
        acked.len() > ROUNDS,
        "{kind}: too few jobs to mean anything"
    );
    // The dones of that run were clean: after a stop and a restart nothing runs again.
    let mut server = server;
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(Some(0)));
    let server = start_queue(queue, &[]);
    assert!(
        run_all(&server, "crash").is_empty(),
        "{kind}: jobs ran again after their done"
    );
}

#[test]
fn acknowledged_jobs_survive_sigkill_exactly_once_wal() {
    crash_test(KINDS[0]);
}

#[test]
fn acknowledged_jobs_survive_sigkill_exactly_once_sqlite() {
    crash_test(KINDS[1]);
}

#[test]
fn acknowledged_jobs_survive_sigkill_exactly_once_postgres() {
    let Some(pg) = engine_support::Postgres::start() else {
        return;
    };
    let q = ["-q", "postgres", "--libpq-conninfo", &pg.conninfo()].map(String::from);
    crash_test_on("postgres", &q);
}

#[test]
fn acknowledged_jobs_survive_sigkill_exactly_once_redis() {
    let Some(redis) = engine_support::Redis::start(true) else {
        return;
    };
    let q = ["-q", "redis", "--redis-port", &redis.port.to_string()].map(String::from);
    crash_test_on("redis", &q);
}
