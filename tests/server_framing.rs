//! Framing of the binary and text protocols (spec §1.1, §1.4, §2.1): how the server cuts the
//! byte stream into packets and which malformed input closes a connection or gets an ERROR.
mod common;

use common::proto::{cmd::*, server, QUIET};
use common::{packet, RES};
use std::time::Duration;

#[test]
fn text_and_binary_mix_on_one_connection() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(ECHO_REQ, &[b"one"]);
    c.expect_pkt(ECHO_RES, b"one");
    let v = c.admin_line("version");
    assert!(v.starts_with("OK "), "{v:?}");
    c.send(ECHO_REQ, &[b"two"]);
    c.expect_pkt(ECHO_RES, b"two");
    // Binary and text in a single write, answered in order.
    let mut bytes = packet(common::REQ, ECHO_REQ, &[b"three"]);
    bytes.extend_from_slice(b"status\n");
    bytes.extend_from_slice(&packet(common::REQ, ECHO_REQ, &[b"four"]));
    c.send_raw(&bytes);
    c.expect_pkt(ECHO_RES, b"three");
    let mut status = [0u8; 2];
    std::io::Read::read_exact(&mut c.stream, &mut status).expect("status reply");
    assert_eq!(&status, b".\n", "status of a fresh server is empty");
    c.expect_pkt(ECHO_RES, b"four");
}

#[test]
fn pipelined_admin_lines_are_answered_in_order() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send_raw(b"create function xy\r\nstatus\r\nversion\r\n");
    assert_eq!(c.read_line(), "OK\r\n");
    assert_eq!(c.read_line(), "xy\t0\t0\t0\n");
    assert_eq!(c.read_line(), ".\n");
    assert_eq!(c.read_line(), "OK 1.1.20+ds\n");
}

#[test]
fn admin_line_waits_for_its_newline_and_strips_cr() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send_raw(b"status");
    c.expect_silence(QUIET);
    c.send_raw(b"\r\n");
    assert_eq!(c.read_line(), ".\n");
    // A bare \n works too.
    assert_eq!(c.admin_list("status"), ".\n");
}

#[test]
fn bad_magic_closes_silently() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send_raw(&packet(b"\0XYZ", ECHO_REQ, &[b"x"]));
    assert!(c.is_closed(Duration::from_secs(3)), "bad magic must close");
}

#[test]
fn type_zero_closes_silently() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send_raw(&packet(common::REQ, 0, &[]));
    assert!(c.is_closed(Duration::from_secs(3)), "type 0 must close");
}

#[test]
fn type_43_and_above_close_silently() {
    let s = server(&[]);
    for kind in [43u32, 99, 0x0100_0000] {
        let mut c = s.connect();
        c.send_raw(&packet(common::REQ, kind, &[]));
        assert!(
            c.is_closed(Duration::from_secs(3)),
            "type {kind} must close"
        );
    }
    // The server itself is fine.
    let mut c = s.connect();
    c.sync();
}

#[test]
fn response_magic_gets_invalid_magic_error() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send_raw(&packet(RES, ECHO_REQ, &[b"x"]));
    c.expect_error("INVALID_MAGIC", "Request magic expected");
    // The connection stays open.
    c.sync();
}

#[test]
fn response_types_sent_to_the_server_are_invalid_commands() {
    let s = server(&[]);
    let mut c = s.connect();
    // Each with its proper field count, so no parser waits for missing fields.
    let cases: &[(u32, &[&[u8]])] = &[
        (NOOP, &[]),
        (JOB_CREATED, &[b"H:x:1"]),
        (NO_JOB, &[]),
        (JOB_ASSIGN, &[b"H:x:1", b"f", b"d"]),
        (ECHO_RES, &[b"e"]),
        (ERROR, &[b"CODE", b"text"]),
        (STATUS_RES, &[b"H:x:1", b"0", b"0", b"0", b"0"]),
        (OPTION_RES, &[b"exceptions"]),
        (JOB_ASSIGN_UNIQ, &[b"H:x:1", b"f", b"u", b"d"]),
        (JOB_ASSIGN_ALL, &[b"H:x:1", b"f", b"u", b"r", b"d"]),
        (STATUS_RES_UNIQUE, &[b"u", b"0", b"0", b"0", b"0", b"0"]),
    ];
    for (kind, args) in cases {
        c.send(*kind, args);
        c.expect_error("INVALID_COMMAND", "Command not expected");
    }
    c.sync();
}

#[test]
fn unused_sched_and_all_yours_are_invalid_commands() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(UNUSED, &[]);
    c.expect_error("INVALID_COMMAND", "Command not expected");
    c.send(
        SUBMIT_JOB_SCHED,
        &[b"f", b"u", b"1", b"2", b"3", b"4", b"5", b"data"],
    );
    c.expect_error("INVALID_COMMAND", "Command not expected");
    c.send(ALL_YOURS, &[]);
    c.expect_error("INVALID_COMMAND", "Command not expected");
    c.sync();
    // SUBMIT_JOB_SCHED created no job.
    let mut a = s.connect();
    assert_eq!(a.admin_list("show jobs"), ".\n");
}

#[test]
fn broken_connection_does_not_affect_others_or_queued_jobs() {
    let s = server(&[]);
    let mut client = s.connect();
    let handle = client.submit(SUBMIT_JOB, "keep", b"u1", b"payload");
    let mut bg = s.connect();
    let bg_handle = bg.submit(SUBMIT_JOB_BG, "keep", b"u2", b"bgdata");

    // Several connections misbehave in different ways and are closed.
    let mut bad1 = s.connect();
    bad1.send_raw(b"\0BAD\0\0\0\x07\0\0\0\0");
    let mut bad2 = s.connect();
    bad2.send_raw(&packet(common::REQ, 77, &[b"junk"]));
    let mut bad3 = s.connect();
    bad3.send_raw(b"maxqueue a b c d e f\n");
    for c in [&mut bad1, &mut bad2, &mut bad3] {
        assert!(c.is_closed(Duration::from_secs(3)));
    }

    // The others still work and the jobs are intact.
    client.sync();
    let mut w = s.connect();
    w.can_do(&["keep"]);
    let (h1, f1, d1) = w.grab_job();
    assert_eq!(
        (h1.clone(), f1, d1),
        (handle.clone(), b"keep".to_vec(), b"payload".to_vec())
    );
    let (h2, _, d2) = w.grab_job();
    assert_eq!((h2, d2), (bg_handle, b"bgdata".to_vec()));
    w.work(WORK_COMPLETE, &h1, b"done");
    let mut want = handle;
    want.push(0);
    want.extend_from_slice(b"done");
    client.expect_pkt(WORK_COMPLETE, &want);
}

#[test]
fn zero_length_payloads_and_split_writes_are_handled() {
    let s = server(&[]);
    let mut c = s.connect();
    // A packet delivered one byte at a time.
    let bytes = packet(common::REQ, ECHO_REQ, &[b"slow"]);
    for b in &bytes {
        c.send_raw(&[*b]);
        std::thread::sleep(Duration::from_millis(1));
    }
    c.expect_pkt(ECHO_RES, b"slow");
    // An empty ECHO, then a header split across two writes.
    c.send(ECHO_REQ, &[]);
    c.expect_pkt(ECHO_RES, b"");
    let bytes = packet(common::REQ, ECHO_REQ, &[b"split"]);
    c.send_raw(&bytes[..7]);
    c.expect_silence(Duration::from_millis(100));
    c.send_raw(&bytes[7..]);
    c.expect_pkt(ECHO_RES, b"split");
}

#[test]
fn payload_of_a_zero_field_command_is_skipped() {
    // gearmand 1.1.20 ignores a payload sent with a type that takes no arguments and reads
    // the following packet normally.
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"d");
    c.can_do(&["f"]);
    c.send_raw(&packet(common::REQ, PRE_SLEEP, &[b"zz"]));
    c.expect_pkt(NOOP, b"");
    c.send_raw(&packet(common::REQ, GRAB_JOB, &[b"xx"]));
    c.expect_pkt(JOB_ASSIGN, b"P:1\0f\0d");
    c.send_raw(&packet(common::REQ, GRAB_JOB_UNIQ, &[b"abc"]));
    c.expect_pkt(NO_JOB, b"");
    c.send_raw(&packet(common::REQ, RESET_ABILITIES, &[b"zzz"]));
    c.send_raw(&packet(common::REQ, NOOP, &[b"abc"]));
    c.expect_error("INVALID_COMMAND", "Command not expected");
    c.sync();
    // RESET_ABILITIES took effect (and requeued the job held by this connection).
    let listing = s.connect().admin_list("status");
    assert_eq!(listing, "f\t1\t0\t0\n.\n");
}

#[test]
fn admin_lines_are_limited_to_8192_bytes() {
    let s = server(&[]);
    // "status " + padding + "\n" = 8192 bytes: still a command (extra tokens are ignored).
    let mut c = s.connect();
    let line = format!("status {}", "x".repeat(8192 - 8));
    assert_eq!(c.admin_list(&line), ".\n");
    // Far longer lines close the connection.
    let mut c = s.connect();
    c.send_raw(format!("status {}\n", "x".repeat(20000)).as_bytes());
    assert!(c.is_closed(Duration::from_secs(3)));
    let mut c = s.connect();
    c.send_raw("y".repeat(100_000).as_bytes());
    assert!(c.is_closed(Duration::from_secs(3)));
    s.connect().sync();
}

#[test]
fn huge_declared_length_does_not_hurt_the_server() {
    let s = server(&[]);
    let mut bad = s.connect();
    let mut bytes = common::REQ.to_vec();
    bytes.extend_from_slice(&ECHO_REQ.to_be_bytes());
    bytes.extend_from_slice(&0xFFFF_FFF0u32.to_be_bytes());
    bytes.extend_from_slice(b"abc");
    bad.send_raw(&bytes);
    // gearmand waits for the rest; a server may also refuse it. No echo comes back either way.
    if let Some(p) = bad.try_recv_or_closed(QUIET) {
        assert_eq!(p.kind, ERROR, "{p:?}");
    }
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    c.sync();
}
