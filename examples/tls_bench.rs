//! TLS against plain TCP, ours on both ends: `do` round trips of 16 bytes and of 1 MB through
//! an in-process server with a Rust worker, the two transports alternated batch by batch.
//!
//!     cargo run --release --example tls_bench [-- SMALL_JOBS BIG_JOBS ROUNDS [plain|tls]]
//!
//! Prints, per transport, jobs/s and the CPU time per job of the client, the server and the
//! worker threads, and the cost of TLS as ratios: of wall times, and of CPU times. On a busy
//! machine the wall times of two transports drift apart with whatever else runs; the CPU time a
//! job costs is far steadier. With `plain` or `tls` only that transport runs (for a profiler:
//! instructions per job of one transport are the difference of two runs with different job
//! counts, divided by that difference).

#[path = "../src/net/tls/test_certs.rs"]
mod test_certs;

use gearman::net::tls::{ServerTlsConfig, TlsConfig};
use gearman::server::{Config, Server};
use gearman::worker::{WorkResult, Worker};
use gearman::Client;
use std::os::unix::thread::JoinHandleExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// CPU time a thread has used so far.
fn thread_cpu(thread: libc::pthread_t) -> Duration {
    let mut clock: libc::clockid_t = 0;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `thread` is a live thread (its JoinHandle is held, or it is the caller), and
    // both out-pointers point to valid, exclusively borrowed locals.
    let ok = unsafe {
        libc::pthread_getcpuclockid(thread, &mut clock) == 0
            && libc::clock_gettime(clock, &mut ts) == 0
    };
    assert!(ok, "thread CPU clock");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn own_cpu() -> Duration {
    // SAFETY: pthread_self has no preconditions.
    thread_cpu(unsafe { libc::pthread_self() })
}

/// A server and a worker of one transport, on threads of their own.
struct Side {
    server: JoinHandle<std::io::Result<()>>,
    stop_server: gearman::server::Controller,
    worker: JoinHandle<()>,
    client: Client,
}

impl Side {
    fn start(name: &str, config: Config, tls: Option<TlsConfig>, stop: &Arc<AtomicBool>) -> Side {
        let server = Server::bind(config).expect("server");
        let port = server.local_addr().expect("addr").port();
        let stop_server = server.controller();
        // Named threads, so that a profiler tells them apart.
        let server = std::thread::Builder::new()
            .name(format!("server-{name}"))
            .spawn(move || server.run())
            .expect("server thread");
        let (t, stop) = (tls.clone(), stop.clone());
        let worker = std::thread::Builder::new()
            .name(format!("worker-{name}"))
            .spawn(move || {
                let mut w = Worker::new().expect("worker");
                w.set_tls(t);
                w.add_server("127.0.0.1", port).expect("server");
                w.add_function("echo", 0, |job| {
                    WorkResult::Complete(job.workload().to_vec())
                })
                .expect("function");
                // Long enough that a run under a profiler never times a handshake out.
                w.set_timeout(2000);
                while !stop.load(Ordering::SeqCst) {
                    let _ = w.work();
                }
            })
            .expect("worker thread");
        let mut client = Client::new();
        client.set_tls(tls);
        client.add_server("localhost", port).expect("server");
        Side {
            server,
            stop_server,
            worker,
            client,
        }
    }

    /// CPU time of the server and worker threads so far.
    fn cpu(&self) -> [Duration; 2] {
        [
            thread_cpu(self.server.as_pthread_t()),
            thread_cpu(self.worker.as_pthread_t()),
        ]
    }
}

fn main() {
    let (small, big, rounds) = (arg(1, 20_000), arg(2, 300), arg(3, 3));
    let only = std::env::args().nth(4);
    let runs = |i: usize| match only.as_deref() {
        Some("plain") => i == 0,
        Some("tls") => i == 1,
        _ => true,
    };
    let certs = test_certs::TestCerts::generate();
    let client_tls = TlsConfig::new().ca_file(&certs.ca);
    let mut tls_config = Config::loopback();
    tls_config.tls = Some(ServerTlsConfig {
        ca_file: certs.ca.clone(),
        certificate: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        verify_clients: false,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let mut sides = [
        Side::start("plain", Config::loopback(), None, &stop),
        Side::start("tls", tls_config, Some(client_tls), &stop),
    ];
    println!(
        "load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let names = ["plain", "TLS"];
    for (n, size, batch, name) in [(small, 16, 200, "do-16B"), (big, 1 << 20, 5, "do-1MB")] {
        if n == 0 {
            continue;
        }
        let payload = vec![7u8; size];
        for (i, s) in sides.iter_mut().enumerate() {
            if runs(i) {
                s.client.do_job("echo", &payload).expect("warm-up");
            }
        }
        let mut wall = [Duration::ZERO; 2];
        let mut client_cpu = [Duration::ZERO; 2];
        let before: Vec<[Duration; 2]> = sides.iter().map(Side::cpu).collect();
        for b in 0..(n * rounds).div_ceil(batch) {
            // Interleaved in small batches in ABBA order (plain, TLS, TLS, plain, ...), so
            // that the load of a shared machine falls on both alike and neither always goes
            // first.
            let order = if b % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                if !runs(i) {
                    continue;
                }
                let c = &mut sides[i].client;
                let (start, cpu) = (Instant::now(), own_cpu());
                for _ in 0..batch {
                    let r = c.do_job("echo", &payload).expect("do");
                    assert_eq!(r.len(), size);
                }
                wall[i] += start.elapsed();
                client_cpu[i] += own_cpu() - cpu;
            }
        }
        let jobs = ((n * rounds).div_ceil(batch) * batch) as f64;
        let mut per_job = [0f64; 2];
        for i in 0..2 {
            if !runs(i) {
                continue;
            }
            let after = sides[i].cpu();
            let us = |d: Duration| d.as_secs_f64() * 1e6 / jobs;
            let (c, s, w) = (
                us(client_cpu[i]),
                us(after[0] - before[i][0]),
                us(after[1] - before[i][1]),
            );
            per_job[i] = c + s + w;
            println!(
                "{name} {:5}: {:7.0} jobs/s; CPU per job: client {c:.1} µs, server {s:.1} µs, \
                 worker {w:.1} µs, total {:.1} µs",
                names[i],
                jobs / wall[i].as_secs_f64(),
                per_job[i]
            );
        }
        if runs(0) && runs(1) {
            println!(
                "{name}: TLS/plain wall time = {:.2}, CPU time = {:.2}",
                wall[1].as_secs_f64() / wall[0].as_secs_f64(),
                per_job[1] / per_job[0]
            );
        }
    }
    stop.store(true, Ordering::SeqCst);
    for s in sides {
        s.stop_server.shutdown();
        let _ = s.worker.join();
        let _ = s.server.join();
    }
}
