//! Debian's `gearman` and `gearadmin` tools (libgearman 1.1.20) against the server under test.
mod common;

use common::procs::{stdout_of, tool, ChildGuard};
use common::proto::{cmd::*, eventually, function_line, server, sorted_lines};
use common::{reference_tool, TestServer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn gearman() -> Option<PathBuf> {
    reference_tool("/usr/bin/gearman")
}

fn gearadmin() -> Option<PathBuf> {
    reference_tool("/usr/bin/gearadmin")
}

/// `gearman`/`gearadmin` with `-h 127.0.0.1 -p PORT`.
fn at(path: &Path, s: &TestServer) -> Command {
    let mut c = tool(path);
    c.arg("-h")
        .arg("127.0.0.1")
        .arg("-p")
        .arg(s.port.to_string());
    c
}

/// Waits until `func` shows `n` registered workers in `status`.
fn wait_workers(s: &TestServer, func: &str, n: usize) {
    assert!(
        eventually(Duration::from_secs(5), || {
            common::proto::status_of(s, func)
                .map(|l| l.ends_with(&format!("\t{n}")))
                .unwrap_or(false)
        }),
        "{func} never had {n} worker(s)"
    );
}

/// A `gearman -w` worker running `rev` for function `reverse`.
fn rev_worker(g: &Path, s: &TestServer) -> ChildGuard {
    let w = ChildGuard::spawn(at(g, s).args(["-w", "-f", "reverse", "--", "rev"]));
    wait_workers(s, "reverse", 1);
    w
}

#[test]
fn gearman_client_and_worker_round_trip() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let _w = rev_worker(&g, &s);
    assert_eq!(
        stdout_of(at(&g, &s).args(["-f", "reverse", "hello"]), b"", T),
        "olleh"
    );
    // Workload from stdin.
    assert_eq!(
        stdout_of(at(&g, &s).args(["-f", "reverse"]), b"stdin data", T),
        "atad nidts"
    );
    // One job per line.
    assert_eq!(
        stdout_of(at(&g, &s).args(["-n", "-f", "reverse"]), b"ab\ncd\n", T),
        "ba\ndc\n"
    );
    // High and low priority foreground jobs.
    assert_eq!(
        stdout_of(at(&g, &s).args(["-I", "-f", "reverse", "high"]), b"", T),
        "hgih"
    );
    assert_eq!(
        stdout_of(at(&g, &s).args(["-L", "-f", "reverse", "low"]), b"", T),
        "wol"
    );
    // Every job finished.
    assert_eq!(
        common::proto::status_of(&s, "reverse").as_deref(),
        Some("reverse\t0\t0\t1")
    );
}

#[test]
fn gearman_client_against_a_raw_worker() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let mut w = s.connect();
    w.can_do(&["raw"]);
    let mut client =
        ChildGuard::spawn(at(&g, &s).args(["-u", "my-unique", "-f", "raw", "payload"]));
    // The CLI sends the unique it was given and the data as arguments.
    let mut assigned = None;
    assert!(eventually(T, || {
        w.send(GRAB_JOB_UNIQ, &[]);
        let p = w.recv();
        if p.kind == JOB_ASSIGN_UNIQ {
            assigned = Some(p);
            return true;
        }
        false
    }));
    let p = assigned.expect("job assigned");
    let f = p.fields(4);
    assert_eq!(
        (&f[1][..], &f[2][..], &f[3][..]),
        (&b"raw"[..], &b"my-unique"[..], &b"payload"[..])
    );
    let handle = f[0].clone();
    w.work(WORK_DATA, &handle, b"part1-");
    w.work(WORK_COMPLETE, &handle, b"part2");
    let out = client.child.wait_with_output_guarded(T);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "part1-part2");
}

#[test]
fn gearman_background_priorities_and_unique() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let run = |args: &[&str]| stdout_of(at(&g, &s).args(args), b"", T);
    run(&["-b", "-f", "queued", "normal"]);
    run(&["-b", "-I", "-f", "queued", "high"]);
    run(&["-b", "-L", "-f", "queued", "low"]);
    run(&["-b", "-u", "same", "-f", "queued", "first"]);
    run(&["-b", "-u", "same", "-f", "queued", "second"]);
    let mut a = s.connect();
    assert_eq!(
        function_line(&a.admin_list("prioritystatus"), "queued").as_deref(),
        Some("queued\t1\t2\t1\t0")
    );
    let uniques = sorted_lines(&a.admin_list("show unique jobs"));
    assert_eq!(uniques.len(), 4, "{uniques:?}");
    assert!(uniques.contains(&"same".to_string()));
    // libgearman fills in 36-character UUIDs when no unique is given.
    assert_eq!(
        uniques.iter().filter(|u| u.len() == 36).count(),
        3,
        "{uniques:?}"
    );
    // A raw worker receives them high, normal (FIFO), low; the coalesced one kept "first".
    let mut w = s.connect();
    w.can_do(&["queued"]);
    let data: Vec<Vec<u8>> = (0..4).map(|_| w.grab_job().2).collect();
    assert_eq!(data, [&b"high"[..], b"normal", b"first", b"low"]);
    w.grab_none();
}

#[test]
fn gearman_clients_with_one_unique_share_a_job() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let c1 = ChildGuard::spawn(at(&g, &s).args(["-u", "shared", "-f", "reverse", "abc"]));
    let c2 = ChildGuard::spawn(at(&g, &s).args(["-u", "shared", "-f", "reverse", "xyz"]));
    // Both are attached to one job before any worker exists.
    let mut probe = s.connect();
    assert!(eventually(T, || probe
        .get_status_unique(b"shared")
        .ends_with("\x002")));
    assert_eq!(
        common::proto::status_of(&s, "reverse").as_deref(),
        Some("reverse\t1\t0\t0")
    );
    let _w = rev_worker(&g, &s);
    let mut outs = Vec::new();
    for mut c in [c1, c2] {
        let out = c.child.wait_with_output_guarded(T);
        assert!(out.status.success(), "{out:?}");
        outs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    // The first submission's data won, and both clients got that one result.
    assert!(outs[0] == "cba" || outs[0] == "zyx", "{outs:?}");
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn gearman_worker_serves_raw_clients_and_counts_jobs() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let mut worker =
        ChildGuard::spawn(at(&g, &s).args(["-w", "-c", "3", "-f", "reverse", "--", "rev"]));
    wait_workers(&s, "reverse", 1);
    let mut c = s.connect();
    for (i, data) in ["one", "two", "three"].iter().enumerate() {
        let handle = c.submit(SUBMIT_JOB, "reverse", b"", data.as_bytes());
        assert_eq!(handle, format!("P:{}", i + 1).into_bytes());
        let p = c.expect(WORK_COMPLETE);
        let mut want = handle.clone();
        want.push(0);
        want.extend(data.bytes().rev());
        assert_eq!(p.payload, want);
    }
    // `-c 3`: the worker exits after three jobs, and its registration goes with it.
    let out = worker.child.wait_with_output_guarded(T);
    assert!(out.status.success(), "{out:?}");
    wait_workers(&s, "reverse", 0);
}

#[test]
fn gearman_worker_data_lines_and_failures_reach_raw_clients() {
    let Some(g) = gearman() else { return };
    let s = server(&[]);
    let _lines = ChildGuard::spawn(at(&g, &s).args(["-w", "-n", "-f", "lines", "--", "cat"]));
    let _fails = ChildGuard::spawn(at(&g, &s).args(["-w", "-f", "failer", "--", "false"]));
    wait_workers(&s, "lines", 1);
    wait_workers(&s, "failer", 1);
    let mut c = s.connect();
    let handle = c.submit(SUBMIT_JOB, "lines", b"", b"a\nbb\nccc");
    let hd = |d: &[u8]| {
        let mut v = handle.clone();
        v.push(0);
        v.extend_from_slice(d);
        v
    };
    // `gearman -w -n` sends one WORK_DATA per output line (the 1.1.20 tool re-sends what it
    // has read so far), then an empty WORK_COMPLETE; the server forwards each unchanged.
    c.expect_pkt(WORK_DATA, &hd(b"a\n"));
    c.expect_pkt(WORK_DATA, &hd(b"a\nbb\n"));
    c.expect_pkt(WORK_DATA, &hd(b"a\nbb\nccc"));
    c.expect_pkt(WORK_COMPLETE, &hd(b""));
    // A failing command becomes WORK_FAIL with the bare handle.
    let handle = c.submit(SUBMIT_JOB, "failer", b"", b"x");
    c.expect_pkt(WORK_FAIL, &handle);
}

#[test]
fn gearadmin_lists() {
    let Some(ga) = gearadmin() else { return };
    let s = server(&[]);
    let adm = |args: &[&str]| stdout_of(at(&ga, &s).args(args), b"", T);
    assert_eq!(adm(&["--status"]), ".\n");
    assert_eq!(adm(&["--server-version"]), "1.1.20+ds\n");
    assert_eq!(adm(&["--getpid"]), format!("{}\n", s.pid()));
    assert_eq!(adm(&["--server-verbose"]), "ERROR\n");

    let mut w = s.connect();
    w.send(SET_CLIENT_ID, &[b"wid"]);
    w.can_do(&["fa", "fb"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "fa", b"ua", b"");
    c.submit(SUBMIT_JOB_HIGH_BG, "fa", b"ub", b"");
    c.submit(SUBMIT_JOB_LOW, "fc", b"uc", b"");
    // gearadmin prints the server's list, final "." line included.
    let st = adm(&["--status"]);
    assert!(st.ends_with("\n.\n"), "{st:?}");
    assert_eq!(
        sorted_lines(&st),
        vec!["fa\t2\t0\t1", "fb\t0\t0\t1", "fc\t1\t0\t0"]
    );
    assert_eq!(
        sorted_lines(&adm(&["--priority-status"])),
        vec!["fa\t1\t1\t0\t1", "fb\t0\t0\t0\t1", "fc\t0\t0\t1\t0"]
    );
    assert_eq!(
        sorted_lines(&adm(&["--show-jobs"])),
        vec!["P:1\t0\t0\t1", "P:2\t0\t0\t1", "P:3\t0\t0\t0"]
    );
    assert_eq!(
        sorted_lines(&adm(&["--show-unique-jobs"])),
        vec!["ua", "ub", "uc"]
    );
    let workers = adm(&["--workers"]);
    assert!(workers.ends_with("\n.\n"), "{workers:?}");
    let lines: Vec<&str> = workers.lines().collect();
    // w, c and gearadmin's own connection.
    assert_eq!(lines.len(), 4, "{workers:?}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(" 127.0.0.1 wid : fb fa"))
            .count(),
        1,
        "{workers:?}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.ends_with(" 127.0.0.1 - :"))
            .count(),
        2,
        "{workers:?}"
    );
}

#[test]
fn gearadmin_changes() {
    let Some(ga) = gearadmin() else { return };
    let s = server(&[]);
    let run = |args: &[&str]| common::procs::run_with_timeout(at(&ga, &s).args(args), b"", T);
    let text = |o: &std::process::Output| {
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // gearadmin sends CRLF, so the name is kept whole on every server.
    assert_eq!(text(&run(&["--create-function=newf"])).0, "OK\n");
    assert_eq!(
        sorted_lines(&s.connect().admin_list("status")),
        vec!["newf\t0\t0\t0"]
    );
    assert_eq!(text(&run(&["--drop-function=NEWF"])).0, "OK\n");
    assert_eq!(s.connect().admin_list("status"), ".\n");
    let (out, err) = text(&run(&["--drop-function=newf"]));
    assert_eq!(out, "");
    assert!(err.contains("function not found"), "{err:?}");

    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (out, err) = text(&run(&["--cancel-job=P:99"]));
    assert_eq!(out, "");
    assert!(err.contains("UNKNOWN_JOB"), "{err:?}");
    let (out, err) = text(&run(&["--cancel-job=P:1"]));
    assert_eq!((out.as_str(), err.as_str()), ("OK\n", ""));
    c.expect_pkt(WORK_FAIL, b"P:1");

    let mut w = s.connect();
    w.can_do(&["busy"]);
    let (out, err) = text(&run(&["--drop-function=busy"]));
    assert_eq!(out, "");
    assert!(err.contains("there are still connected workers"), "{err:?}");
}

/// `Child::wait_with_output` with a deadline (the guard kills the child on timeout).
trait WaitGuarded {
    fn wait_with_output_guarded(&mut self, timeout: Duration) -> std::process::Output;
}

impl WaitGuarded for std::process::Child {
    fn wait_with_output_guarded(&mut self, timeout: Duration) -> std::process::Output {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_wait().expect("try_wait") {
                let mut stdout = Vec::new();
                let mut stderr = Vec::new();
                if let Some(mut o) = self.stdout.take() {
                    std::io::Read::read_to_end(&mut o, &mut stdout).expect("stdout");
                }
                if let Some(mut e) = self.stderr.take() {
                    std::io::Read::read_to_end(&mut e, &mut stderr).expect("stderr");
                }
                return std::process::Output {
                    status,
                    stdout,
                    stderr,
                };
            }
            assert!(
                std::time::Instant::now() < deadline,
                "child did not finish in {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
