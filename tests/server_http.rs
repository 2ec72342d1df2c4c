//! gearmand's HTTP protocol (`-r http --http-port=N`): jobs submitted with GET/POST /FUNCTION,
//! `X-Gearman-Unique`, `X-Gearman-Background`, `X-Gearman-Priority`, the handle in
//! `X-Gearman-Job-Handle` and a foreground job's result as the body; bad requests.
//!
//! Runs against Debian's gearmand too (`GEARMAND_BIN=/usr/sbin/gearmand`). gearmand 1.1.20
//! answers in HTTP/1.0 and closes every connection after one response, and closes bad requests
//! without a word; ours answers 4xx/5xx and keeps HTTP/1.1 connections open. The tests assert
//! what both do, and each server's own answer where they differ.

mod common;

use common::http::{request, Http};
use common::proto::{cmd::*, server};
use common::{free_port, is_ours, Conn, TestServer};
use std::time::{Duration, Instant};

fn start(extra: &[&str]) -> (TestServer, u16) {
    let port = free_port();
    let http = format!("--http-port={port}");
    let mut args = vec!["-r", "http", &http];
    args.extend_from_slice(extra);
    let s = server(&args);
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "HTTP port {port} never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    (s, port)
}

/// A worker for `func` that is asleep, so that a new job wakes it (NOOP).
fn sleeping_worker(s: &TestServer, func: &str) -> Conn {
    let mut w = s.connect();
    w.can_do(&[func]);
    assert!(!w.pre_sleep());
    w
}

fn wake_and_grab(w: &mut Conn) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    assert!(
        w.got_noop(Duration::from_secs(5)),
        "no NOOP for the HTTP job"
    );
    w.grab_job()
}

#[test]
fn background_request_creates_a_job_and_answers_its_handle() {
    let (s, port) = start(&[]);
    let r = request(
        port,
        b"POST /hb HTTP/1.0\r\nX-Gearman-Background: true\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.status_line, "HTTP/1.0 200 OK");
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:1"));
    assert_eq!(r.header("X-Gearman-Command"), Some("JOB_CREATED"));
    assert!(r.body.is_empty());
    let mut admin = s.connect();
    assert_eq!(admin.admin_list("status"), "hb\t1\t0\t0\n.\n");
    // The body is the workload; GET without a body makes an empty one.
    let mut w = s.connect();
    w.can_do(&["hb"]);
    assert_eq!(
        w.grab_job(),
        (b"P:1".to_vec(), b"hb".to_vec(), b"hello".to_vec())
    );
    let r = request(
        port,
        b"GET /hb HTTP/1.0\r\nX-Gearman-Background: true\r\n\r\n",
    );
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:2"));
    assert_eq!(w.grab_job().2, b"");
}

#[test]
fn foreground_request_returns_the_result_as_the_body() {
    let (s, port) = start(&[]);
    let mut w = sleeping_worker(&s, "rev");
    let mut c = Http::connect(port);
    c.send(b"POST /rev HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello");
    let (handle, _, data) = wake_and_grab(&mut w);
    assert_eq!(data, b"hello");
    w.work(WORK_COMPLETE, &handle, b"olleh");
    let r = c.reply();
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("X-Gearman-Command"), Some("WORK_COMPLETE"));
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:1"));
    assert_eq!(r.body, b"olleh");
    assert!(
        c.closed(Duration::from_secs(2)),
        "HTTP/1.0: closed after the response"
    );

    // A failed job: still 200, the command says WORK_FAIL (as gearmand).
    assert!(!w.pre_sleep());
    let mut c = Http::connect(port);
    c.send(b"GET /rev HTTP/1.0\r\n\r\n");
    let (handle, _, _) = wake_and_grab(&mut w);
    w.work(WORK_FAIL, &handle, b"");
    let r = c.reply();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("X-Gearman-Command"), Some("WORK_FAIL"));
    if is_ours() {
        // gearmand 1.1.20 cuts the last character off this handle ("P:" for P:2).
        assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:2"));
    }
}

#[test]
fn unique_header_and_payload_coalesce() {
    let (s, port) = start(&[]);
    let bg = |unique: &str, body: &str| {
        let raw = format!(
            "POST /u HTTP/1.0\r\nX-Gearman-Background: true\r\n{unique}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        request(port, raw.as_bytes())
            .header("X-Gearman-Job-Handle")
            .map(String::from)
    };
    let a = bg("X-Gearman-Unique: same\r\n", "one");
    let b = bg("X-Gearman-Unique: same\r\n", "two");
    assert_eq!(a, b);
    // Without the header the unique is "-": the payload is the key.
    let c = bg("", "payload");
    let d = bg("", "payload");
    let e = bg("", "other");
    assert_eq!(c, d);
    assert_ne!(c, e);
    assert_ne!(a, c);
    let mut admin = s.connect();
    let listed = admin.admin_list("show unique jobs");
    let mut uniques: Vec<&str> = listed.lines().collect();
    uniques.sort_unstable();
    assert_eq!(uniques, ["-", "-", ".", "same"]);
}

#[test]
fn priority_header_selects_the_queue() {
    let (s, port) = start(&[]);
    for prio in ["High", "low", "LOW", "normal", ""] {
        let raw = format!(
            "GET /pr HTTP/1.0\r\nX-Gearman-Background: TRUE\r\nX-Gearman-Priority: {prio}\r\n\r\n"
        );
        assert_eq!(request(port, raw.as_bytes()).status, 200);
    }
    let mut admin = s.connect();
    assert_eq!(admin.admin_list("prioritystatus"), "pr\t1\t2\t2\t0\n.\n");
    // A worker gets the high one first.
    let mut w = s.connect();
    w.can_do(&["pr"]);
    assert_eq!(w.grab_job().0, b"P:1");
}

#[test]
fn a_one_megabyte_body_goes_both_ways() {
    let (s, port) = start(&[]);
    let body: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let mut w = sleeping_worker(&s, "big");
    let mut c = Http::connect(port);
    let mut raw = format!(
        "POST /big HTTP/1.0\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    let sender = std::thread::spawn(move || {
        c.send(&raw);
        c
    });
    let (handle, _, data) = wake_and_grab(&mut w);
    assert!(data == body, "the worker got {} bytes", data.len());
    let reversed: Vec<u8> = body.iter().rev().copied().collect();
    w.work(WORK_COMPLETE, &handle, &reversed);
    let mut c = sender.join().expect("sender");
    let r = c.reply();
    assert_eq!(r.status, 200);
    assert!(r.body == reversed, "the client got {} bytes", r.body.len());
}

#[test]
fn a_request_without_a_function_is_refused() {
    let (_s, port) = start(&[]);
    let mut c = Http::connect(port);
    c.send(b"GET / HTTP/1.1\r\nX-Gearman-Background: true\r\n\r\n");
    let r = c.reply();
    assert_eq!(r.status, 404, "{r:?}");
    assert!(c.closed(Duration::from_secs(2)));
}

#[test]
fn oversized_headers_close_the_connection_and_others_are_served() {
    let (s, port) = start(&[]);
    let mut c = Http::connect(port);
    let mut raw = b"GET /f HTTP/1.1\r\nX-Gearman-Background: true\r\nX-Big: ".to_vec();
    raw.resize(raw.len() + 20_000, b'a');
    raw.extend_from_slice(b"\r\n\r\n");
    // gearmand may close while the head is still being sent.
    let _ = std::io::Write::write_all(&mut c.stream, &raw);
    match c.try_reply() {
        Some(r) => {
            assert!(is_ours(), "gearmand answered {r:?}");
            assert_eq!(r.status, 431);
            assert!(c.closed(Duration::from_secs(2)));
        }
        None => assert!(!is_ours(), "ours closed without a 431"),
    }
    let r = request(
        port,
        b"GET /f HTTP/1.0\r\nX-Gearman-Background: true\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    let mut admin = s.connect();
    assert_eq!(admin.admin_list("status"), "f\t1\t0\t0\n.\n");
}

#[test]
fn a_body_longer_than_its_content_length_is_cut_there() {
    let (s, port) = start(&[]);
    let r = request(
        port,
        b"POST /bl HTTP/1.0\r\nX-Gearman-Background: true\r\nContent-Length: 3\r\n\r\nabcdefgh",
    );
    assert_eq!(r.status, 200);
    let mut w = s.connect();
    w.can_do(&["bl"]);
    assert_eq!(w.grab_job().2, b"abc");
    w.grab_none();
    if is_ours() {
        // On a connection kept open the excess is the next request, which is malformed.
        let mut c = Http::connect(port);
        c.send(b"POST /bl HTTP/1.1\r\nX-Gearman-Background: true\r\nContent-Length: 3\r\n\r\nxyzdefgh\r\n\r\n");
        assert_eq!(c.reply().status, 200);
        assert_eq!(c.reply().status, 400);
        assert!(c.closed(Duration::from_secs(2)));
        assert_eq!(w.grab_job().2, b"xyz");
        w.grab_none();
    }
}

#[test]
fn a_slow_client_does_not_hold_up_the_others() {
    let (s, port) = start(&[]);
    let raw = b"POST /slow HTTP/1.0\r\nX-Gearman-Background: true\r\nContent-Length: 4\r\n\r\nslow";
    let mut slow = Http::connect(port);
    let half = raw.len() / 2;
    for b in &raw[..half] {
        slow.send(&[*b]);
        std::thread::sleep(Duration::from_millis(5));
    }
    // Meanwhile: another HTTP client and a Gearman admin connection are served.
    let r = request(
        port,
        b"GET /fast HTTP/1.0\r\nX-Gearman-Background: true\r\n\r\n",
    );
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:1"));
    let mut admin = s.connect();
    assert_eq!(admin.admin_list("status"), "fast\t1\t0\t0\n.\n");
    for b in &raw[half..] {
        slow.send(&[*b]);
        std::thread::sleep(Duration::from_millis(5));
    }
    let r = slow.reply();
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:2"));
}

#[test]
fn a_stalled_request_times_out_with_408() {
    if !is_ours() {
        return; // gearmand 1.1.20 waits for the rest of the request forever
    }
    let (_s, port) = start(&["--http-timeout=1"]);
    let mut c = Http::connect(port);
    c.send(b"POST /st HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    let started = Instant::now();
    let r = c.reply();
    assert_eq!(r.status, 408, "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(c.closed(Duration::from_secs(2)));
}

#[test]
fn unsupported_requests_are_refused() {
    let (s, port) = start(&[]);
    for (raw, ours) in [
        (&b"DELETE /f HTTP/1.1\r\n\r\n"[..], 405),
        (
            b"POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            501,
        ),
        (b"hello there\r\n\r\n", 400),
        (b"GET /f\r\n\r\n", 400),
    ] {
        let mut c = Http::connect(port);
        c.send(raw);
        match c.try_reply() {
            Some(r) => assert_eq!((is_ours(), r.status), (true, ours), "{r:?}"),
            None => assert!(!is_ours(), "ours closed without an answer to {raw:?}"),
        }
        assert!(c.closed(Duration::from_secs(2)));
    }
    if is_ours() {
        // No job was made of them (gearmand 1.1.20 makes one of the chunked request).
        let mut admin = s.connect();
        assert_eq!(admin.admin_list("status"), ".\n");
    }
}

#[test]
fn http_1_1_connections_stay_open_on_ours() {
    let (_s, port) = start(&[]);
    let mut c = Http::connect(port);
    let raw = b"GET /ka HTTP/1.1\r\nX-Gearman-Background: true\r\n\r\n";
    c.send(&[&raw[..], raw].concat());
    let r = c.reply();
    assert_eq!(r.header("X-Gearman-Job-Handle"), Some("P:1"));
    if is_ours() {
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(c.reply().header("X-Gearman-Job-Handle"), Some("P:2"));
        c.send(raw);
        assert_eq!(c.reply().header("X-Gearman-Job-Handle"), Some("P:3"));
    } else {
        // gearmand answers in HTTP/1.0 and closes.
        assert_eq!(r.status_line, "HTTP/1.0 200 OK");
        assert!(c.closed(Duration::from_secs(2)));
    }
}
