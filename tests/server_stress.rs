//! Many concurrent clients and workers: every job runs exactly once and every result reaches
//! exactly the client that submitted it.
mod common;

use common::proto::{cmd::*, server};
use common::Conn;
use std::collections::HashMap;
use std::time::Duration;

/// A worker loop answering each job with its data reversed, until `count` jobs are done.
fn reverse_worker(port: u16, count: std::sync::Arc<std::sync::atomic::AtomicUsize>, total: usize) {
    use std::sync::atomic::Ordering;
    let mut w = Conn::connect(port);
    w.can_do(&["rev"]);
    while count.load(Ordering::SeqCst) < total {
        w.send(GRAB_JOB, &[]);
        // Skip a NOOP that arrived after we stopped waiting for it.
        let p = loop {
            let p = w.recv();
            if p.kind != NOOP {
                break p;
            }
        };
        match p.kind {
            JOB_ASSIGN => {
                let f = p.fields(3);
                let mut out = f[2].clone();
                out.reverse();
                w.work(WORK_DATA, &f[0], b"~");
                w.work(WORK_COMPLETE, &f[0], &out);
                count.fetch_add(1, Ordering::SeqCst);
            }
            NO_JOB => {
                w.send(PRE_SLEEP, &[]);
                // A NOOP, or a timeout to re-check the count.
                if let Some(p) = w.try_recv(Duration::from_millis(50)) {
                    assert_eq!(p.kind, NOOP);
                }
            }
            k => panic!("worker got {k}"),
        }
    }
}

#[test]
fn many_clients_and_workers_pipelined() {
    const CLIENTS: usize = 8;
    const JOBS: usize = 150;
    let s = server(&[]);
    let port = s.port;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let d = done.clone();
            std::thread::spawn(move || reverse_worker(port, d, CLIENTS * JOBS))
        })
        .collect();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            std::thread::spawn(move || {
                let mut conn = Conn::connect(port);
                // All submissions in one write; replies come in submission order.
                let mut bytes = Vec::new();
                for j in 0..JOBS {
                    let data = format!("c{c}j{j}");
                    let kind = [SUBMIT_JOB, SUBMIT_JOB_HIGH, SUBMIT_JOB_LOW][j % 3];
                    bytes.extend(common::packet(
                        common::REQ,
                        kind,
                        &[b"rev", b"", data.as_bytes()],
                    ));
                }
                conn.send_raw(&bytes);
                let mut by_handle: HashMap<Vec<u8>, String> = HashMap::new();
                let mut created = 0;
                let mut results = HashMap::new();
                let mut data_seen = 0;
                while results.len() < JOBS {
                    let p = conn.recv();
                    match p.kind {
                        JOB_CREATED => {
                            by_handle.insert(p.payload, format!("c{c}j{created}"));
                            created += 1;
                        }
                        WORK_DATA => data_seen += 1,
                        WORK_COMPLETE => {
                            let f = p.fields(2);
                            let sent = by_handle
                                .get(&f[0])
                                .expect("result for one of ours")
                                .clone();
                            let want: String = sent.chars().rev().collect();
                            assert_eq!(String::from_utf8_lossy(&f[1]), want);
                            assert!(
                                results.insert(f[0].clone(), ()).is_none(),
                                "completed twice"
                            );
                        }
                        k => panic!("client got {k}"),
                    }
                }
                assert_eq!((created, data_seen), (JOBS, JOBS));
                conn.expect_silence(Duration::from_millis(50));
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client thread");
    }
    for w in workers {
        w.join().expect("worker thread");
    }
    // No job left; the workers' registrations go once the server has seen them close.
    assert!(common::proto::eventually(Duration::from_secs(3), || {
        s.connect().admin_list("status") == "rev\t0\t0\t0\n.\n"
    }));
}

#[test]
fn hundreds_of_connections() {
    // A deep backlog: with the default 32 a burst of connects waits for SYN retries.
    let s = server(&["-b", "1024"]);
    let mut conns: Vec<Conn> = (0..300).map(|_| s.connect()).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.send(ECHO_REQ, &[format!("{i}").as_bytes()]);
    }
    for (i, c) in conns.iter_mut().enumerate() {
        c.expect_pkt(ECHO_RES, format!("{i}").as_bytes());
    }
    let listing = s.connect().admin_list("workers");
    assert_eq!(
        listing.lines().count(),
        302,
        "300 + the admin connection + the final ."
    );
}
