//! Client disconnect (§3.10), admin cancel (§3.11), maxqueue (§3.12), epoch jobs (§3.13),
//! reduce jobs (§3.14) and the small commands (§3.15).
mod common;

use common::proto::{cmd::*, eventually, function_line, h, server, status_of, QUIET};
use common::TestServer;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn show_jobs(s: &TestServer) -> String {
    s.connect().admin_list("show jobs")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

#[test]
fn client_disconnect_abandons_its_queued_job() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"keep");
    drop(c);
    // gearmand flags the job and reaps it lazily; removing it at once is fine too.
    assert!(eventually(Duration::from_secs(3), || {
        let jobs = show_jobs(&s);
        jobs.contains("P:1\t0\t1\t0\n") || !jobs.contains("P:1\t")
    }));
    let mut w = s.connect();
    w.can_do(&["f"]);
    // The abandoned job never runs; the background one does.
    let (handle, _, data) = w.grab_job();
    assert_eq!((handle, data), (h(2), b"keep".to_vec()));
    w.grab_none();
    assert_eq!(status_of(&s, "f").as_deref(), Some("f\t1\t1\t1"));
    assert_eq!(show_jobs(&s), "P:2\t0\t0\t1\n.\n");
}

#[test]
fn abandoned_job_with_another_client_still_runs() {
    let s = server(&[]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    c1.submit(SUBMIT_JOB, "f", b"u", b"x");
    c2.submit(SUBMIT_JOB, "f", b"u", b"x");
    drop(c1);
    assert!(eventually(Duration::from_secs(3), || c2
        .get_status_unique(b"u")
        == "u\x001\x000\x000\x000\x001"));
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    w.work(WORK_COMPLETE, &handle, b"r");
    c2.expect_pkt(WORK_COMPLETE, b"P:1\0r");
}

#[test]
fn client_disconnect_while_running_keeps_the_worker_going() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    drop(c);
    assert!(eventually(Duration::from_secs(3), || {
        s.connect().admin_list("workers").lines().count() == 3
    }));
    // Results are accepted silently and end the job.
    w.work(WORK_DATA, &handle, b"d");
    w.send(WORK_STATUS, &[&handle, b"1", b"2"]);
    w.work(WORK_COMPLETE, &handle, b"r");
    w.sync();
    assert_eq!(show_jobs(&s), ".\n");
    assert_eq!(status_of(&s, "f").as_deref(), Some("f\t0\t0\t1"));
}

#[test]
fn admin_cancel_of_a_queued_job() {
    let s = server(&[]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    c1.submit(SUBMIT_JOB, "f", b"u", b"x");
    c2.submit(SUBMIT_JOB_LOW, "f", b"u", b"x");
    let mut bg = s.connect();
    bg.submit(SUBMIT_JOB_BG, "f", b"v", b"y");
    let mut a = s.connect();
    assert_eq!(a.admin_line("cancel job P:1"), "OK\r\n");
    c1.expect_pkt(WORK_FAIL, &h(1));
    c2.expect_pkt(WORK_FAIL, &h(1));
    assert_eq!(a.admin_line("cancel job P:2"), "OK\r\n");
    bg.expect_silence(QUIET);
    // Neither job is ever handed out.
    let mut w = s.connect();
    w.can_do(&["f"]);
    w.grab_none();
    assert_eq!(status_of(&s, "f").as_deref(), Some("f\t0\t0\t1"));
    assert_eq!(show_jobs(&s), ".\n");
}

#[test]
fn maxqueue_single_limit() {
    let s = server(&[]);
    let mut a = s.connect();
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"a", b""), h(1));
    assert_eq!(a.admin_line("maxqueue mq 2"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB, "mq", b"b", b""), h(2));
    for kind in [
        SUBMIT_JOB_BG,
        SUBMIT_JOB_HIGH,
        SUBMIT_JOB_LOW_BG,
        SUBMIT_JOB,
    ] {
        c.send(kind, &[b"mq", b"c", b""]);
        c.expect_error("QUEUE_ERROR", "Job queue is full");
    }
    c.send(SUBMIT_JOB_EPOCH, &[b"mq", b"c", b"0", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    // Coalescing submissions are never refused.
    assert_eq!(c.submit(SUBMIT_JOB_HIGH_BG, "mq", b"a", b""), h(1));
    // Running jobs count too.
    let mut w = s.connect();
    w.can_do(&["mq"]);
    let (handle, _, _) = w.grab_job();
    c.send(SUBMIT_JOB_BG, &[b"mq", b"c", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    // Completing one frees a slot.
    w.work(WORK_COMPLETE, &handle, b"");
    w.sync();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"c", b""), h(3));
    // `maxqueue FUNC` alone resets to unlimited; so does 0 or a negative number.
    assert_eq!(a.admin_line("maxqueue mq"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"d", b""), h(4));
    assert_eq!(a.admin_line("maxqueue mq 1"), "OK\r\n");
    c.send(SUBMIT_JOB_BG, &[b"mq", b"e", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    assert_eq!(a.admin_line("maxqueue mq -1"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"e", b""), h(5));
    assert_eq!(a.admin_line("maxqueue mq 1"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue mq 0"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"f", b""), h(6));
}

#[test]
fn maxqueue_per_priority() {
    let s = server(&[]);
    let mut a = s.connect();
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "mq", b"", b"");
    c.submit(SUBMIT_JOB_BG, "mq", b"", b"");
    // HIGH NORMAL LOW: the total (3 after the high one) is compared with each limit.
    assert_eq!(a.admin_line("maxqueue mq 0 5 1"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB_HIGH_BG, "mq", b"", b""), h(3));
    c.send(SUBMIT_JOB_LOW, &[b"mq", b"", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    assert_eq!(c.submit(SUBMIT_JOB, "mq", b"", b""), h(4));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"", b""), h(5));
    c.send(SUBMIT_JOB_BG, &[b"mq", b"", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    assert_eq!(c.submit(SUBMIT_JOB_HIGH, "mq", b"", b""), h(6));
    // Two numbers are HIGH and NORMAL; LOW stays unlimited.
    assert_eq!(a.admin_line("maxqueue mq 6 7"), "OK\r\n");
    c.send(SUBMIT_JOB_HIGH_BG, &[b"mq", b"", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "mq", b"", b""), h(7));
    c.send(SUBMIT_JOB_BG, &[b"mq", b"", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
    assert_eq!(c.submit(SUBMIT_JOB_LOW_BG, "mq", b"", b""), h(8));
    // One number applies to all three.
    assert_eq!(a.admin_line("maxqueue mq 8"), "OK\r\n");
    for kind in [SUBMIT_JOB_LOW_BG, SUBMIT_JOB_BG, SUBMIT_JOB_HIGH_BG] {
        c.send(kind, &[b"mq", b"", b""]);
        c.expect_error("QUEUE_ERROR", "Job queue is full");
    }
}

#[test]
fn maxqueue_for_an_unknown_function_is_not_kept() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_line("maxqueue later 1"), "OK\r\n");
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "later", b"", b""), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "later", b"", b""), h(2));
    // Once the function exists, the limit sticks.
    assert_eq!(a.admin_line("create function made\r"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue made 1"), "OK\r\n");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "made", b"", b""), h(3));
    c.send(SUBMIT_JOB_BG, &[b"made", b"", b""]);
    c.expect_error("QUEUE_ERROR", "Job queue is full");
}

#[test]
fn epoch_job_waits_for_its_time() {
    let s = server(&[]);
    let mut c = s.connect();
    let when = (now() + 2).to_string();
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"ep", when.as_bytes(), b"later"]);
    c.expect_pkt(JOB_CREATED, &h(1));
    // A background job at normal priority, persisted.
    assert_eq!(show_jobs(&s), "P:1\t0\t0\t1\n.\n");
    assert_eq!(
        function_line(&s.connect().admin_list("prioritystatus"), "f").as_deref(),
        Some("f\t0\t1\t0\t0")
    );
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x000\x000\x000");
    let mut w = s.connect();
    w.can_do(&["f"]);
    w.grab_none();
    // A runnable job behind it in the same list is handed out first.
    c.submit(SUBMIT_JOB_BG, "f", b"", b"now");
    let (handle, _, data) = w.grab_job();
    assert_eq!((handle, data), (h(2), b"now".to_vec()));
    w.grab_none();
    // Once due, a GRAB gets it.
    let started = std::time::Instant::now();
    let mut got = None;
    while started.elapsed() < Duration::from_secs(4) {
        let p = w.grab();
        if p.kind == JOB_ASSIGN {
            got = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let p = got.expect("epoch job assigned once due");
    assert_eq!(p.payload, b"P:1\0f\0later");
    assert!(now() >= when.parse::<u64>().expect("number"));
    c.expect_silence(Duration::from_millis(10));
}

#[test]
fn epoch_in_the_past_or_garbage_runs_at_once() {
    let s = server(&[]);
    let mut c = s.connect();
    for epoch in [&b"0"[..], b"abc", b"", b"-5", b"1000"] {
        c.send(SUBMIT_JOB_EPOCH, &[b"f", b"", epoch, b"d"]);
        c.expect(JOB_CREATED);
    }
    let mut w = s.connect();
    w.can_do(&["f"]);
    for n in 1..=5 {
        assert_eq!(w.grab_job().0, h(n));
    }
    w.grab_none();
}

#[test]
fn reduce_jobs_and_grab_variants() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(
        SUBMIT_REDUCE_JOB,
        &[b"co", b"ru", b"myreducer", b"", b"mapdata"],
    );
    c.expect_pkt(JOB_CREATED, &h(1));
    c.send(
        SUBMIT_REDUCE_JOB_BACKGROUND,
        &[b"co", b"rb", b"red2", b"agg", b"bgdata"],
    );
    c.expect_pkt(JOB_CREATED, &h(2));
    c.send(SUBMIT_REDUCE_JOB, &[b"co", b"r3", b"red3", b"", b"d3"]);
    c.expect_pkt(JOB_CREATED, &h(3));
    c.send(SUBMIT_REDUCE_JOB, &[b"co", b"r4", b"red4", b"", b"d4"]);
    c.expect_pkt(JOB_CREATED, &h(4));
    // Foreground reduce jobs are not persisted, background ones are.
    assert_eq!(
        common::proto::sorted_lines(&show_jobs(&s)),
        vec![
            "P:1\t0\t0\t0",
            "P:2\t0\t0\t1",
            "P:3\t0\t0\t0",
            "P:4\t0\t0\t0"
        ]
    );
    let mut w = s.connect();
    w.can_do(&["co"]);
    w.send(GRAB_JOB_ALL, &[]);
    w.expect_pkt(JOB_ASSIGN_ALL, b"P:1\0co\0ru\0myreducer\0mapdata");
    w.send(GRAB_JOB_ALL, &[]);
    w.expect_pkt(JOB_ASSIGN_ALL, b"P:2\0co\0rb\0red2\0bgdata");
    // The older grab types drop the reducer.
    w.send(GRAB_JOB_UNIQ, &[]);
    w.expect_pkt(JOB_ASSIGN_UNIQ, b"P:3\0co\0r3\0d3");
    w.send(GRAB_JOB, &[]);
    w.expect_pkt(JOB_ASSIGN, b"P:4\0co\0d4");
    // Results go to the foreground submitter like any job's.
    w.work(WORK_COMPLETE, &h(1), b"reduced");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0reduced");
    // Same unique coalesces with plain jobs of the function.
    assert_eq!(c.submit(SUBMIT_JOB_BG, "co", b"r3", b"x"), h(3));
}

#[test]
fn reduce_unique_too_large() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(SUBMIT_REDUCE_JOB, &[b"co", b"u", b"r", b"", b"d"]);
    c.expect_pkt(JOB_CREATED, &h(1));
    // A 65-byte unique together with a 65-byte reducer is refused by both servers.
    c.send(
        SUBMIT_REDUCE_JOB_BACKGROUND,
        &[b"co", &[b'u'; 65], &[b'r'; 65], b"", b"d"],
    );
    c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
    c.sync();
}

#[test]
fn echo_round_trips_any_bytes() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(ECHO_REQ, &[b"abc\0def"]);
    c.expect_pkt(ECHO_RES, b"abc\0def");
    c.send(ECHO_REQ, &[]);
    c.expect_pkt(ECHO_RES, b"");
    c.send(ECHO_REQ, &[b"\0\0\0"]);
    c.expect_pkt(ECHO_RES, b"\0\0\0");
    let big: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i * 7 % 256) as u8).collect();
    let mut w = c.stream.try_clone().expect("clone");
    let payload = big.clone();
    // Write from another thread so a server that echoes while reading cannot deadlock us.
    let writer = std::thread::spawn(move || {
        std::io::Write::write_all(&mut w, &common::packet(common::REQ, ECHO_REQ, &[&payload]))
            .expect("write echo");
    });
    let p = c.expect(ECHO_RES);
    writer.join().expect("writer thread");
    assert!(p.payload == big, "4 MiB echo intact");
    c.sync();
}

#[test]
fn set_client_id_has_no_reply() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(SET_CLIENT_ID, &[b"first"]);
    c.send(SET_CLIENT_ID, &[b"second"]);
    c.sync();
    let listing = s.connect().admin_list("workers");
    assert!(listing.contains(" 127.0.0.1 second :\n"), "{listing:?}");
    assert!(!listing.contains("first"), "{listing:?}");
}
