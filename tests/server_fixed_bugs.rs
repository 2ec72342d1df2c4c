//! gearmand 1.1.20 bugs that our server fixes.
//!
//! Each test asserts the buggy 1.1.20 behaviour when run against another gearmand
//! (`GEARMAND_BIN=/usr/sbin/gearmand`), proving the bug exists there, and the fixed
//! behaviour against ours.
mod common;

use common::is_ours;
use common::proto::{cmd::*, eventually, h, server, QUIET};
use common::{Conn, TestServer};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

fn show_jobs(s: &TestServer) -> String {
    s.connect().admin_list("show jobs")
}

/// Sends an ECHO and reads until its reply, returning the packets that came before it.
fn drain_until_echo(c: &mut Conn) -> Vec<common::Pkt> {
    c.send(ECHO_REQ, &[b"drain"]);
    let mut before = Vec::new();
    loop {
        let p = c.recv();
        if p.kind == ECHO_RES && p.payload == b"drain" {
            return before;
        }
        before.push(p);
    }
}

/// We fixed: the WORK_FAIL synthesised for a client without the `exceptions` option carried
/// a trailing NUL after the handle (libgearman's own WORK_FAIL match wants the exact handle).
#[test]
fn fixed_bug_synthesised_work_fail_has_no_trailing_nul() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    w.work(WORK_EXCEPTION, &handle, b"boom");
    if is_ours() {
        c.expect_pkt(WORK_FAIL, b"P:1");
    } else {
        c.expect_pkt(WORK_FAIL, b"P:1\0");
    }
}

/// We fixed: `create function NAME` with a bare LF line end lost the name's last character
/// (1.1.20 always cut two bytes, assuming CRLF).
#[test]
fn fixed_bug_create_function_with_lf_keeps_the_whole_name() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_line("create function xyz"), "OK\r\n");
    let listing = a.admin_list("status");
    if is_ours() {
        assert_eq!(listing, "xyz\t0\t0\t0\n.\n");
    } else {
        assert_eq!(listing, "xy\t0\t0\t0\n.\n");
    }
}

/// We fixed: a unique of exactly 64 bytes was stored as 63, so it was shown truncated and
/// never coalesced.
#[test]
fn fixed_bug_64_byte_unique_coalesces() {
    let s = server(&[]);
    let mut c = s.connect();
    let u64b = [b'u'; 64];
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", &u64b, b""), h(1));
    let second = c.submit(SUBMIT_JOB_BG, "f", &u64b, b"");
    let listing = s.connect().admin_list("show unique jobs");
    if is_ours() {
        assert_eq!(second, h(1));
        assert_eq!(listing, format!("{}\n.\n", "u".repeat(64)));
    } else {
        assert_eq!(second, h(2));
        let line = format!("{}\n", "u".repeat(63));
        assert_eq!(listing, format!("{line}{line}.\n"));
    }
}

/// We fixed: reduce submissions length-checked the reducer instead of the unique.
#[test]
fn fixed_bug_reduce_checks_the_unique_length() {
    let s = server(&[]);
    let mut c = s.connect();
    let long = [b'x'; 65];
    c.send(SUBMIT_REDUCE_JOB, &[b"co", &long, b"r", b"", b"d"]);
    let long_unique = c.recv();
    c.send(
        SUBMIT_REDUCE_JOB_BACKGROUND,
        &[b"co", b"u", &long, b"", b"d"],
    );
    let long_reducer = c.recv();
    let too_large = b"ARGUMENT_TOO_LARGE\0Unique value too large".to_vec();
    if is_ours() {
        assert_eq!((long_unique.kind, long_unique.payload), (ERROR, too_large));
        assert_eq!(
            (long_reducer.kind, long_reducer.payload),
            (JOB_CREATED, h(1))
        );
    } else {
        assert_eq!((long_unique.kind, long_unique.payload), (JOB_CREATED, h(1)));
        assert_eq!(
            (long_reducer.kind, long_reducer.payload),
            (ERROR, too_large)
        );
    }
}

/// We fixed: when a foreground client had coalesced onto a background job and then
/// disconnected, 1.1.20 abandoned the background job.
#[test]
fn fixed_bug_foreground_coalescer_leaving_keeps_the_background_job() {
    let s = server(&[]);
    let mut bg = s.connect();
    assert_eq!(bg.submit(SUBMIT_JOB_BG, "f", b"u", b"bgdata"), h(1));
    let mut fg = s.connect();
    assert_eq!(fg.submit(SUBMIT_JOB, "f", b"u", b"x"), h(1));
    drop(fg);
    assert!(eventually(Duration::from_secs(3), || {
        bg.get_status_unique(b"u") != "u\x001\x000\x000\x000\x001"
    }));
    let mut w = s.connect();
    w.can_do(&["f"]);
    let p = w.grab();
    if is_ours() {
        assert_eq!(
            (p.kind, p.payload),
            (JOB_ASSIGN, b"P:1\0f\0bgdata".to_vec())
        );
    } else {
        assert_eq!(p.kind, NO_JOB, "1.1.20 dropped the background job");
        assert_eq!(show_jobs(&s), ".\n");
    }
}

/// We fixed: nothing woke sleeping workers when an epoch job became due (2.0 fixed it too).
#[test]
fn fixed_bug_due_epoch_job_wakes_sleepers() {
    let s = server(&[]);
    let mut w = s.connect();
    w.can_do(&["f"]);
    assert!(!w.pre_sleep());
    let mut c = s.connect();
    let when = now() + 2;
    c.send(
        SUBMIT_JOB_EPOCH,
        &[b"f", b"", when.to_string().as_bytes(), b"d"],
    );
    c.expect_pkt(JOB_CREATED, &h(1));
    // 1.1.20 sends a useless NOOP at submit time; a worker then finds nothing and sleeps.
    if w.got_noop(QUIET) {
        w.grab_none();
        assert!(!w.pre_sleep());
    }
    // Ours must wake the sleeper once the job is due: a generous wait, which ends as soon as
    // the NOOP arrives. gearmand must not: absence is judged 1.5 s after the due time.
    let margin = if is_ours() {
        Duration::from_secs(30)
    } else {
        Duration::from_millis(1500)
    };
    let woken = w.got_noop(Duration::from_secs(when.saturating_sub(now())) + margin);
    if is_ours() {
        assert!(woken, "sleeper woken when the epoch job became due");
        assert_eq!(w.grab_job().0, h(1));
    } else {
        assert!(!woken, "1.1.20 never wakes sleepers for due epoch jobs");
        assert_eq!(w.grab_job().0, h(1), "but a manual GRAB gets it");
    }
}

/// We fixed: a priority list holding only not-yet-due epoch jobs hid the function's lower
/// priority jobs from GRAB, while PRE_SLEEP saw them (NOOP / NO_JOB spin).
#[test]
fn fixed_bug_future_epoch_job_does_not_hide_lower_priorities() {
    let s = server(&[]);
    let mut c = s.connect();
    let later = (now() + 30).to_string();
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"", later.as_bytes(), b"later"]);
    c.expect_pkt(JOB_CREATED, &h(1));
    assert_eq!(c.submit(SUBMIT_JOB_LOW_BG, "f", b"", b"low"), h(2));
    let mut w = s.connect();
    w.can_do(&["f"]);
    let p = w.grab();
    if is_ours() {
        assert_eq!((p.kind, p.payload), (JOB_ASSIGN, b"P:2\0f\0low".to_vec()));
        assert!(!w.pre_sleep(), "nothing runnable left: no NOOP");
    } else {
        assert_eq!(p.kind, NO_JOB);
        assert!(w.pre_sleep(), "1.1.20 answers PRE_SLEEP with NOOP: a spin");
        w.grab_none();
    }
}

/// We fixed: 1.1.20 kept one CAN_DO_TIMEOUT timer per connection and did not cancel it on
/// completion; after a first job completed, later jobs on that connection never timed out.
#[test]
fn fixed_bug_can_do_timeout_applies_to_every_job() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"1");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"2");
    let mut w = s.connect();
    w.send(CAN_DO_TIMEOUT, &[b"f", b"1000"]);
    w.sync();
    let (h1, _, _) = w.grab_job();
    w.work(WORK_COMPLETE, &h1, b"");
    let (h2, _, _) = w.grab_job();
    let grabbed = Instant::now();
    // Ours must requeue it after its 1 s: a generous wait, which ends as soon as it happens.
    // gearmand must not: absence is judged after 2 s.
    let patience = Duration::from_secs(if is_ours() { 30 } else { 2 });
    let requeued = eventually(patience, || show_jobs(&s) == "P:2\t1\t0\t1\n.\n");
    if is_ours() {
        assert!(requeued, "the second job timed out too");
        // Not before its timeout (a lower bound: a slow machine only makes it later).
        assert!(grabbed.elapsed() >= Duration::from_millis(900));
        w.work(WORK_COMPLETE, &h2, b"");
        w.expect_error("JOB_NOT_FOUND", "Job given in work result not found");
    } else {
        assert!(!requeued, "1.1.20 never timed out the second job");
        assert_eq!(show_jobs(&s), "P:2\t0\t0\t1\n.\n");
    }
}

/// We fixed: admin `cancel job` on a running job left its clients attached, so they got the
/// worker's results after the WORK_FAIL.
#[test]
fn fixed_bug_cancel_of_a_running_job_detaches_clients() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    assert_eq!(s.connect().admin_line("cancel job P:1"), "OK\r\n");
    c.expect_pkt(WORK_FAIL, &h(1));
    w.work(WORK_DATA, &handle, b"d");
    w.work(WORK_COMPLETE, &handle, b"r");
    // The worker is not told in either server; ours may refuse the results with an ERROR.
    for p in drain_until_echo(&mut w) {
        assert!(is_ours() && p.kind == ERROR, "worker got {p:?}");
    }
    if is_ours() {
        c.expect_silence(QUIET);
    } else {
        c.expect_pkt(WORK_DATA, b"P:1\0d");
        c.expect_pkt(WORK_COMPLETE, b"P:1\0r");
    }
    // Either way the job is gone afterwards.
    assert!(eventually(Duration::from_secs(2), || show_jobs(&s) == ".\n"));
}

/// We fixed: the 1.1.20 parser searched for NULs beyond the packet's length, so a request
/// with too few fields swallowed the next packet (and here, the connection).
#[test]
fn fixed_bug_parser_is_bounded_by_the_packet_size() {
    let s = server(&[]);
    let mut c = s.connect();
    // Three fields and data where SUBMIT_REDUCE_JOB needs four.
    c.send(SUBMIT_REDUCE_JOB, &[b"co", b"u", b"r", b"d"]);
    if is_ours() {
        // A clear error at once, instead of waiting for fields beyond the packet.
        let p = c
            .try_recv_or_closed(QUIET)
            .expect("an ERROR for the short packet");
        assert_eq!(p.kind, ERROR, "{p:?}");
        // The next packet is never taken as part of the broken one: it is answered, or the
        // connection was closed after the ERROR.
        c.send_raw(&common::packet(common::REQ, ECHO_REQ, &[b"after"]));
        if let Some(p) = c.try_recv_or_closed(Duration::from_secs(1)) {
            assert_eq!((p.kind, p.payload), (ECHO_RES, b"after".to_vec()));
        }
    } else {
        c.expect_silence(QUIET);
        c.send(ECHO_REQ, &[b"after"]);
        if let Some(p) = c.try_recv_or_closed(Duration::from_secs(1)) {
            panic!("1.1.20 swallowed the next packet, got {p:?}");
        }
    }
}

/// We fixed: GET_STATUS with a handle of 64 bytes or more (GET_STATUS_UNIQUE likewise) got
/// no reply and could close the connection; ours answers "unknown".
#[test]
fn fixed_bug_get_status_with_a_long_handle_answers_unknown() {
    let s = server(&[]);
    for n in [64usize, 100] {
        let long = "x".repeat(n);
        let mut c = s.connect();
        c.send(GET_STATUS, &[long.as_bytes()]);
        let mut u = s.connect();
        u.send(GET_STATUS_UNIQUE, &[long.as_bytes()]);
        if is_ours() {
            c.expect_pkt(STATUS_RES, format!("{long}\x000\x000\x000\x000").as_bytes());
            u.expect_pkt(
                STATUS_RES_UNIQUE,
                format!("{long}\x000\x000\x000\x000\x000").as_bytes(),
            );
        } else {
            // No reply at all (and sometimes the connection is closed).
            assert!(c.try_recv_or_closed(QUIET).is_none());
            assert!(u.try_recv_or_closed(QUIET).is_none());
        }
    }
    // The server itself is unharmed.
    s.connect().sync();
}

/// We fixed: an overflowing SUBMIT_JOB_EPOCH time got no reply at all in 1.1.20 (and the
/// connection was sometimes closed), which breaks clients that pair replies with submissions
/// by order. Ours answers with an ERROR and keeps the connection.
#[test]
fn fixed_bug_overflowing_epoch_gets_an_error() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(
        SUBMIT_JOB_EPOCH,
        &[b"f", b"", b"99999999999999999999999", b"d"],
    );
    let reply = c.try_recv_or_closed(QUIET);
    if is_ours() {
        let p = reply.expect("an ERROR for the overflowing epoch");
        assert_eq!(p.kind, ERROR, "{p:?}");
        c.sync();
    } else {
        assert!(reply.is_none(), "1.1.20 answers nothing: {reply:?}");
    }
    assert_eq!(show_jobs(&s), ".\n");
}

/// We fixed: `drop function` succeeded while jobs were queued, orphaning them (they stayed in
/// `show jobs` and no worker could ever get them). Ours refuses the drop instead.
#[test]
fn fixed_bug_drop_function_does_not_orphan_queued_jobs() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "q", b"", b"x");
    let reply = s.connect().admin_line("drop function q");
    let mut w = s.connect();
    w.can_do(&["q"]);
    if is_ours() {
        assert_eq!(
            reply,
            "ERR there are still connected workers or executing clients\r\n"
        );
        assert_eq!(w.grab_job().0, h(1));
    } else {
        assert_eq!(reply, "OK\r\n");
        w.grab_none();
        assert_eq!(show_jobs(&s), "P:1\t0\t0\t1\n.\n");
    }
}

/// We fixed: in 1.1.20 a submission with the unique of an abandoned job (its only client had
/// left and the job waited to be reaped) attached to that job, which was then reaped without
/// running: the new client waited forever.
#[test]
fn fixed_bug_submission_onto_an_abandoned_job_runs() {
    let s = server(&[]);
    let mut gone = s.connect();
    assert_eq!(gone.submit(SUBMIT_JOB, "f", b"u", b"first"), h(1));
    drop(gone);
    assert!(eventually(Duration::from_secs(3), || {
        let jobs = show_jobs(&s);
        jobs.contains("P:1\t0\t1\t0\n") || !jobs.contains("P:1\t")
    }));
    let mut c = s.connect();
    let handle = c.submit(SUBMIT_JOB, "f", b"u", b"second");
    let mut w = s.connect();
    w.can_do(&["f"]);
    if is_ours() {
        let (got, _, _) = w.grab_job();
        assert_eq!(got, handle);
        w.work(WORK_COMPLETE, &got, b"done");
        let mut want = handle.clone();
        want.extend_from_slice(b"\0done");
        c.expect_pkt(WORK_COMPLETE, &want);
    } else {
        assert_eq!(handle, h(1), "1.1.20 attached it to the abandoned job");
        w.grab_none();
        assert_eq!(show_jobs(&s), ".\n", "and reaped it without running it");
        c.expect_silence(QUIET);
    }
}
