//! Memory: a client/worker soak through our server with the RSS of the server and of the (C,
//! on our library) worker printed at the start, the middle and the end and required to stay
//! flat; and the C worker and client under valgrind with no leak and no invalid access.
//!
//! Sizes: `GEARMAN_SOAK_JOBS` (default 20,000; the full run is 100,000) and
//! `GEARMAN_VALGRIND_JOBS` (default 300).

mod capi_support;
mod common;
mod fault_support;

use common::{proc_rss_kib, TestServer};
use fault_support::{
    c_client_valgrind, c_worker, c_worker_valgrind, client_results, wait_until, worker_runs,
    Ledger, Lib,
};
use gearman::client::{EventKind, Priority, Request};
use gearman::Client;
use std::collections::HashMap;
use std::time::{Duration, Instant};

const FG: Request = Request::Job {
    priority: Priority::Normal,
    background: false,
};

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `ids` through the client in pipelined batches; returns each id's outcome.
fn run_batch(c: &mut Client, ids: &[String], outcomes: &mut HashMap<String, bool>) {
    let mut by_task = HashMap::new();
    for id in ids {
        let t = c
            .add_task(FG, b"echo", None, id.as_bytes())
            .expect("add task");
        by_task.insert(t, id.clone());
        outcomes.insert(id.clone(), false);
    }
    loop {
        match c.next_event() {
            Ok(Some(ev)) => {
                if ev.terminal {
                    let id = &by_task[&ev.task];
                    let ok = ev.kind == EventKind::Complete
                        && c.task(ev.task).and_then(|t| t.data()) == Some(id.as_bytes());
                    outcomes.insert(id.clone(), ok);
                }
                c.complete_event();
            }
            Ok(None) => break,
            Err(e) => panic!("run: {e}"),
        }
    }
    for t in by_task.keys() {
        c.free_task(*t);
    }
}

#[test]
fn soak_keeps_server_and_worker_memory_flat() {
    let jobs = env_count("GEARMAN_SOAK_JOBS", 20_000);
    let s = TestServer::start(&[]);
    let w = c_worker(&s.addr(), "echo", 0, 0, "soak", Lib::Ours);
    let mut c = Client::new();
    c.add_server("127.0.0.1", s.port).expect("add");
    c.set_timeout(60_000);
    let batch = 200;
    let mut outcomes = HashMap::new();
    let mut ids_all = Vec::with_capacity(jobs);
    let mut samples = Vec::new();
    let started = Instant::now();
    let mut done = 0;
    // Warm-up (first tenth) before the first sample: buffers and tables reach their size.
    let marks = [jobs / 10, jobs / 2, jobs];
    while done < jobs {
        let n = batch.min(jobs - done);
        let ids: Vec<String> = (done..done + n).map(|i| format!("soak-{i}")).collect();
        run_batch(&mut c, &ids, &mut outcomes);
        ids_all.extend(ids);
        done += n;
        for m in marks {
            if done >= m && done - n < m {
                samples.push((done, proc_rss_kib(s.pid()), proc_rss_kib(w.pid())));
            }
        }
    }
    let took = started.elapsed();
    for (at, server, worker) in &samples {
        eprintln!("FIGURES soak RSS after {at} jobs: server {server} KiB, worker {worker} KiB");
    }
    eprintln!("FIGURES soak: {jobs} jobs in {took:?}");
    // Every job's start line has reached the reader thread.
    assert!(wait_until(Duration::from_secs(30), || w
        .out
        .count(|l| l.starts_with("start "))
        >= jobs));
    let runs = worker_runs(&w.out.snapshot(), "start");
    let ledger = Ledger::account(&ids_all, &outcomes, &runs);
    ledger.assert_sound("soak");
    assert_eq!(ledger.completed, jobs, "{ledger:?}");
    // Flat: from the warm sample to the end, growth stays under a generous 32 MiB.
    let (warm, end) = (samples[0], samples[samples.len() - 1]);
    for (what, a, b) in [("server", warm.1, end.1), ("worker", warm.2, end.2)] {
        assert!(
            b < a + (32 << 10),
            "{what} RSS grew from {a} KiB to {b} KiB over the soak"
        );
    }
}

/// The lines of a valgrind log that say what it found.
fn valgrind_summary(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            l.contains("ERROR SUMMARY")
                || l.contains("in use at exit")
                || l.contains("All heap blocks")
                || l.contains("total heap usage")
                || l.contains("definitely lost")
                || l.contains("indirectly lost")
                || l.contains("Invalid")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn c_worker_and_client_under_valgrind() {
    if std::process::Command::new("valgrind")
        .arg("--version")
        .output()
        .is_err()
    {
        if common::compat_required() {
            panic!("valgrind is missing and GEARMAN_COMPAT_REQUIRED=1");
        }
        eprintln!("SKIPPED: valgrind is not installed");
        return;
    }
    let jobs = env_count("GEARMAN_VALGRIND_JOBS", 300);
    let s = TestServer::start(&[]);
    let dir = std::env::temp_dir().join(format!("gearman-valgrind-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (wlog, clog) = (dir.join("worker.log"), dir.join("client.log"));
    let mut w = c_worker_valgrind(&s.addr(), "echo", &wlog);
    assert!(
        w.out
            .wait(Duration::from_secs(120), |l| l.iter().any(|x| x == "ready")),
        "worker under valgrind did not start: {}",
        w.stderr()
    );
    let mut client = c_client_valgrind(&s.addr(), "echo", jobs, &clog);
    for _ in 0..jobs {
        client.send_line("go");
    }
    let status = client
        .wait_exit(Duration::from_secs(600))
        .expect("client under valgrind did not finish");
    let results = client_results(&client.out.snapshot());
    let ok = results
        .iter()
        .filter(|(id, rc, _, res)| rc == "GEARMAN_SUCCESS" && res == id)
        .count();
    // SIGTERM makes the worker leave its loop and free everything: a whole lifetime checked.
    w.signal(libc::SIGTERM);
    let wstatus = w
        .wait_exit(Duration::from_secs(120))
        .expect("worker under valgrind did not stop");
    let wtext = std::fs::read_to_string(&wlog).expect("worker log");
    let ctext = std::fs::read_to_string(&clog).expect("client log");
    eprintln!(
        "FIGURES valgrind ({jobs} jobs): client {:?}, worker {:?}",
        valgrind_summary(&ctext),
        valgrind_summary(&wtext)
    );
    assert_eq!(ok, jobs, "{results:?}");
    assert!(status.success(), "client: valgrind found errors:\n{ctext}");
    assert!(wstatus.success(), "worker: valgrind found errors:\n{wtext}");
    for (what, text) in [("client", &ctext), ("worker", &wtext)] {
        assert!(
            text.contains("ERROR SUMMARY: 0 errors"),
            "{what}: valgrind found errors:\n{text}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
