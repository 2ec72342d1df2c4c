//! TLS against plain TCP, ours on both ends: `do` round trips of 16 bytes and of 1 MB through
//! an in-process server with a Rust worker, the two transports alternated batch by batch.
//!
//!     cargo run --release --example tls_bench [-- SMALL_JOBS BIG_JOBS ROUNDS]
//!
//! Prints jobs/s per transport and the cost of TLS as a ratio of total times.

#[path = "../src/net/tls/test_certs.rs"]
mod test_certs;

use gearman::net::tls::{ServerTlsConfig, TlsConfig};
use gearman::server::{Config, Server};
use gearman::worker::{WorkResult, Worker};
use gearman::Client;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (small, big, rounds) = (arg(1, 20_000), arg(2, 300), arg(3, 3));
    let certs = test_certs::TestCerts::generate();
    let client_tls = TlsConfig::new().ca_file(&certs.ca);
    let mut tls_config = Config::loopback();
    tls_config.tls = Some(ServerTlsConfig {
        ca_file: certs.ca.clone(),
        certificate: certs.server_cert.clone(),
        key_file: certs.server_key.clone(),
        verify_clients: false,
    });
    let plain = Server::spawn(Config::loopback()).expect("plain server");
    let tls = Server::spawn(tls_config).expect("TLS server");
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for (port, t) in [
        (plain.addr().port(), None),
        (tls.addr().port(), Some(client_tls.clone())),
    ] {
        let stop = stop.clone();
        workers.push(std::thread::spawn(move || {
            let mut w = Worker::new().expect("worker");
            w.set_tls(t);
            w.add_server("127.0.0.1", port).expect("server");
            w.add_function("echo", 0, |job| {
                WorkResult::Complete(job.workload().to_vec())
            })
            .expect("function");
            w.set_timeout(200);
            while !stop.load(Ordering::SeqCst) {
                let _ = w.work();
            }
        }));
    }
    // Interleaved in small batches (plain, TLS, plain, ...) so that the load of a shared
    // machine falls on both alike; the totals are compared.
    let mut clients: Vec<Client> = [
        (plain.addr().port(), None),
        (tls.addr().port(), Some(client_tls.clone())),
    ]
    .into_iter()
    .map(|(port, t)| {
        let mut c = Client::new();
        c.set_tls(t);
        c.add_server("localhost", port).expect("server");
        c
    })
    .collect();
    let mut secs = [[0f64; 2]; 2]; // [plain, tls][small, big]
    for (j, (n, size, batch)) in [(small, 16, 200), (big, 1 << 20, 5)]
        .into_iter()
        .enumerate()
    {
        let payload = vec![7u8; size];
        for c in clients.iter_mut() {
            c.do_job("echo", &payload).expect("warm-up");
        }
        for _ in 0..(n * rounds).div_ceil(batch) {
            for (i, c) in clients.iter_mut().enumerate() {
                let start = Instant::now();
                for _ in 0..batch {
                    let r = c.do_job("echo", &payload).expect("do");
                    assert_eq!(r.len(), size);
                }
                secs[i][j] += start.elapsed().as_secs_f64();
            }
        }
    }
    let jobs = [small * rounds, big * rounds];
    let best: Vec<Vec<f64>> = (0..2)
        .map(|i| (0..2).map(|j| jobs[j] as f64 / secs[i][j]).collect())
        .collect();
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        let _ = w.join();
    }
    for (j, name) in ["do-16B", "do-1MB"].into_iter().enumerate() {
        println!(
            "{name}: plain {:.0} jobs/s, TLS {:.0} jobs/s, TLS time/plain time = {:.2}",
            best[0][j],
            best[1][j],
            best[0][j] / best[1][j]
        );
    }
}
