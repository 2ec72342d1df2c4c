//! The metrics listener (`--metrics-listen`): after a scripted run (jobs completed, failed,
//! ended with an exception, coalesced, timed out; workers coming and going), the scraped values
//! equal what the script did. The exposition is parsed by a real parser, Python's
//! `prometheus_client` (both its Prometheus text and its OpenMetrics parsers), and `/status`
//! by Python's json module and compared with the admin commands. Ours only: gearmand 1.1.20
//! has no metrics.

mod common;

use common::http::get;
use common::proto::{cmd::*, server};
use common::{free_port, is_ours, Conn, TestServer};
use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Reads an exposition on stdin, parses it with prometheus_client and prints every sample as
/// `name{label="value",...} value` with the labels sorted (or `MISSING` without the module).
const PARSE: &str = r#"
import sys
try:
    from prometheus_client.parser import text_string_to_metric_families as prom
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
except ImportError:
    print("MISSING"); sys.exit(0)
parse = om if sys.argv[1] == "openmetrics" else prom
for family in parse(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join('%s="%s"' % (k, v) for k, v in sorted(s.labels.items()))
        print("%s{%s} %r" % (s.name, labels, float(s.value)))
"#;

/// Runs a Python script with one argument and `input` on its stdin.
fn python(script: &str, arg: &str, input: &[u8]) -> std::process::Output {
    let mut child = Command::new("python3")
        .args(["-c", script, arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to python3");
    child.wait_with_output().expect("python3 output")
}

/// Samples of one scrape, parsed by prometheus_client; `None` when it is not installed.
fn parsed(text: &str, format: &str) -> Option<BTreeMap<String, f64>> {
    let out = python(PARSE, format, text.as_bytes());
    assert!(
        out.status.success(),
        "prometheus_client ({format}) rejected the exposition: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if stdout.trim() == "MISSING" {
        if common::compat_required() {
            panic!("python3's prometheus_client is missing and GEARMAN_COMPAT_REQUIRED=1");
        }
        eprintln!("SKIPPED: python3 -m pip install prometheus_client to parse the exposition");
        return None;
    }
    Some(
        stdout
            .lines()
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(k, v)| (k.to_string(), v.parse().expect("sample value")))
            .collect(),
    )
}

fn start() -> (TestServer, u16) {
    let port = free_port();
    let s = server(&[&format!("--metrics-listen=127.0.0.1:{port}")]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "metrics port {port} never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (s, port)
}

/// Waits until the admin `status` line of `m` reads `want`.
fn wait_status(admin: &mut Conn, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = admin.admin_list("status");
        if s.lines().any(|l| l == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "status never showed {want:?}: {s}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn scraped_counters_equal_what_the_script_did() {
    if !is_ours() {
        return;
    }
    let (s, port) = start();
    let mut admin = s.connect();
    let mut w1 = s.connect();
    w1.can_do(&["m"]);
    let (mut c1, mut c2, mut c3) = (s.connect(), s.connect(), s.connect());

    // Coalesced and completed: two clients, one job.
    assert_eq!(c1.submit(SUBMIT_JOB, "m", b"u1", b"a"), b"P:1");
    assert_eq!(c2.submit(SUBMIT_JOB, "m", b"u1", b"a2"), b"P:1");
    let (h, _, _) = w1.grab_job();
    w1.work(WORK_COMPLETE, &h, b"A");
    c1.expect(WORK_COMPLETE);
    c2.expect(WORK_COMPLETE);
    // Failed.
    let h = c1.submit(SUBMIT_JOB, "m", b"", b"b");
    w1.grab_job();
    w1.work(WORK_FAIL, &h, b"");
    c1.expect(WORK_FAIL);
    // An exception, to a client with the exceptions option.
    c3.send(OPTION_REQ, &[b"exceptions"]);
    c3.expect(OPTION_RES);
    let h = c3.submit(SUBMIT_JOB, "m", b"", b"c");
    w1.grab_job();
    w1.work(WORK_EXCEPTION, &h, b"boom");
    c3.expect(WORK_EXCEPTION);
    // Timed out: w2 (CAN_DO_TIMEOUT 1 s) takes a high job and sits on it; w1 finishes it and
    // w2's late result is refused (an ERROR sent).
    let mut w2 = s.connect();
    w2.send(CAN_DO_TIMEOUT, &[b"m", b"1000"]);
    w2.sync();
    let h = c1.submit(SUBMIT_JOB_HIGH, "m", b"", b"d");
    assert_eq!(w2.grab_job().0, h);
    wait_status(&mut admin, "m\t1\t0\t2");
    assert_eq!(w1.grab_job().0, h);
    w1.work(WORK_COMPLETE, &h, b"D");
    c1.expect(WORK_COMPLETE);
    w2.work(WORK_COMPLETE, &h, b"late");
    w2.expect_error("JOB_NOT_FOUND", "Job given in work result not found");
    // A worker comes, takes a low background job and goes: the job is requeued.
    let mut w3 = s.connect();
    w3.can_do(&["m"]);
    let h = c1.submit(SUBMIT_JOB_LOW_BG, "m", b"", b"e");
    assert_eq!(w3.grab_job().0, h);
    drop(w3);
    wait_status(&mut admin, "m\t1\t0\t2");
    assert_eq!(w1.grab_job().0, h);
    w1.work(WORK_COMPLETE, &h, b"");
    // One job left in the queue.
    c1.submit(SUBMIT_JOB_BG, "m", b"", b"f");
    wait_status(&mut admin, "m\t1\t0\t2");
    std::thread::sleep(Duration::from_millis(20));

    let prom = get(port, "/metrics", "");
    assert_eq!(prom.status, 200);
    assert_eq!(
        prom.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(prom.body).expect("UTF-8 exposition");
    let om = get(port, "/metrics", "Accept: application/openmetrics-text\r\n");
    assert!(om
        .header("Content-Type")
        .is_some_and(|t| t.starts_with("application/openmetrics-text")));
    let om_text = String::from_utf8(om.body).expect("UTF-8 exposition");
    assert!(om_text.ends_with("# EOF\n"));

    let Some(samples) = parsed(&text, "prometheus") else {
        return;
    };
    let om_samples = parsed(&om_text, "openmetrics").expect("parsed");
    let v = |key: &str| -> f64 {
        *samples
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key} in\n{text}"))
    };
    let f = |name: &str| v(&format!("{name}{{function=\"m\"}}"));
    let prio = |name: &str, p: &str| v(&format!("{name}{{function=\"m\",priority=\"{p}\"}}"));
    assert_eq!(prio("gearmand_jobs_submitted_total", "high"), 1.0);
    assert_eq!(prio("gearmand_jobs_submitted_total", "normal"), 4.0);
    assert_eq!(prio("gearmand_jobs_submitted_total", "low"), 1.0);
    assert_eq!(f("gearmand_jobs_coalesced_total"), 1.0);
    assert_eq!(f("gearmand_jobs_completed_total"), 3.0);
    assert_eq!(f("gearmand_jobs_failed_total"), 1.0);
    assert_eq!(f("gearmand_jobs_exceptions_total"), 1.0);
    assert_eq!(f("gearmand_jobs_timeouts_total"), 1.0);
    assert_eq!(f("gearmand_jobs_requeued_total"), 2.0);
    assert_eq!(f("gearmand_jobs_retries_exhausted_total"), 0.0);
    assert_eq!(prio("gearmand_queued_jobs", "normal"), 1.0);
    assert_eq!(prio("gearmand_queued_jobs", "high"), 0.0);
    assert_eq!(f("gearmand_running_jobs"), 0.0);
    assert_eq!(f("gearmand_workers"), 2.0);
    let age = f("gearmand_oldest_queued_job_age_seconds");
    assert!(age > 0.0 && age < 60.0, "{age}");
    // Seven assignments (d and e twice), five jobs ended by their worker.
    assert_eq!(f("gearmand_job_queue_wait_seconds_count"), 7.0);
    assert_eq!(
        v("gearmand_job_queue_wait_seconds_bucket{function=\"m\",le=\"+Inf\"}"),
        7.0
    );
    assert_eq!(f("gearmand_job_run_seconds_count"), 5.0);
    // d ran on w2 for the 1 s timeout before w1 took it, but run time counts from w1's grab.
    assert!(f("gearmand_job_run_seconds_sum") < 5.0);
    assert!(f("gearmand_job_queue_wait_seconds_sum") < 5.0);
    assert_eq!(v("gearmand_jobs{}"), 1.0);
    assert_eq!(v("gearmand_errors_sent_total{code=\"JOB_NOT_FOUND\"}"), 1.0);
    // Open now: admin, w1, w2, c1, c2, c3; accepted: those, w3 and the harness's getpid probe.
    assert_eq!(v("gearmand_connections{kind=\"gearman\"}"), 6.0);
    assert_eq!(
        v("gearmand_connections_accepted_total{kind=\"gearman\"}"),
        8.0
    );
    assert_eq!(v("gearmand_connections{kind=\"metrics\"}"), 1.0);
    assert_eq!(v("gearmand_sessions{role=\"worker\"}"), 2.0);
    assert_eq!(v("gearmand_sessions{role=\"other\"}"), 4.0);
    assert!(v("gearmand_received_bytes_total{}") > 100.0);
    assert!(v("gearmand_sent_bytes_total{}") > 100.0);
    assert_eq!(
        v("gearmand_build_info{crate=\"0.1.0\",version=\"1.1.20+ds\"}"),
        1.0
    );
    // The OpenMetrics view carries the same job counters.
    for (k, val) in &samples {
        if k.starts_with("gearmand_jobs_") {
            assert_eq!(om_samples.get(k), Some(val), "{k} in OpenMetrics");
        }
    }
}

/// `/status` as parsed by Python's json module, printed back as admin-style lines.
const STATUS: &str = r#"
import json, sys
s = json.load(sys.stdin)
for f in s["status"]:
    print("status %s %d %d %d" % (f["function"], f["total"], f["running"], f["workers"]))
for w in s["workers"]:
    print("worker %d %s %s :%s" % (w["fd"], w["ip"], w["client_id"] or "-", "".join(" " + f for f in w["functions"])))
for j in s["jobs"]:
    print("job %s %d %d %d" % (j["handle"], j["retries"], j["ignore"], j["persisted"]))
for u in s["unique_jobs"]:
    print("unique %s" % u)
"#;

#[test]
fn status_json_says_what_the_admin_commands_say() {
    if !is_ours() {
        return;
    }
    let (s, port) = start();
    let mut admin = s.connect();
    let mut w = s.connect();
    w.send(SET_CLIENT_ID, &[b"worker \"one\""]);
    w.can_do(&["sj", "other"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "sj", b"uniq", b"x");
    c.submit(SUBMIT_JOB_LOW_BG, "sj", b"", b"y");
    w.grab_job();
    let r = get(port, "/status", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("Content-Type"), Some("application/json"));
    let out = python(STATUS, "", &r.body);
    assert!(
        out.status.success(),
        "json rejected /status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_json = String::from_utf8_lossy(&out.stdout).into_owned();

    let mut expected = String::new();
    for l in admin.admin_list("status").lines().filter(|l| *l != ".") {
        expected += &format!("status {}\n", l.replace('\t', " "));
    }
    for l in admin.admin_list("workers").lines().filter(|l| *l != ".") {
        expected += &format!("worker {l}\n");
    }
    for l in admin.admin_list("show jobs").lines().filter(|l| *l != ".") {
        expected += &format!("job {}\n", l.replace('\t', " "));
    }
    for l in admin
        .admin_list("show unique jobs")
        .lines()
        .filter(|l| *l != ".")
    {
        expected += &format!("unique {l}\n");
    }
    // `workers` lists every connection: the one that fetched /status is not a session.
    assert_eq!(from_json, expected);
    assert!(
        from_json.contains("worker \"one\" : other sj"),
        "{from_json}"
    );
}

#[test]
fn metrics_listener_refuses_what_it_does_not_serve() {
    if !is_ours() {
        return;
    }
    let (_s, port) = start();
    assert_eq!(get(port, "/nothing", "").status, 404);
    let r = common::http::request(port, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(r.status, 405);
    let mut c = common::http::Http::connect(port);
    let mut raw = b"GET /metrics HTTP/1.1\r\nX-Big: ".to_vec();
    raw.resize(raw.len() + 20_000, b'a');
    let _ = std::io::Write::write_all(&mut c.stream, &raw);
    assert_eq!(c.reply().status, 431);
    assert!(c.closed(Duration::from_secs(2)));
    // Keep-alive scrapes on one connection.
    let mut c = common::http::Http::connect(port);
    for _ in 0..3 {
        c.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(c.reply().status, 200);
    }
}

#[test]
fn durable_store_commits_are_scraped() {
    if !is_ours() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("gearman-metrics-wal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let s = server(&[
        &format!("--metrics-listen=127.0.0.1:{port}"),
        "-q",
        "wal",
        &format!("--wal-dir={}", dir.display()),
    ]);
    let mut c = s.connect();
    // Each submission is answered only after the commit that holds it.
    for i in 0..3u8 {
        c.submit(SUBMIT_JOB_BG, "durable", &[b'u', b'0' + i], b"x");
    }
    let text = String::from_utf8_lossy(&get(port, "/metrics", "").body).into_owned();
    if let Some(samples) = parsed(&text, "prometheus") {
        let count = samples["gearmand_store_commit_seconds_count{}"];
        assert!((1.0..=3.0).contains(&count), "commits: {count}\n{text}");
        assert_eq!(samples["gearmand_store_commit_failures_total{}"], 0.0);
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
}
