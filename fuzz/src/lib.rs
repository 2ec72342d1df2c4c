//! The fuzz targets' checks. Each `check_*` takes arbitrary bytes and panics when an invariant
//! breaks. The cargo-fuzz binaries in `fuzz_targets/` call them, and `tests/fuzz_corpus.rs`
//! (plain `cargo test` on stable) includes this file and replays every corpus file through them.

use gearman::protocol::admin::{atoi, parse, tokenize, AdminCommand, MAX_TOKENS};
use gearman::protocol::{decode_frame, encode, Command, Decoded, Frame, Limits, Magic};
use gearman::server::{Config, CoreDriver};
use std::time::{Duration, Instant};

/// Small limits as well as the defaults, so the size checks are reached by small inputs.
const LIMITS: [Limits; 2] = [
    Limits {
        max_payload: 1 << 30,
        max_line: 8192,
    },
    Limits {
        max_payload: 64,
        max_line: 32,
    },
];

/// Codec: decodes `data` as a stream of frames, checking each frame and its prefixes.
pub fn check_decode(data: &[u8]) {
    for limits in &LIMITS {
        let mut rest = data;
        loop {
            match decode_frame(rest, limits) {
                Ok(Decoded::Complete(frame, n)) => {
                    assert!(n >= 1 && n <= rest.len(), "consumed {n} of {}", rest.len());
                    check_frame(&frame, &rest[..n]);
                    assert_eq!(
                        decode_frame(&rest[..n], limits),
                        Ok(Decoded::Complete(frame, n)),
                        "the frame alone decodes differently"
                    );
                    check_prefixes(&rest[..n], limits);
                    rest = &rest[n..];
                }
                Ok(Decoded::Partial(need)) => {
                    assert!(need >= 1, "Partial(0)");
                    break;
                }
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    break;
                }
            }
        }
    }
}

/// A decoded frame against the bytes it consumed.
fn check_frame(frame: &Frame<'_>, bytes: &[u8]) {
    match frame {
        Frame::Binary(p) => {
            assert_eq!(bytes[0], 0);
            assert_eq!(p.args().len(), p.command.arg_count());
            assert_eq!(p.to_bytes(), bytes, "re-encoding differs from the input");
            assert_eq!(12 + p.payload_len(), bytes.len());
            for field in &p.args()[..p.args().len().saturating_sub(1)] {
                assert!(!field.contains(&0), "a field holds a NUL");
            }
        }
        Frame::Text(line) => {
            assert_ne!(bytes[0], 0);
            assert!(!line.contains(&b'\n'));
            let rest = &bytes[line.len()..];
            assert!(rest == b"\n" || rest == b"\r\n", "line end {rest:?}");
            assert!(
                !(rest == b"\n" && line.last() == Some(&b'\r')),
                "a \\r before the newline is part of the line end"
            );
            assert_eq!(&bytes[..line.len()], *line);
        }
    }
}

/// Strict prefixes of a complete frame are Partial with a need that does not overshoot the
/// frame, except that a text line longer than the limit may be refused before its newline.
fn check_prefixes(frame: &[u8], limits: &Limits) {
    let n = frame.len();
    let mut lens: Vec<usize> = (0..n.min(16)).collect();
    lens.extend([n / 2, n.saturating_sub(1), 11, 12, 13]);
    for k in lens.into_iter().filter(|&k| k < n) {
        match decode_frame(&frame[..k], limits) {
            Ok(Decoded::Partial(need)) => {
                assert!(need >= 1 && k + need <= n, "prefix {k} of {n} needs {need}")
            }
            Err(gearman::protocol::DecodeError::LineTooLong { .. })
                if frame[0] != 0 && k > limits.max_line => {}
            other => panic!("prefix {k} of a {n}-byte frame decodes as {other:?}"),
        }
    }
}

/// Admin parser: the first line of `data` is tokenized (checked against a plain model of
/// gearmand's rules) and parsed (checked for case-insensitivity and well-formed error lines).
pub fn check_admin(data: &[u8]) {
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let expected = model_tokens(line);
    let tokens = tokenize(line);
    assert_eq!(
        tokens,
        expected,
        "tokenize({:?})",
        String::from_utf8_lossy(line)
    );
    let Some(tokens) = tokens else { return };
    let cmd = parse(&tokens);
    if let AdminCommand::Error(e) = &cmd {
        let reply = e.reply();
        assert!(reply.starts_with(b"ERR ") && reply.ends_with(b"\r\n"));
        assert!(!reply[..reply.len() - 2].contains(&b'\n'));
    }
    let upper: Vec<Vec<u8>> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let upper: Vec<&[u8]> = upper.iter().map(|t| t.as_slice()).collect();
    assert_eq!(
        kind(&parse(&upper)),
        kind(&cmd),
        "command words are case-insensitive"
    );
    for t in &tokens {
        if !t.is_empty() && t.len() <= 18 && t.iter().all(u8::is_ascii_digit) {
            let n: i64 = std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1);
            assert_eq!(atoi(t), n);
        }
    }
}

/// gearmand's tokenizing, written plainly: words split on spaces, an empty first token for a
/// leading space, an empty last one for spaces after the last word, at most MAX_TOKENS.
fn model_tokens(line: &[u8]) -> Option<Vec<&[u8]>> {
    let words: Vec<&[u8]> = line
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    let mut tokens: Vec<&[u8]> = Vec::new();
    if line.first() == Some(&b' ') {
        tokens.push(b"");
    }
    let trailing = line.last() == Some(&b' ') && !words.is_empty();
    tokens.extend(words);
    if trailing {
        tokens.push(b"");
    }
    (tokens.len() <= MAX_TOKENS).then_some(tokens)
}

/// The command's variant, and the error's variant for errors (not their borrowed words).
fn kind(c: &AdminCommand<'_>) -> String {
    let s = format!("{c:?}");
    match c {
        AdminCommand::Error(_) => s.split(['(', '{']).take(2).collect::<Vec<_>>().join("("),
        _ => s
            .split(['(', ' ', '{'])
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// Reads a fuzz input as a script.
struct Script<'a>(&'a [u8]);

impl<'a> Script<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

const CONNS: usize = 4;
const FUNCS: [&[u8]; 3] = [b"f0", b"f1", b"f2"];
const ADMIN: [&[u8]; 10] = [
    b"status\n",
    b"prioritystatus\n",
    b"workers\n",
    b"show jobs\n",
    b"show unique jobs\n",
    b"maxqueue f0 1\n",
    b"create function f1\n",
    b"drop function f2\n",
    b"version\n",
    b"verbose\n",
];

/// Server session: the input is a script run against one server core with four interleaved
/// connections (clients, workers and admins at once): well-formed packets built from the
/// script, admin lines, raw bytes, disconnects and timer runs. After every step the core's
/// tables must agree; at the end `status` and `show jobs` must agree with the job count.
pub fn check_session(data: &[u8]) {
    let config = Config {
        job_handle_prefix: "H:fuzz".to_string(),
        max_packet_size: 1 << 16,
        ..Config::default()
    };
    let mut server = CoreDriver::new(&config);
    let mut conns: Vec<usize> = (0..CONNS).map(|_| server.connect()).collect();
    let start = Instant::now();
    let mut s = Script(data);
    while let Some(op) = s.byte() {
        let c = usize::from(op) % CONNS;
        if !server.is_open(conns[c]) {
            conns[c] = server.connect();
        }
        let conn = conns[c];
        match (op / CONNS as u8) % 8 {
            0..=2 => {
                let bytes = packet(&mut s);
                let split = usize::from(s.byte().unwrap_or(0)) % (bytes.len() + 1);
                if server.feed(conn, &bytes[..split]) {
                    server.feed(conn, &bytes[split..]);
                }
            }
            3 => {
                let pick = usize::from(s.byte().unwrap_or(0));
                match ADMIN.get(pick % 16) {
                    Some(line) => server.feed(conn, line),
                    None => {
                        let handle = format!("cancel job H:fuzz:{}\n", pick / 16);
                        server.feed(conn, handle.as_bytes())
                    }
                };
            }
            4 => {
                let n = usize::from(s.byte().unwrap_or(0)) % 64;
                server.feed(conn, s.take(n));
            }
            5 => server.disconnect(conn),
            6 => {
                let secs = u64::from(s.byte().unwrap_or(0)) * 10;
                server.run_timers(start + Duration::from_secs(secs));
            }
            _ => check_output(&server.take_output(conn)),
        }
        if let Err(e) = server.check() {
            panic!("inconsistent server state: {e}");
        }
    }
    for conn in conns {
        check_output(&server.take_output(conn));
    }
    check_admin_totals(&mut server);
}

/// What the server wrote is whole frames: response packets that decode, and text lines.
fn check_output(out: &[u8]) {
    let limits = Limits {
        max_payload: u32::MAX,
        max_line: usize::MAX,
    };
    let mut rest = out;
    while !rest.is_empty() {
        match decode_frame(rest, &limits) {
            Ok(Decoded::Complete(frame, n)) => {
                if let Frame::Binary(p) = frame {
                    assert_eq!(p.magic, Magic::Response, "server sent {p:?}");
                }
                rest = &rest[n..];
            }
            other => panic!("server output ends in {other:?}: {rest:?}"),
        }
    }
}

/// Builds one request packet from the script: a type, then each argument from a selector
/// byte (a known function name, a job handle of this server, a number, a unique, raw bytes).
fn packet(s: &mut Script<'_>) -> Vec<u8> {
    let b = s.byte().unwrap_or(0);
    let command = Command::from_u32(1 + u32::from(b % 64) % 42).unwrap_or(Command::EchoReq);
    // Mostly requests: responses only earn an error.
    let magic = if b >= 0xf0 {
        Magic::Response
    } else {
        Magic::Request
    };
    let mut owned: Vec<Vec<u8>> = Vec::new();
    for i in 0..command.arg_count() {
        let sel = s.byte().unwrap_or(0);
        let last = i + 1 == command.arg_count();
        let arg = match sel % 5 {
            0 => FUNCS[usize::from(sel >> 3) % FUNCS.len()].to_vec(),
            1 => format!("H:fuzz:{}", 1 + (sel >> 3) % 16).into_bytes(),
            2 => (sel >> 3).to_string().into_bytes(),
            3 => format!("u{}", (sel >> 3) % 4).into_bytes(),
            _ => {
                let n = usize::from(s.byte().unwrap_or(0)) % 32;
                let raw = s.take(n);
                // Fields cannot hold NUL; the data blob can.
                if last && command.has_data() {
                    raw.to_vec()
                } else {
                    raw.iter().copied().filter(|&b| b != 0).collect()
                }
            }
        };
        owned.push(arg);
    }
    let args: Vec<&[u8]> = owned.iter().map(|a| a.as_slice()).collect();
    encode(magic, command, &args)
}

/// `status` totals and `show jobs` lines against the number of jobs.
fn check_admin_totals(server: &mut CoreDriver) {
    let admin = server.connect();
    let jobs = server.job_count();
    assert!(server.feed(admin, b"show jobs\n"));
    let out = server.take_output(admin);
    assert!(out.ends_with(b".\n"), "show jobs: {out:?}");
    let lines = out.split(|&b| b == b'\n').count() - 2;
    assert_eq!(lines, jobs, "show jobs lists {lines} of {jobs} jobs");

    assert!(server.feed(admin, b"status\n"));
    let out = server.take_output(admin);
    assert!(out.ends_with(b".\n"), "status: {out:?}");
    let body = &out[..out.len() - 2];
    let mut total = 0;
    // Function names are bytes from the script; sum only when every line parses.
    let parsed: Option<Vec<[usize; 3]>> = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&[u8]> = l.rsplitn(4, |&b| b == b'\t').collect();
            let num = |x: &[u8]| std::str::from_utf8(x).ok()?.parse::<usize>().ok();
            (f.len() == 4).then_some(())?;
            Some([num(f[2])?, num(f[1])?, num(f[0])?])
        })
        .collect();
    if let Some(rows) = parsed {
        for [t, running, _workers] in rows {
            assert!(running <= t, "status: {running} running of {t}");
            total += t;
        }
        assert_eq!(total, jobs, "status totals {total}, jobs {jobs}");
    }
}

/// `-r http` codec: every prefix of `data` as the input of a fresh session. A prefix that holds
/// a whole request yields the same submission as the full input; nothing panics; refusals are
/// 4xx/5xx.
pub fn check_http(data: &[u8]) {
    use gearman::server::http::{HttpSession, Input};
    let max_body = 1 << 16;
    let full = HttpSession::default().input(data, max_body);
    for n in 0..=data.len() {
        let mut s = HttpSession::default();
        match s.input(&data[..n], max_body) {
            Input::Submit(sub) => {
                assert!(sub.used <= n && !sub.function.is_empty());
                assert!(sub.workload.len() <= sub.used);
                assert_eq!(
                    Input::Submit(sub.clone()),
                    full,
                    "prefix {n} decodes differently"
                );
                assert!(s.busy());
                // Any response packet ends with at most one response.
                let _ = s.packet(Command::JobCreated, &[b"H:x:1"]);
                let _ = s.packet(Command::WorkComplete, &[b"H:x:1", &data[..n]]);
                assert!(!s.busy());
                break;
            }
            Input::Reject(r) => assert!((400..600).contains(&r.status), "{r:?}"),
            Input::NeedMore { .. } => {}
        }
    }
}
