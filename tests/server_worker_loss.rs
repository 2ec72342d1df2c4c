//! Worker loss and requeueing (spec §3.2, §3.8) and CAN_DO_TIMEOUT (spec §3.9).
mod common;

use common::proto::{cmd::*, eventually, h, server, QUIET};
use common::{Conn, TestServer};
use std::time::{Duration, Instant};

const NOT_FOUND_RESULT: &str = "Job given in work result not found";

fn show_jobs(s: &TestServer) -> String {
    s.connect().admin_list("show jobs")
}

fn grab_within(w: &mut Conn, timeout: Duration) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let deadline = Instant::now() + timeout;
    loop {
        let p = w.grab();
        if p.kind == JOB_ASSIGN {
            let f = p.fields(3);
            return (f[0].clone(), f[1].clone(), f[2].clone());
        }
        assert_eq!(p.kind, NO_JOB);
        assert!(Instant::now() < deadline, "no job within {timeout:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn disconnect_requeues_counts_retries_and_wakes_sleepers() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut sleeper = s.connect();
    sleeper.can_do(&["f"]);
    for retries in 0..2 {
        assert_eq!(show_jobs(&s), format!("P:1\t{retries}\t0\t0\n.\n"));
        let mut w = s.connect();
        w.can_do(&["f"]);
        assert_eq!(w.grab_job().0, h(1));
        if retries == 0 {
            // The sleeper goes to sleep with nothing to do.
            assert!(!sleeper.pre_sleep());
        }
        drop(w);
        if retries == 0 {
            assert!(
                sleeper.got_noop(Duration::from_secs(3)),
                "requeue wakes sleepers"
            );
        }
        assert!(eventually(Duration::from_secs(3), || {
            show_jobs(&s) == format!("P:1\t{}\t0\t0\n.\n", retries + 1)
        }));
    }
    // The client was told nothing; the job still runs to completion.
    c.expect_silence(QUIET);
    let (handle, _, data) = sleeper.grab_job();
    assert_eq!((handle.clone(), data), (h(1), b"x".to_vec()));
    sleeper.work(WORK_COMPLETE, &handle, b"done");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0done");
}

#[test]
fn job_retries_limit_fails_the_job() {
    let s = server(&["-j", "2"]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    c1.submit(SUBMIT_JOB, "f", b"u", b"x");
    c2.submit(SUBMIT_JOB, "f", b"u", b"x");
    let mut bg = s.connect();
    bg.submit(SUBMIT_JOB_BG, "f", b"u", b"x");
    for attempt in 1..=2 {
        let mut w = s.connect();
        w.can_do(&["f"]);
        assert_eq!(grab_within(&mut w, Duration::from_secs(3)).0, h(1));
        drop(w);
        if attempt == 1 {
            assert!(eventually(Duration::from_secs(3), || show_jobs(&s)
                == "P:1\t1\t0\t0\n.\n"));
            c1.expect_silence(Duration::from_millis(10));
        }
    }
    // The second loss reached the limit: every attached client gets WORK_FAIL, bare handle.
    c1.expect_pkt(WORK_FAIL, &h(1));
    c2.expect_pkt(WORK_FAIL, &h(1));
    bg.expect_silence(Duration::from_millis(10));
    assert_eq!(show_jobs(&s), ".\n");
    assert_eq!(c1.get_status(&h(1)), "P:1\x000\x000\x000\x000");
}

#[test]
fn job_retries_one_means_a_single_attempt() {
    let s = server(&["--job-retries=1"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_HIGH, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    assert_eq!(w.grab_job().0, h(1));
    drop(w);
    c.expect_pkt(WORK_FAIL, &h(1));
    assert_eq!(show_jobs(&s), ".\n");
}

#[test]
fn background_job_dropped_at_the_retry_limit() {
    let s = server(&["-j", "1"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    assert_eq!(w.grab_job().0, h(1));
    drop(w);
    assert!(eventually(Duration::from_secs(3), || show_jobs(&s) == ".\n"));
    c.expect_silence(Duration::from_millis(10));
}

#[test]
fn cant_do_while_holding_a_job_requeues_it() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["g", "f"]);
    let (handle, _, _) = w.grab_job();
    w.send(CANT_DO, &[b"f"]);
    w.sync();
    assert_eq!(show_jobs(&s), "P:1\t1\t0\t0\n.\n");
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x000\x000\x000");
    // The old holder's result is refused.
    w.work(WORK_COMPLETE, &handle, b"late");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
    c.expect_silence(QUIET);
    let mut w2 = s.connect();
    w2.can_do(&["f"]);
    let (handle2, _, _) = w2.grab_job();
    assert_eq!(handle2, handle);
    w2.work(WORK_COMPLETE, &handle2, b"ok");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0ok");
}

#[test]
fn cant_do_of_another_function_keeps_the_job() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["g", "f"]);
    let (handle, _, _) = w.grab_job();
    w.send(CANT_DO, &[b"g"]);
    w.sync();
    assert_eq!(show_jobs(&s), "P:1\t0\t0\t0\n.\n");
    w.work(WORK_COMPLETE, &handle, b"ok");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0ok");
}

#[test]
fn reset_abilities_while_holding_a_job_requeues_it() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    let mut sleeper = s.connect();
    sleeper.can_do(&["f"]);
    assert!(!sleeper.pre_sleep());
    w.send(RESET_ABILITIES, &[]);
    w.sync();
    assert!(sleeper.got_noop(Duration::from_secs(3)));
    assert_eq!(show_jobs(&s), "P:1\t1\t0\t0\n.\n");
    w.work(WORK_DATA, &handle, b"late");
    w.expect_error("JOB_NOT_FOUND", "Job does not exist on server");
    assert_eq!(sleeper.grab_job().0, h(1));
}

#[test]
fn can_do_timeout_requeues_after_at_least_a_second() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut slow = s.connect();
    slow.send(CAN_DO_TIMEOUT, &[b"f", b"300"]);
    slow.sync();
    let mut peer = s.connect();
    peer.can_do(&["f"]);
    let (handle, _, _) = slow.grab_job();
    let started = Instant::now();
    assert!(!peer.pre_sleep());
    // Values under 1000 ms are raised to 1000 ms; expiry requeues and wakes the peer.
    assert!(
        peer.got_noop(Duration::from_secs(4)),
        "peer woken by the requeue"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900),
        "requeued after only {waited:?}"
    );
    assert_eq!(show_jobs(&s), "P:1\t1\t0\t0\n.\n");
    c.expect_silence(Duration::from_millis(10));
    // The slow worker's late completion is refused; the peer completes it.
    slow.work(WORK_COMPLETE, &handle, b"late");
    slow.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
    let (handle2, _, _) = peer.grab_job();
    assert_eq!(handle2, h(1));
    peer.work(WORK_COMPLETE, &handle2, b"ok");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0ok");
}

#[test]
fn can_do_timeout_with_retry_limit_fails_the_job() {
    let s = server(&["-j", "1"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut slow = s.connect();
    slow.send(CAN_DO_TIMEOUT, &[b"f", b"1000"]);
    slow.sync();
    let started = Instant::now();
    assert_eq!(slow.grab_job().0, h(1));
    let p = c.expect(WORK_FAIL);
    assert_eq!(p.payload, h(1));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert_eq!(show_jobs(&s), ".\n");
}

#[test]
fn can_do_timeout_zero_or_garbage_means_no_timeout() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    c.submit(SUBMIT_JOB, "g", b"", b"y");
    let mut w = s.connect();
    w.send(CAN_DO_TIMEOUT, &[b"f", b"0"]);
    w.send(CAN_DO_TIMEOUT, &[b"g", b"-5"]);
    w.sync();
    let (hg, _, _) = w.grab_job();
    let (hf, _, _) = w.grab_job();
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(
        common::proto::sorted_lines(&s.connect().admin_list("show jobs")),
        vec!["P:1\t0\t0\t0", "P:2\t0\t0\t0"]
    );
    w.work(WORK_COMPLETE, &hf, b"");
    w.work(WORK_COMPLETE, &hg, b"");
    c.expect(WORK_COMPLETE);
    c.expect(WORK_COMPLETE);
}

#[test]
fn pre_sleep_cancels_the_timeout() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let mut w = s.connect();
    w.send(CAN_DO_TIMEOUT, &[b"f", b"1000"]);
    w.sync();
    let (handle, _, _) = w.grab_job();
    assert!(!w.pre_sleep());
    std::thread::sleep(Duration::from_millis(1400));
    assert_eq!(show_jobs(&s), "P:1\t0\t0\t0\n.\n");
    w.work(WORK_COMPLETE, &handle, b"ok");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0ok");
}

#[test]
fn can_do_timeout_out_of_range_registers_nothing() {
    // The number is read with strtol; an out-of-range value (or LONG_MAX itself) makes
    // gearmand ignore the whole packet, ability included. Garbage reads as 0: no timeout.
    let s = server(&[]);
    let mut w = s.connect();
    w.send(SET_CLIENT_ID, &[b"w"]);
    for (func, ms) in [
        (&b"huge"[..], &b"11111111111111111111111"[..]),
        (b"max", b"9223372036854775807"),
        (b"big", b"1000000000000000000"),
        (b"text", b"abc"),
    ] {
        w.send(CAN_DO_TIMEOUT, &[func, ms]);
    }
    w.sync();
    let listing = s.connect().admin_list("workers");
    assert!(
        listing
            .lines()
            .any(|l| l.ends_with(" 127.0.0.1 w : text big")),
        "{listing:?}"
    );
}

#[test]
fn jobs_of_a_lost_worker_are_requeued_newest_first() {
    // gearmand keeps a worker's jobs newest first and requeues them in that order.
    let s = server(&[]);
    let mut c = s.connect();
    for d in ["1", "2", "3"] {
        c.submit(SUBMIT_JOB_BG, "f", b"", d.as_bytes());
    }
    let mut w = s.connect();
    w.can_do(&["f"]);
    let first: Vec<Vec<u8>> = (0..3).map(|_| w.grab_job().2).collect();
    assert_eq!(first, [b"1", b"2", b"3"]);
    drop(w);
    let mut w2 = s.connect();
    w2.can_do(&["f"]);
    assert!(eventually(Duration::from_secs(3), || show_jobs(&s)
        .lines()
        .filter(|l| l.contains("\t1\t0\t1"))
        .count()
        == 3));
    let again: Vec<Vec<u8>> = (0..3).map(|_| w2.grab_job().2).collect();
    assert_eq!(again, [b"3", b"2", b"1"]);
    // CANT_DO requeues the same way.
    w2.send(CANT_DO, &[b"f"]);
    w2.can_do(&["f"]);
    let third: Vec<Vec<u8>> = (0..3).map(|_| w2.grab_job().2).collect();
    assert_eq!(third, [b"1", b"2", b"3"]);
}

#[test]
fn requeue_by_cant_do_wakes_the_sleeping_sender() {
    // gearmand requeues (and wakes the function's sleepers) before it drops the ability, so a
    // worker that went to sleep while holding the job gets a NOOP for it.
    let s = server(&[]);
    let mut c = s.connect();
    for cmd in [CANT_DO, RESET_ABILITIES] {
        c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
        let mut w = s.connect();
        w.can_do(&["f"]);
        let (handle, _, _) = w.grab_job();
        assert!(!w.pre_sleep());
        if cmd == CANT_DO {
            w.send(CANT_DO, &[b"f"]);
        } else {
            w.send(RESET_ABILITIES, &[]);
        }
        assert!(w.got_noop(Duration::from_secs(2)), "command {cmd}");
        // Clean up: someone else runs the job.
        let mut other = s.connect();
        other.can_do(&["f"]);
        let (h2, _, _) = other.grab_job();
        assert_eq!(h2, handle);
        other.work(WORK_COMPLETE, &h2, b"");
        other.sync();
    }
}

#[test]
fn round_robin_with_a_duplicate_ability_requeues_oldest_first() {
    // An obscure corner, kept because it is what 1.1.20 does: gearmand files each held job
    // under the ability registration it was taken through and requeues registration by
    // registration. With `-R` and CAN_DO sent twice the two jobs sit under different
    // registrations, which round-robin has put back in registration order.
    let s = server(&["-R"]);
    let mut c = s.connect();
    for d in ["1", "2", "3"] {
        c.submit(SUBMIT_JOB_BG, "g", b"", d.as_bytes());
    }
    let mut w = s.connect();
    w.can_do(&["g", "g"]);
    assert_eq!(w.grab_job().2, b"1");
    assert_eq!(w.grab_job().2, b"2");
    w.send(RESET_ABILITIES, &[]);
    w.sync();
    let mut x = s.connect();
    x.can_do(&["g"]);
    let order: Vec<Vec<u8>> = (0..3).map(|_| x.grab_job().2).collect();
    assert_eq!(order, [b"3", b"1", b"2"]);
}

#[test]
fn lost_worker_jobs_are_handled_ability_by_ability() {
    // gearmand walks the worker's abilities (newest registration first) and, under each,
    // the jobs taken through it (newest first). `-j 1` makes the order visible as WORK_FAILs.
    for round_robin in [false, true] {
        let s = if round_robin {
            server(&["-j", "1", "-R"])
        } else {
            server(&["-j", "1"])
        };
        let mut c = s.connect();
        for (f, d) in [("f", "f1"), ("g", "g1"), ("f", "f2"), ("g", "g2")] {
            c.submit(SUBMIT_JOB, f, b"", d.as_bytes());
        }
        let mut w = s.connect();
        w.can_do(&["f", "g"]);
        let mut got: Vec<Vec<u8>> = (0..4).map(|_| w.grab_job().2).collect();
        got.sort();
        assert_eq!(got, [b"f1", b"f2", b"g1", b"g2"]);
        drop(w);
        let failed: Vec<Vec<u8>> = (0..4).map(|_| c.expect(WORK_FAIL).payload).collect();
        assert_eq!(
            failed,
            [h(4), h(2), h(3), h(1)],
            "round robin: {round_robin}"
        );
    }
}
