//! Unit tests of the server core, driven without sockets.

use super::config::Config;
use super::core::Core;
use super::model::ConnId;
use super::wire::Backing;
use crate::protocol::admin::{parse, tokenize};
use crate::protocol::{decode_packet, encode, Command, Decoded, Limits, Magic};

fn core(cfg: impl FnOnce(&mut Config)) -> Core {
    let mut c = Config::loopback();
    c.job_handle_prefix = "T".into();
    cfg(&mut c);
    Core::new(&c)
}

fn send(core: &mut Core, id: ConnId, cmd: Command, args: &[&[u8]]) {
    let bytes = encode(Magic::Request, cmd, args);
    match decode_packet(&bytes, &Limits::default()) {
        Ok(Decoded::Complete(p, _)) => {
            core.packet(id, &p, Backing::BORROWED);
        }
        other => panic!("{other:?}"),
    }
}

/// Every packet queued to `id` since the last call, as (command, args).
fn recv(core: &mut Core, id: ConnId) -> Vec<(Command, Vec<Vec<u8>>)> {
    let s = core.peers.get_mut(id).unwrap();
    let bytes = s.out.take_vec();
    let mut out = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        match decode_packet(rest, &Limits::default()).unwrap() {
            Decoded::Complete(p, used) => {
                out.push((p.command, p.args().iter().map(|a| a.to_vec()).collect()));
                rest = &rest[used..];
            }
            Decoded::Partial(_) => panic!("partial output"),
        }
    }
    out
}

fn admin(core: &mut Core, id: ConnId, line: &str) -> String {
    let tokens = tokenize(line.as_bytes()).unwrap();
    core.admin(id, parse(&tokens));
    let s = core.peers.get_mut(id).unwrap();
    String::from_utf8(s.out.take_vec()).unwrap()
}

fn submit(
    core: &mut Core,
    id: ConnId,
    cmd: Command,
    func: &str,
    unique: &str,
    data: &str,
) -> String {
    send(
        core,
        id,
        cmd,
        &[func.as_bytes(), unique.as_bytes(), data.as_bytes()],
    );
    let got = recv(core, id);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, Command::JobCreated);
    String::from_utf8(got[0].1[0].clone()).unwrap()
}

/// Grabs jobs until NO_JOB; returns their data.
fn drain(core: &mut Core, w: ConnId) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        send(core, w, Command::GrabJob, &[]);
        let p = recv(core, w);
        match p[0].0 {
            Command::NoJob => return got,
            Command::JobAssign => {
                got.push(String::from_utf8(p[0].1[2].clone()).unwrap());
                let h = p[0].1[0].clone();
                send(core, w, Command::WorkComplete, &[&h, b""]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn order_within_a_function_is_high_normal_low_fifo() {
    let mut c = core(|_| {});
    let cl = c.connect(1, "127.0.0.1".into());
    for (cmd, d) in [
        (Command::SubmitJobLowBg, "l1"),
        (Command::SubmitJobBg, "n1"),
        (Command::SubmitJobHighBg, "h1"),
        (Command::SubmitJobLowBg, "l2"),
        (Command::SubmitJobBg, "n2"),
        (Command::SubmitJobHighBg, "h2"),
    ] {
        submit(&mut c, cl, cmd, "f", "", d);
    }
    let w = c.connect(2, "127.0.0.1".into());
    send(&mut c, w, Command::CanDo, &[b"f"]);
    assert_eq!(drain(&mut c, w), ["h1", "h2", "n1", "n2", "l1", "l2"]);
}

fn three_functions(cfg: impl FnOnce(&mut Config)) -> Vec<String> {
    let mut c = core(cfg);
    let cl = c.connect(1, "x".into());
    for f in ["A", "B", "C"] {
        for i in 0..2 {
            let cmd = if f == "A" {
                Command::SubmitJobHighBg
            } else {
                Command::SubmitJobBg
            };
            submit(&mut c, cl, cmd, f, "", &format!("{f}{i}"));
        }
    }
    let w = c.connect(2, "x".into());
    for f in ["A", "B", "C"] {
        send(&mut c, w, Command::CanDo, &[f.as_bytes()]);
    }
    drain(&mut c, w)
}

#[test]
fn order_across_functions() {
    // 1.1.20: newest ability first, priority only within a function.
    assert_eq!(
        three_functions(|_| {}),
        ["C0", "C1", "B0", "B1", "A0", "A1"]
    );
    assert_eq!(
        three_functions(|c| c.round_robin = true),
        ["C0", "B0", "A0", "C1", "B1", "A1"]
    );
    // 2.0: priority first across all functions.
    assert_eq!(
        three_functions(|c| c.global_priority = true),
        ["A0", "A1", "C0", "C1", "B0", "B1"]
    );
}

#[test]
fn unique_coalescing_rules() {
    let mut c = core(|_| {});
    let a = c.connect(1, "x".into());
    let b = c.connect(2, "x".into());
    assert_eq!(submit(&mut c, a, Command::SubmitJob, "f", "u", "p1"), "T:1");
    // A later submission with other data and priority joins the first job.
    assert_eq!(
        submit(&mut c, b, Command::SubmitJobHigh, "f", "u", "p2"),
        "T:1"
    );
    assert_eq!(
        submit(&mut c, b, Command::SubmitJobBg, "f", "u", "p3"),
        "T:1"
    );
    // Same unique, other function: another job.
    assert_eq!(submit(&mut c, a, Command::SubmitJob, "g", "u", "p1"), "T:2");
    // Empty unique never coalesces; "-" keys on the data (but not empty data).
    assert_eq!(submit(&mut c, a, Command::SubmitJobBg, "f", "", "d"), "T:3");
    assert_eq!(submit(&mut c, a, Command::SubmitJobBg, "f", "", "d"), "T:4");
    assert_eq!(
        submit(&mut c, a, Command::SubmitJobBg, "f", "-", "same"),
        "T:5"
    );
    assert_eq!(
        submit(&mut c, a, Command::SubmitJobBg, "f", "-", "same"),
        "T:5"
    );
    assert_eq!(
        submit(&mut c, a, Command::SubmitJobBg, "f", "-", "other"),
        "T:6"
    );
    assert_eq!(submit(&mut c, a, Command::SubmitJobBg, "f", "-", ""), "T:7");
    assert_eq!(submit(&mut c, a, Command::SubmitJobBg, "f", "-", ""), "T:8");
    // A 64-byte unique is kept whole and coalesces (1.1.20 truncated it to 63 and did not).
    let u64 = "u".repeat(64);
    assert_eq!(
        submit(&mut c, a, Command::SubmitJobBg, "f", &u64, ""),
        "T:9"
    );
    assert_eq!(
        submit(&mut c, a, Command::SubmitJobBg, "f", &u64, ""),
        "T:9"
    );
    send(
        &mut c,
        a,
        Command::SubmitJobBg,
        &[b"f", "u".repeat(65).as_bytes(), b""],
    );
    assert_eq!(recv(&mut c, a)[0].0, Command::Error);
    // The worker gets the first submission's data; both foreground clients get the result.
    let w = c.connect(3, "x".into());
    send(&mut c, w, Command::CanDo, &[b"f"]);
    send(&mut c, w, Command::GrabJobUniq, &[]);
    let p = recv(&mut c, w);
    assert_eq!(
        p[0].1,
        [
            b"T:1".to_vec(),
            b"f".to_vec(),
            b"u".to_vec(),
            b"p1".to_vec()
        ]
    );
    send(&mut c, w, Command::WorkComplete, &[b"T:1", b"r"]);
    assert_eq!(recv(&mut c, a)[0].0, Command::WorkComplete);
    assert_eq!(recv(&mut c, b)[0].0, Command::WorkComplete);
}

#[test]
fn a_background_job_survives_a_foreground_coalescer_leaving() {
    let mut c = core(|_| {});
    let a = c.connect(1, "x".into());
    let b = c.connect(2, "x".into());
    submit(&mut c, a, Command::SubmitJobBg, "f", "u", "d");
    submit(&mut c, b, Command::SubmitJob, "f", "u", "d");
    c.disconnect(b);
    assert_eq!(admin(&mut c, a, "show jobs"), "T:1\t0\t0\t1\n.\n");
}

#[test]
fn exception_to_a_client_without_the_option_is_a_bare_work_fail() {
    let mut c = core(|_| {});
    let a = c.connect(1, "x".into());
    let b = c.connect(2, "x".into());
    send(&mut c, b, Command::OptionReq, &[b"Exceptions"]);
    assert_eq!(recv(&mut c, b)[0].1, [b"Exceptions".to_vec()]);
    submit(&mut c, a, Command::SubmitJob, "f", "u", "d");
    submit(&mut c, b, Command::SubmitJob, "f", "u", "d");
    let w = c.connect(3, "x".into());
    send(&mut c, w, Command::CanDo, &[b"f"]);
    send(&mut c, w, Command::GrabJob, &[]);
    recv(&mut c, w);
    send(&mut c, w, Command::WorkException, &[b"T:1", b"boom"]);
    assert_eq!(
        recv(&mut c, a),
        [(Command::WorkFail, vec![b"T:1".to_vec()])]
    );
    assert_eq!(
        recv(&mut c, b),
        [(
            Command::WorkException,
            vec![b"T:1".to_vec(), b"boom".to_vec()]
        )]
    );
}

#[test]
fn admin_listings() {
    let mut c = core(|_| {});
    let a = c.connect(7, "127.0.0.1".into());
    let w = c.connect(8, "127.0.0.1".into());
    send(&mut c, w, Command::SetClientId, &[b"my id"]);
    send(&mut c, w, Command::CanDo, &[b"first"]);
    send(&mut c, w, Command::CanDoTimeout, &[b"second", b"300"]);
    submit(&mut c, a, Command::SubmitJobBg, "first", "", "x");
    assert_eq!(
        admin(&mut c, a, "workers"),
        "8 127.0.0.1 my id : second first\n7 127.0.0.1 - :\n.\n"
    );
    assert_eq!(
        admin(&mut c, a, "status"),
        "first\t1\t0\t1\nsecond\t0\t0\t1\n.\n"
    );
    assert_eq!(
        admin(&mut c, a, "prioritystatus"),
        "first\t0\t1\t0\t1\nsecond\t0\t0\t0\t1\n.\n"
    );
    assert_eq!(admin(&mut c, a, "show unique jobs"), "\n.\n");
    assert_eq!(admin(&mut c, a, "cancel job T:1"), "OK\r\n");
    assert_eq!(admin(&mut c, a, "show jobs"), "T:1\t0\t1\t0\n.\n");
    assert_eq!(
        admin(&mut c, a, "drop function first"),
        "ERR there are still connected workers or executing clients\r\n"
    );
    assert_eq!(admin(&mut c, a, "create function xyz"), "OK\r\n");
    assert_eq!(admin(&mut c, a, "drop function XYZ"), "OK\r\n");
    assert_eq!(
        admin(&mut c, a, "drop function xyz"),
        "ERR function not found\r\n"
    );
    assert_eq!(admin(&mut c, a, "version"), "OK 1.1.20+ds\n");
}

#[test]
fn worker_wakeup_rotates() {
    let mut c = core(|c| c.worker_wakeup = 1);
    let cl = c.connect(1, "x".into());
    let ws: Vec<ConnId> = (0..3).map(|i| c.connect(10 + i, "x".into())).collect();
    for &w in &ws {
        send(&mut c, w, Command::CanDo, &[b"f"]);
        send(&mut c, w, Command::PreSleep, &[]);
    }
    for round in 0..3 {
        submit(&mut c, cl, Command::SubmitJobBg, "f", "", "d");
        let woken: Vec<usize> = ws.iter().map(|&w| recv(&mut c, w).len()).collect();
        let mut want = vec![0; 3];
        want[round] = 1;
        assert_eq!(woken, want, "round {round}");
    }
}

#[test]
fn requeue_and_retry_limit() {
    let mut c = core(|c| c.job_retries = 2);
    let cl = c.connect(1, "x".into());
    submit(&mut c, cl, Command::SubmitJob, "f", "", "d");
    for attempt in 1..=2 {
        let w = c.connect(2, "x".into());
        send(&mut c, w, Command::CanDo, &[b"f"]);
        send(&mut c, w, Command::GrabJob, &[]);
        assert_eq!(recv(&mut c, w)[0].0, Command::JobAssign);
        c.disconnect(w);
        if attempt == 1 {
            assert_eq!(admin(&mut c, cl, "show jobs"), "T:1\t1\t0\t0\n.\n");
        }
    }
    assert_eq!(
        recv(&mut c, cl),
        [(Command::WorkFail, vec![b"T:1".to_vec()])]
    );
    assert_eq!(admin(&mut c, cl, "status"), "f\t0\t0\t0\n.\n");
}

#[test]
fn finished_jobs_do_not_pile_up_timer_entries() {
    let mut c = core(|_| {});
    let cl = c.connect(1, "x".into());
    let w = c.connect(2, "x".into());
    send(&mut c, w, Command::CanDoTimeout, &[b"f", b"60000"]);
    for _ in 0..5000 {
        submit(&mut c, cl, Command::SubmitJobBg, "f", "", "d");
        assert_eq!(drain(&mut c, w).len(), 1);
    }
    assert!(c.timeouts.len() <= 1024 + 2, "{}", c.timeouts.len());
}

#[test]
fn a_future_epoch_job_does_not_hide_runnable_lower_priority_jobs() {
    let mut c = core(|_| {});
    let cl = c.connect(1, "x".into());
    let later = (super::submit::unix_now() + 3600).to_string();
    send(
        &mut c,
        cl,
        Command::SubmitJobEpoch,
        &[b"f", b"", later.as_bytes(), b"e"],
    );
    recv(&mut c, cl);
    submit(&mut c, cl, Command::SubmitJobLowBg, "f", "", "low");
    let w = c.connect(2, "x".into());
    send(&mut c, w, Command::CanDo, &[b"f"]);
    assert_eq!(drain(&mut c, w), ["low"]);
    assert_eq!(admin(&mut c, cl, "prioritystatus"), "f\t0\t1\t0\t1\n.\n");
}
