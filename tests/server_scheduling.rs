//! Assignment order and the NOOP wake-up rules.
mod common;

use common::proto::{cmd::*, h, server, show};
use common::Conn;
use std::time::Duration;

/// Grabs until NO_JOB and returns the data of every job, in order.
fn drain(w: &mut Conn) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let p = w.grab();
        match p.kind {
            NO_JOB => return out,
            JOB_ASSIGN => out.push(show(&p.fields(3)[2])),
            k => panic!("unexpected packet {k}"),
        }
    }
}

#[test]
fn within_a_function_high_normal_low_fifo() {
    let s = server(&[]);
    let mut c = s.connect();
    for (kind, data) in [
        (SUBMIT_JOB_BG, "n1"),
        (SUBMIT_JOB_LOW_BG, "l1"),
        (SUBMIT_JOB_HIGH_BG, "h1"),
        (SUBMIT_JOB, "n2"),
        (SUBMIT_JOB_LOW, "l2"),
        (SUBMIT_JOB_HIGH, "h2"),
        (SUBMIT_JOB_BG, "n3"),
    ] {
        c.submit(kind, "f", b"", data.as_bytes());
    }
    let mut w = s.connect();
    w.can_do(&["f"]);
    assert_eq!(drain(&mut w), ["h1", "h2", "n1", "n2", "n3", "l1", "l2"]);
}

#[test]
fn across_functions_last_registered_first() {
    // 1.1.20 walks the worker's abilities newest first; priority only orders within one.
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_HIGH_BG, "fA", b"", b"A-high");
    c.submit(SUBMIT_JOB_LOW_BG, "fB", b"", b"B-low");
    c.submit(SUBMIT_JOB_BG, "fB", b"", b"B-normal");
    c.submit(SUBMIT_JOB_BG, "fA", b"", b"A-normal");
    let mut w = s.connect();
    w.can_do(&["fA", "fB"]);
    assert_eq!(drain(&mut w), ["B-normal", "B-low", "A-high", "A-normal"]);
}

#[test]
fn without_round_robin_each_function_is_drained_in_turn() {
    let s = server(&[]);
    let mut c = s.connect();
    for i in 0..2 {
        for f in ["A", "B", "C"] {
            c.submit(SUBMIT_JOB_BG, f, b"", format!("{f}{i}").as_bytes());
        }
    }
    let mut w = s.connect();
    w.can_do(&["A", "B", "C"]);
    assert_eq!(drain(&mut w), ["C0", "C1", "B0", "B1", "A0", "A1"]);
}

#[test]
fn round_robin_rotates_functions() {
    let s = server(&["-R"]);
    let mut c = s.connect();
    for i in 0..2 {
        for f in ["A", "B", "C"] {
            c.submit(SUBMIT_JOB_BG, f, b"", format!("{f}{i}").as_bytes());
        }
    }
    let mut w = s.connect();
    w.can_do(&["A", "B", "C"]);
    assert_eq!(drain(&mut w), ["C0", "B0", "A0", "C1", "B1", "A1"]);
}

#[test]
fn round_robin_long_option() {
    let s = server(&["--round-robin"]);
    let mut c = s.connect();
    for i in 0..2 {
        for f in ["A", "B"] {
            c.submit(SUBMIT_JOB_BG, f, b"", format!("{f}{i}").as_bytes());
        }
    }
    let mut w = s.connect();
    w.can_do(&["A", "B"]);
    assert_eq!(drain(&mut w), ["B0", "A0", "B1", "A1"]);
}

#[test]
fn requeued_job_goes_to_the_tail() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b"job1"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b"job2"), h(2));
    let mut w1 = s.connect();
    w1.can_do(&["f"]);
    let (handle, _, data) = w1.grab_job();
    assert_eq!((handle, data), (h(1), b"job1".to_vec()));
    drop(w1);
    let mut w2 = s.connect();
    w2.can_do(&["f"]);
    // Poll until the server noticed the disconnect and requeued job 1 behind job 2.
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while got.len() < 2 && std::time::Instant::now() < deadline {
        got.extend(drain(&mut w2));
    }
    assert_eq!(got, ["job2", "job1"]);
}

#[test]
fn grab_variants_on_a_plain_job() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"u1", b"d1");
    c.submit(SUBMIT_JOB_BG, "f", b"u2", b"d2");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"d3");
    let mut w = s.connect();
    w.can_do(&["f"]);
    w.send(GRAB_JOB, &[]);
    w.expect_pkt(JOB_ASSIGN, b"P:1\0f\0d1");
    w.send(GRAB_JOB_UNIQ, &[]);
    w.expect_pkt(JOB_ASSIGN_UNIQ, b"P:2\0f\0u2\0d2");
    // GRAB_JOB_ALL on a job without a reducer answers JOB_ASSIGN_UNIQ.
    w.send(GRAB_JOB_ALL, &[]);
    w.expect_pkt(JOB_ASSIGN_UNIQ, b"P:3\0f\0\0d3");
    for kind in [GRAB_JOB, GRAB_JOB_UNIQ, GRAB_JOB_ALL] {
        w.send(kind, &[]);
        w.expect_pkt(NO_JOB, b"");
    }
}

#[test]
fn worker_without_abilities_gets_no_job() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"");
    let mut w = s.connect();
    w.grab_none();
    w.can_do(&["g"]);
    w.grab_none();
    // A worker may hold several jobs at once.
    c.submit(SUBMIT_JOB_BG, "g", b"", b"1");
    c.submit(SUBMIT_JOB_BG, "g", b"", b"2");
    assert_eq!(w.grab_job().0, h(2));
    assert_eq!(w.grab_job().0, h(3));
    let mut a = s.connect();
    assert_eq!(
        common::proto::function_line(&a.admin_list("status"), "g").as_deref(),
        Some("g\t2\t2\t1")
    );
}

#[test]
fn noop_wakes_every_sleeper_of_the_function_once() {
    let s = server(&[]);
    let mut sleepers: Vec<Conn> = (0..3).map(|_| s.connect()).collect();
    for w in &mut sleepers {
        w.can_do(&["f"]);
        assert!(!w.pre_sleep(), "no work yet: no NOOP");
    }
    let mut awake = s.connect();
    awake.can_do(&["f"]);
    let mut other = s.connect();
    other.can_do(&["g"]);
    assert!(!other.pre_sleep());
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"1");
    // The submission is processed (its JOB_CREATED came back), so every NOOP it causes is
    // queued before any later ECHO answer: the checks below involve no time window.
    for w in &mut sleepers {
        assert_eq!(w.noops_before_sync(), 1, "sleeper woken once");
    }
    assert_eq!(awake.noops_before_sync(), 0);
    assert_eq!(other.noops_before_sync(), 0);
    // A second job before anyone grabs sends no further NOOP.
    c.submit(SUBMIT_JOB_BG, "f", b"", b"2");
    for w in &mut sleepers {
        assert_eq!(w.noops_before_sync(), 0);
    }
    // A sleeper for two functions is woken by a job of either.
    let mut both = s.connect();
    both.can_do(&["x", "g"]);
    assert!(!both.pre_sleep());
    c.submit(SUBMIT_JOB_BG, "x", b"", b"");
    assert_eq!(both.noops_before_sync(), 1);
    assert_eq!(other.noops_before_sync(), 0);
}

#[test]
fn pre_sleep_with_work_waiting_gets_an_instant_noop_and_no_second_one() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    let mut w = s.connect();
    w.can_do(&["f"]);
    assert!(w.pre_sleep(), "instant NOOP");
    // Not marked sleeping: another job wakes nobody.
    c.submit(SUBMIT_JOB_BG, "f", b"", b"y");
    assert_eq!(w.noops_before_sync(), 0);
    // Every PRE_SLEEP with work waiting answers again.
    assert!(w.pre_sleep());
    // GRAB clears the flags; with work left PRE_SLEEP still answers at once.
    assert_eq!(w.grab_job().0, h(1));
    assert!(w.pre_sleep());
    assert_eq!(w.grab_job().0, h(2));
    // Now the queue is empty: the worker sleeps until the next job.
    assert!(!w.pre_sleep());
    c.submit(SUBMIT_JOB_BG, "f", b"", b"z");
    assert_eq!(
        w.noops_before_sync(),
        1,
        "one NOOP for the new job, and only one"
    );
}

#[test]
fn sleeper_woken_again_after_grab() {
    let s = server(&[]);
    let mut w = s.connect();
    w.can_do(&["f"]);
    let mut c = s.connect();
    for round in 0..3 {
        assert!(!w.pre_sleep());
        c.submit(SUBMIT_JOB_BG, "f", b"", b"");
        assert!(w.got_noop(Duration::from_secs(3)), "round {round}");
        let (handle, _, _) = w.grab_job();
        w.work(WORK_COMPLETE, &handle, b"");
        w.grab_none();
    }
}

#[test]
fn worker_wakeup_one_rotates_between_sleepers() {
    let s = server(&["-w", "1"]);
    let mut sleepers: Vec<Conn> = (0..3).map(|_| s.connect()).collect();
    for w in &mut sleepers {
        w.can_do(&["f"]);
        assert!(!w.pre_sleep());
    }
    let mut c = s.connect();
    let mut woken_count = [0usize; 3];
    for _ in 0..6 {
        // Once JOB_CREATED is back the NOOPs of this job are queued: each sleeper's next
        // ECHO answer shows whether it got one (no time window).
        c.submit(SUBMIT_JOB_BG, "f", b"", b"");
        let mut woken = Vec::new();
        for (i, w) in sleepers.iter_mut().enumerate() {
            match w.noops_before_sync() {
                0 => {}
                1 => woken.push(i),
                n => panic!("sleeper {i} got {n} NOOPs for one job"),
            }
        }
        assert_eq!(woken.len(), 1, "exactly one sleeper per job: {woken:?}");
        let i = woken[0];
        woken_count[i] += 1;
        // The woken one takes the job and goes back to sleep.
        let (handle, _, _) = sleepers[i].grab_job();
        sleepers[i].work(WORK_COMPLETE, &handle, b"");
        sleepers[i].grab_none();
        assert!(!sleepers[i].pre_sleep());
    }
    // Rotation: each sleeper was woken twice over six jobs.
    assert_eq!(woken_count, [2, 2, 2]);
}

#[test]
fn worker_wakeup_two_wakes_two() {
    let s = server(&["--worker-wakeup=2"]);
    let mut sleepers: Vec<Conn> = (0..3).map(|_| s.connect()).collect();
    for w in &mut sleepers {
        w.can_do(&["f"]);
        assert!(!w.pre_sleep());
    }
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"");
    let woken: usize = sleepers.iter_mut().map(|w| w.noops_before_sync()).sum();
    assert_eq!(woken, 2);
}

#[test]
fn sleeping_worker_that_submits_gets_noop_before_job_created() {
    // gearmand wakes the sleepers while it creates the job, before it answers the submitter.
    let s = server(&[]);
    let mut c = s.connect();
    c.can_do(&["f"]);
    assert!(!c.pre_sleep());
    c.send(SUBMIT_JOB_BG, &[b"f", b"", b"x"]);
    c.expect_pkt(NOOP, b"");
    c.expect_pkt(JOB_CREATED, &h(1));
}
