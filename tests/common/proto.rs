//! Protocol-level helpers for the server tests: packet type numbers, typed expectations and
//! the usual client/worker exchanges, all on top of the raw `Conn`.
//!
//! The numbers are written out here rather than taken from the crate's codec, so the server
//! tests check the wire against the protocol itself and not against our own encoder.

use super::{Conn, Pkt, TestServer, RES};
use std::time::{Duration, Instant};

/// Packet type numbers (PROTOCOL; 1..=42).
pub mod cmd {
    pub const CAN_DO: u32 = 1;
    pub const CANT_DO: u32 = 2;
    pub const RESET_ABILITIES: u32 = 3;
    pub const PRE_SLEEP: u32 = 4;
    pub const UNUSED: u32 = 5;
    pub const NOOP: u32 = 6;
    pub const SUBMIT_JOB: u32 = 7;
    pub const JOB_CREATED: u32 = 8;
    pub const GRAB_JOB: u32 = 9;
    pub const NO_JOB: u32 = 10;
    pub const JOB_ASSIGN: u32 = 11;
    pub const WORK_STATUS: u32 = 12;
    pub const WORK_COMPLETE: u32 = 13;
    pub const WORK_FAIL: u32 = 14;
    pub const GET_STATUS: u32 = 15;
    pub const ECHO_REQ: u32 = 16;
    pub const ECHO_RES: u32 = 17;
    pub const SUBMIT_JOB_BG: u32 = 18;
    pub const ERROR: u32 = 19;
    pub const STATUS_RES: u32 = 20;
    pub const SUBMIT_JOB_HIGH: u32 = 21;
    pub const SET_CLIENT_ID: u32 = 22;
    pub const CAN_DO_TIMEOUT: u32 = 23;
    pub const ALL_YOURS: u32 = 24;
    pub const WORK_EXCEPTION: u32 = 25;
    pub const OPTION_REQ: u32 = 26;
    pub const OPTION_RES: u32 = 27;
    pub const WORK_DATA: u32 = 28;
    pub const WORK_WARNING: u32 = 29;
    pub const GRAB_JOB_UNIQ: u32 = 30;
    pub const JOB_ASSIGN_UNIQ: u32 = 31;
    pub const SUBMIT_JOB_HIGH_BG: u32 = 32;
    pub const SUBMIT_JOB_LOW: u32 = 33;
    pub const SUBMIT_JOB_LOW_BG: u32 = 34;
    pub const SUBMIT_JOB_SCHED: u32 = 35;
    pub const SUBMIT_JOB_EPOCH: u32 = 36;
    pub const SUBMIT_REDUCE_JOB: u32 = 37;
    pub const SUBMIT_REDUCE_JOB_BACKGROUND: u32 = 38;
    pub const GRAB_JOB_ALL: u32 = 39;
    pub const JOB_ASSIGN_ALL: u32 = 40;
    pub const GET_STATUS_UNIQUE: u32 = 41;
    pub const STATUS_RES_UNIQUE: u32 = 42;
}

use cmd::*;

/// How long the tests wait before concluding that a packet is *not* coming.
pub const QUIET: Duration = Duration::from_millis(250);

/// Renders bytes for assertion messages.
pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The handle of the `n`th job of a server started with `--job-handle-prefix=P`.
pub fn h(n: u32) -> Vec<u8> {
    format!("P:{n}").into_bytes()
}

/// Starts a server with the fixed handle prefix `P`, so handles are `P:1`, `P:2`, ...
pub fn server(extra: &[&str]) -> TestServer {
    let mut args = vec!["--job-handle-prefix=P"];
    args.extend_from_slice(extra);
    TestServer::start(&args)
}

impl Conn {
    /// Reads one packet and asserts its `\0RES` magic and its type.
    pub fn expect(&mut self, kind: u32) -> Pkt {
        let p = self.recv();
        assert_eq!(
            (p.magic, p.kind),
            (*RES, kind),
            "expected type {kind}, got {} {:?}",
            p.kind,
            show(&p.payload)
        );
        p
    }

    /// Reads one packet and asserts its type and exact payload.
    pub fn expect_pkt(&mut self, kind: u32, payload: &[u8]) {
        let p = self.expect(kind);
        assert_eq!(
            show(&p.payload),
            show(payload),
            "payload of packet type {kind}"
        );
        assert_eq!(p.payload, payload, "payload bytes of packet type {kind}");
    }

    /// Reads an ERROR packet and asserts its code and text.
    pub fn expect_error(&mut self, code: &str, text: &str) {
        let mut want = code.as_bytes().to_vec();
        want.push(0);
        want.extend_from_slice(text.as_bytes());
        self.expect_pkt(ERROR, &want);
    }

    /// Round-trips an ECHO, proving every earlier packet of this connection was processed.
    pub fn sync(&mut self) {
        self.send(ECHO_REQ, &[b"sync"]);
        self.expect_pkt(ECHO_RES, b"sync");
    }

    /// Submits a job and returns the handle from JOB_CREATED.
    pub fn submit(&mut self, kind: u32, func: &str, unique: &[u8], data: &[u8]) -> Vec<u8> {
        self.send(kind, &[func.as_bytes(), unique, data]);
        self.expect(JOB_CREATED).payload
    }

    /// Registers abilities (no reply is expected; synchronised with an ECHO).
    pub fn can_do(&mut self, funcs: &[&str]) {
        for f in funcs {
            self.send(CAN_DO, &[f.as_bytes()]);
        }
        self.sync();
    }

    /// Sends GRAB_JOB and returns the reply packet (JOB_ASSIGN or NO_JOB).
    pub fn grab(&mut self) -> Pkt {
        self.send(GRAB_JOB, &[]);
        self.recv()
    }

    /// Grabs and asserts a JOB_ASSIGN; returns (handle, function, data).
    pub fn grab_job(&mut self) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let p = self.grab();
        assert_eq!(
            p.kind,
            JOB_ASSIGN,
            "expected JOB_ASSIGN, got {} {:?}",
            p.kind,
            show(&p.payload)
        );
        let f = p.fields(3);
        (f[0].clone(), f[1].clone(), f[2].clone())
    }

    /// Grabs and asserts NO_JOB.
    pub fn grab_none(&mut self) {
        let p = self.grab();
        assert_eq!(
            p.kind,
            NO_JOB,
            "expected NO_JOB, got {} {:?}",
            p.kind,
            show(&p.payload)
        );
    }

    /// Sends PRE_SLEEP and proves it was processed without consuming a NOOP
    /// (an ECHO would race with a NOOP; the NOOP, if any, comes first and is returned).
    pub fn pre_sleep(&mut self) -> bool {
        self.send(PRE_SLEEP, &[]);
        self.send(ECHO_REQ, &[b"slept"]);
        let p = self.recv();
        if p.kind == NOOP {
            self.expect_pkt(ECHO_RES, b"slept");
            return true;
        }
        assert_eq!(
            (p.kind, p.payload.as_slice()),
            (ECHO_RES, &b"slept"[..]),
            "PRE_SLEEP sync"
        );
        false
    }

    /// How many NOOPs arrive before the answer to an ECHO sent now. The server answers the
    /// ECHO after everything it queued for this connection before, so once the event that
    /// would wake this worker has been processed (e.g. after the submitting connection's
    /// `sync`), this says for certain whether a NOOP was sent: no time window is involved.
    /// Any other packet fails the test.
    pub fn noops_before_sync(&mut self) -> usize {
        self.send(ECHO_REQ, &[b"noops?"]);
        let mut noops = 0;
        loop {
            let p = self.recv();
            match p.kind {
                NOOP if p.payload.is_empty() => noops += 1,
                ECHO_RES if p.payload == b"noops?" => return noops,
                _ => panic!(
                    "expected NOOP or the ECHO answer, got {} {:?}",
                    p.kind,
                    show(&p.payload)
                ),
            }
        }
    }

    /// Waits up to `wait` for a NOOP; false if nothing came. Any other packet fails the test.
    pub fn got_noop(&mut self, wait: Duration) -> bool {
        match self.try_recv(wait) {
            None => false,
            Some(p) if p.kind == NOOP && p.payload.is_empty() => true,
            Some(p) => panic!(
                "expected NOOP or nothing, got {} {:?}",
                p.kind,
                show(&p.payload)
            ),
        }
    }

    /// Reads one packet; `None` on timeout *or* when the server closed the connection.
    pub fn try_recv_or_closed(&mut self, wait: Duration) -> Option<Pkt> {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        let r = self.read_packet_or_eof();
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        r
    }

    fn read_packet_or_eof(&mut self) -> Option<Pkt> {
        use std::io::Read;
        let mut header = [0u8; 12];
        let mut got = 0;
        while got < 12 {
            match self.stream.read(&mut header[got..]) {
                Ok(0) => return None,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) if got == 0 => return None,
                Err(e) => panic!("read inside a packet header: {e}"),
            }
        }
        let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).expect("payload");
        Some(Pkt {
            magic: [header[0], header[1], header[2], header[3]],
            kind: u32::from_be_bytes([header[4], header[5], header[6], header[7]]),
            payload,
        })
    }

    /// Reads one text line (up to and including `\n`) without sending anything.
    pub fn read_line(&mut self) -> String {
        use std::io::Read;
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while out.last() != Some(&b'\n') {
            match self.stream.read(&mut b) {
                Ok(0) => panic!("connection closed after {:?}", show(&out)),
                Ok(_) => out.push(b[0]),
                Err(e) => panic!("read failed after {:?}: {e}", show(&out)),
            }
        }
        show(&out)
    }

    /// Sends a work result packet.
    pub fn work(&mut self, kind: u32, handle: &[u8], data: &[u8]) {
        if kind == WORK_FAIL {
            self.send(kind, &[handle]);
        } else {
            self.send(kind, &[handle, data]);
        }
    }

    /// GET_STATUS, returning the STATUS_RES payload as text.
    pub fn get_status(&mut self, handle: &[u8]) -> String {
        self.send(GET_STATUS, &[handle]);
        show(&self.expect(STATUS_RES).payload)
    }

    /// GET_STATUS_UNIQUE, returning the STATUS_RES_UNIQUE payload as text.
    pub fn get_status_unique(&mut self, unique: &[u8]) -> String {
        self.send(GET_STATUS_UNIQUE, &[unique]);
        show(&self.expect(STATUS_RES_UNIQUE).payload)
    }
}

/// A status/prioritystatus line for one function, or `None` if it is not listed.
pub fn function_line(listing: &str, func: &str) -> Option<String> {
    listing
        .lines()
        .find(|l| l.split('\t').next() == Some(func))
        .map(|l| l.to_string())
}

/// The `status` line of `func` on a fresh admin connection.
pub fn status_of(server: &TestServer, func: &str) -> Option<String> {
    let mut a = server.connect();
    function_line(&a.admin_list("status"), func)
}

/// Polls `check` until it returns true or `timeout` expires.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sorted lines of a list reply without its final `.` line.
/// Checks the lines of an admin listing (without its "." terminator) against `want`: in
/// exactly this order on our server, which documents its listing order (functions by creation,
/// jobs by handle, workers newest connection first); as the same lines in any order on
/// another server, since gearmand 1.1.20 lists in hash-table or thread order, which no client
/// can rely on.
pub fn assert_listing<S: AsRef<str>, W: AsRef<str>>(lines: &[S], want: &[W], what: &str) {
    let got: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
    let want: Vec<&str> = want.iter().map(AsRef::as_ref).collect();
    if super::is_ours() {
        assert_eq!(got, want, "{what}: lines in our documented order");
    } else {
        let (mut g, mut w) = (got.clone(), want.clone());
        g.sort_unstable();
        w.sort_unstable();
        assert_eq!(
            g, w,
            "{what}: the same lines (gearmand's order is not a contract)"
        );
    }
}

/// The lines of an admin listing without its "." terminator, in the server's order.
pub fn listing_lines(listing: &str) -> Vec<String> {
    assert!(listing.ends_with(".\n"), "{listing:?}");
    listing
        .strip_suffix(".\n")
        .unwrap_or(listing)
        .lines()
        .map(str::to_string)
        .collect()
}

pub fn sorted_lines(listing: &str) -> Vec<String> {
    let mut v: Vec<String> = listing
        .strip_suffix(".\n")
        .unwrap_or(listing)
        .lines()
        .map(|l| l.to_string())
        .collect();
    v.sort();
    v
}
