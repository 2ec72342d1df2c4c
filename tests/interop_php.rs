//! PHP's gearman extension (php8.2-gearman on Debian's libgearman 1.1.20) as client and
//! worker against the server under test. Scripts are in tests/php/.
mod common;

use common::procs::{stdout_of, ChildGuard};
use common::proto::{cmd::*, eventually, server};
use common::{reference_tool, TestServer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(15);

/// php8.2, if it is installed with the gearman extension.
fn php() -> Option<PathBuf> {
    let php = reference_tool("/usr/bin/php8.2")?;
    let out = Command::new(&php).arg("-m").output().expect("php -m");
    if !String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l == "gearman")
    {
        assert!(
            !common::compat_required(),
            "php8.2 lacks the gearman extension and GEARMAN_COMPAT_REQUIRED=1"
        );
        eprintln!("SKIPPED: php8.2 has no gearman extension (install php8.2-gearman)");
        return None;
    }
    Some(php)
}

fn script(name: &str) -> String {
    format!("{}/tests/php/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn php_cmd(php: &Path, s: &TestServer, name: &str) -> Command {
    let mut c = Command::new(php);
    c.arg(script(name)).arg(s.port.to_string());
    c
}

/// Starts tests/php/worker.php and waits until all its functions are registered.
fn php_worker(php: &Path, s: &TestServer) -> ChildGuard {
    let mut w = ChildGuard::spawn(&mut php_cmd(php, s, "worker.php"));
    w.wait_for_line("ready", T);
    let registered = |f: &str| {
        common::proto::status_of(s, f)
            .map(|l| l.ends_with("\t1"))
            .unwrap_or(false)
    };
    assert!(
        eventually(T, || ["reverse", "chatty", "failing", "throwing", "whoami"]
            .iter()
            .all(|f| registered(f))),
        "PHP worker never registered all its functions"
    );
    w
}

#[test]
fn php_client_against_php_worker() {
    let Some(php) = php() else { return };
    let s = server(&[]);
    let _w = php_worker(&php, &s);
    let out = stdout_of(&mut php_cmd(&php, &s, "client.php"), b"", T);
    let mut lines: Vec<&str> = out.lines().collect();
    let handle = lines.pop().expect("handle line");
    assert!(handle.starts_with("handle P:"), "{handle:?}");
    assert_eq!(
        lines,
        [
            "normal olleh 0",
            "high cba 0",
            "low zyx 0",
            "unique whoami|my-unique|payload",
            "failing [] WORK_FAIL",
            "runTasks true",
            "complete u-chatty done:c1",
            "complete u-rev list",
            "data u-chatty d1",
            "data u-chatty d2",
            // PHP clients set the `exceptions` option, so they see the exception itself.
            "exception u-throw boom:t",
            "fail u-fail",
            "status u-chatty 1/2",
            "warning u-chatty w1",
            "background ok handle",
            "jobStatus [true,false,0,0]",
            "jobStatus unknown [false,false,0,0]",
        ]
    );
    // The background job waits for a worker that never comes.
    assert_eq!(
        common::proto::status_of(&s, "nobody").as_deref(),
        Some("nobody\t1\t0\t0")
    );
}

#[test]
fn php_job_status_of_a_running_background_job() {
    let Some(php) = php() else { return };
    let s = server(&[]);
    let status = |h: &str| stdout_of(php_cmd(&php, &s, "status.php").args(["status", h]), b"", T);
    let handle = stdout_of(
        php_cmd(&php, &s, "status.php").args(["submit", "slow", "work"]),
        b"",
        T,
    );
    let handle = handle.trim_end().to_string();
    assert_eq!(handle, "P:1");
    assert_eq!(status(&handle), "[true,false,0,0]\n");
    let mut w = s.connect();
    w.can_do(&["slow"]);
    let (h, _, data) = w.grab_job();
    assert_eq!(
        (h.as_slice(), data.as_slice()),
        (handle.as_bytes(), &b"work"[..])
    );
    assert_eq!(status(&handle), "[true,true,0,0]\n");
    w.send(WORK_STATUS, &[&h, b"1", b"4"]);
    w.sync();
    assert_eq!(status(&handle), "[true,true,1,4]\n");
    w.work(WORK_COMPLETE, &h, b"");
    w.sync();
    assert_eq!(status(&handle), "[false,false,0,0]\n");
}

#[test]
fn php_worker_serves_raw_clients() {
    let Some(php) = php() else { return };
    let s = server(&[]);
    let _w = php_worker(&php, &s);
    // The worker's id and its abilities (libgearman registers them newest first).
    let workers = s.connect().admin_list("workers");
    assert!(
        workers
            .lines()
            .any(|l| l.ends_with(" 127.0.0.1 php-worker : reverse chatty failing throwing whoami")),
        "{workers:?}"
    );

    let mut c = s.connect();
    let handle = c.submit(SUBMIT_JOB, "chatty", b"", b"x");
    let hd = |data: &[u8]| {
        let mut v = handle.clone();
        v.push(0);
        v.extend_from_slice(data);
        v
    };
    c.expect_pkt(WORK_DATA, &hd(b"d1"));
    c.expect_pkt(WORK_WARNING, &hd(b"w1"));
    c.expect_pkt(WORK_STATUS, &hd(b"1\x002"));
    c.expect_pkt(WORK_DATA, &hd(b"d2"));
    c.expect_pkt(WORK_COMPLETE, &hd(b"done:x"));

    let handle = c.submit(SUBMIT_JOB_LOW, "failing", b"", b"x");
    c.expect_pkt(WORK_FAIL, &handle);

    // Without the exceptions option a raw client gets WORK_FAIL for an exception.
    let handle = c.submit(SUBMIT_JOB, "throwing", b"", b"t");
    let p = c.expect(WORK_FAIL);
    assert!(p.payload.starts_with(&handle), "{p:?}");
    // With it, the exception itself.
    let mut e = s.connect();
    e.send(OPTION_REQ, &[b"exceptions"]);
    e.expect_pkt(OPTION_RES, b"exceptions");
    let handle = e.submit(SUBMIT_JOB_HIGH, "throwing", b"", b"t2");
    let mut want = handle.clone();
    want.extend_from_slice(b"\0boom:t2");
    e.expect_pkt(WORK_EXCEPTION, &want);

    // The worker sees function, unique and workload as sent.
    let handle = c.submit(SUBMIT_JOB, "whoami", b"the-unique", b"load");
    let mut want = handle.clone();
    want.extend_from_slice(b"\0whoami|the-unique|load");
    c.expect_pkt(WORK_COMPLETE, &want);
    c.expect_silence(Duration::from_millis(100));
    e.expect_silence(Duration::from_millis(10));
}

#[test]
fn php_worker_picks_up_jobs_queued_before_it_started() {
    let Some(php) = php() else { return };
    let s = server(&[]);
    let mut c = s.connect();
    let handles: Vec<Vec<u8>> = ["a1", "b2", "c3"]
        .iter()
        .map(|d| c.submit(SUBMIT_JOB, "reverse", b"", d.as_bytes()))
        .collect();
    let _w = php_worker(&php, &s);
    for (h, d) in handles.iter().zip(["1a", "2b", "3c"]) {
        let mut want = h.clone();
        want.push(0);
        want.extend_from_slice(d.as_bytes());
        c.expect_pkt(WORK_COMPLETE, &want);
    }
    // Afterwards the worker sleeps and is woken by a NOOP for the next job.
    std::thread::sleep(Duration::from_millis(100));
    let h = c.submit(SUBMIT_JOB_HIGH, "reverse", b"", b"zz9");
    let mut want = h.clone();
    want.extend_from_slice(b"\09zz");
    c.expect_pkt(WORK_COMPLETE, &want);
}

#[test]
fn php_background_tasks_and_status_tasks() {
    let Some(php) = php() else { return };
    let s = server(&[]);
    let out = stdout_of(&mut php_cmd(&php, &s, "background_tasks.php"), b"", T);
    assert_eq!(
        out,
        "created bg-a P:1\n\
         created bg-b P:2\n\
         created bg-c P:3\n\
         status P:1 known idle 0/0\n\
         status P:99 unknown idle 0/0\n\
         runTasks [true,true,true,true]\n"
    );
    // One job per priority, in the server's queues.
    assert_eq!(
        common::proto::function_line(&s.connect().admin_list("prioritystatus"), "nobody")
            .as_deref(),
        Some("nobody\t1\t1\t1\t0")
    );
}
