//! gearmand's HTTP protocol (`-r http`) as a codec of a core session, without sockets.
//!
//! An HTTP connection is a session of the core like any other: a request becomes the SUBMIT_JOB*
//! packet gearmand's HTTP plugin makes of it, and the response packets the core queues for the
//! session (JOB_CREATED, WORK_*, ERROR) become the HTTP response. The event loop moves the
//! bytes; the core never knows the difference.
//!
//! Request: `GET|POST|PUT /FUNCTION` (the function is the raw path after the slash, as gearmand
//! takes it), the body is the workload; `X-Gearman-Unique` (default `-`: coalesce on the
//! payload, as gearmand), `X-Gearman-Background: true`, `X-Gearman-Priority: high|low`.
//! Response: `X-Gearman-Job-Handle`, `X-Gearman-Command` (JOB_CREATED for a background job,
//! else the command that ended the job), and for a foreground job the result as the body.
//!
//! Where gearmand 1.1.20 closes the connection without a word (oversized or malformed
//! requests, other methods, chunked bodies) this codec answers with a 4xx/5xx status and closes;
//! requests are parsed with `httparse` and bounded ([`MAX_HEAD`], the body by the server's
//! packet limit). HTTP/1.1 connections stay open between requests unless the client says
//! `Connection: close` (gearmand answers HTTP/1.0 and always closes).

use super::admin::VERSION;
use crate::protocol::Command;
use std::fmt::Write as _;

/// Largest request head (request line and headers) accepted.
pub const MAX_HEAD: usize = 8 << 10;
/// Most headers in one request.
const MAX_HEADERS: usize = 64;

/// The parts of a request head both HTTP listeners (jobs and metrics) use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    pub method: &'a str,
    pub path: &'a [u8],
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// Bytes of the head, blank line included.
    pub len: usize,
    pub content_length: usize,
    pub keep_alive: bool,
    pub expect_continue: bool,
    pub unique: Option<&'a [u8]>,
    pub background: bool,
    pub priority: Priority,
    /// The client accepts the OpenMetrics text format.
    pub openmetrics: bool,
}

/// `X-Gearman-Priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    High,
    Normal,
    Low,
}

/// A request that cannot be served: answered with this status, then the connection closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reject {
    pub status: u16,
    pub text: &'static str,
}

const fn reject(status: u16, text: &'static str) -> Reject {
    Reject { status, text }
}

/// Parses the head at the front of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head<'_>>, Reject> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
            return Err(reject(431, "Request header fields too large"))
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(431, "Too many request header fields"))
        }
        Err(_) => return Err(reject(400, "Malformed request")),
    };
    if len > MAX_HEAD {
        return Err(reject(431, "Request header fields too large"));
    }
    let (Some(method), Some(path), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(reject(400, "Malformed request"));
    };
    let mut head = Head {
        method,
        path: path.as_bytes(),
        minor,
        len,
        content_length: 0,
        keep_alive: minor >= 1,
        expect_continue: false,
        unique: None,
        background: false,
        priority: Priority::Normal,
        openmetrics: false,
    };
    let mut length: Option<usize> = None;
    for h in req.headers.iter() {
        let name = h.name;
        let value = trim(h.value);
        if name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or(reject(400, "Invalid Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(reject(400, "Conflicting Content-Length headers"));
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(reject(
                501,
                "Transfer-Encoding is not supported: send a Content-Length",
            ));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                if token.eq_ignore_ascii_case(b"close") {
                    head.keep_alive = false;
                } else if token.eq_ignore_ascii_case(b"keep-alive") {
                    head.keep_alive = true;
                }
            }
        } else if name.eq_ignore_ascii_case("expect") {
            if !value.eq_ignore_ascii_case(b"100-continue") {
                return Err(reject(417, "Only 100-continue is understood"));
            }
            head.expect_continue = minor >= 1;
        } else if name.eq_ignore_ascii_case("x-gearman-unique") {
            head.unique = Some(value);
        } else if name.eq_ignore_ascii_case("x-gearman-background") {
            head.background = value.eq_ignore_ascii_case(b"true");
        } else if name.eq_ignore_ascii_case("x-gearman-priority") {
            head.priority = if value.eq_ignore_ascii_case(b"high") {
                Priority::High
            } else if value.eq_ignore_ascii_case(b"low") {
                Priority::Low
            } else {
                Priority::Normal
            };
        } else if name.eq_ignore_ascii_case("accept") {
            head.openmetrics = contains(value, b"application/openmetrics-text");
        }
    }
    head.content_length = length.unwrap_or(0);
    Ok(Some(head))
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &v[start..end]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A job request taken from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission<'a> {
    pub command: Command,
    pub function: &'a [u8],
    pub unique: &'a [u8],
    pub workload: &'a [u8],
    /// Bytes of input the request used (head and body).
    pub used: usize,
}

/// What the input of a job connection holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// Not a whole request yet; with `interim`, send it first (`100 Continue`).
    NeedMore {
        interim: Option<&'static [u8]>,
    },
    Submit(Submission<'a>),
    Reject(Reject),
}

/// The state of one `-r http` connection between the socket and its core session.
#[derive(Debug, Default)]
pub struct HttpSession {
    /// A request was handed to the core and its response is not complete yet.
    busy: Option<Pending>,
    continue_sent: bool,
}

#[derive(Debug)]
struct Pending {
    minor: u8,
    keep_alive: bool,
    background: bool,
    handle: Vec<u8>,
    /// WORK_DATA received so far: the start of the body.
    data: Vec<u8>,
}

/// A complete response for the socket.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub bytes: Vec<u8>,
    /// Close the connection once it is written.
    pub close: bool,
}

impl HttpSession {
    /// Whether a request is being served (the next one waits until it is answered).
    pub fn busy(&self) -> bool {
        self.busy.is_some()
    }

    /// Looks at the input when no request is being served; a complete request is taken and
    /// the session waits for the core's answer.
    pub fn input<'a>(&mut self, buf: &'a [u8], max_body: usize) -> Input<'a> {
        debug_assert!(!self.busy());
        let head = match parse_head(buf) {
            Ok(Some(h)) => h,
            Ok(None) => return Input::NeedMore { interim: None },
            Err(r) => return Input::Reject(r),
        };
        if !matches!(head.method, "GET" | "POST" | "PUT") {
            return Input::Reject(reject(405, "Method not allowed: use GET, POST or PUT"));
        }
        let Some(function) = head.path.strip_prefix(b"/") else {
            return Input::Reject(reject(400, "The path must be /FUNCTION"));
        };
        if function.is_empty() {
            return Input::Reject(reject(404, "No function: the path must be /FUNCTION"));
        }
        if head.content_length > max_body {
            return Input::Reject(reject(413, "Request body too large"));
        }
        let total = head.len + head.content_length;
        if buf.len() < total {
            if head.expect_continue && !self.continue_sent {
                self.continue_sent = true;
                return Input::NeedMore {
                    interim: Some(b"HTTP/1.1 100 Continue\r\n\r\n"),
                };
            }
            return Input::NeedMore { interim: None };
        }
        use Priority::*;
        let command = match (head.background, head.priority) {
            (false, Normal) => Command::SubmitJob,
            (false, High) => Command::SubmitJobHigh,
            (false, Low) => Command::SubmitJobLow,
            (true, Normal) => Command::SubmitJobBg,
            (true, High) => Command::SubmitJobHighBg,
            (true, Low) => Command::SubmitJobLowBg,
        };
        self.continue_sent = false;
        self.busy = Some(Pending {
            minor: head.minor,
            keep_alive: head.keep_alive,
            background: head.background,
            handle: Vec::new(),
            data: Vec::new(),
        });
        Input::Submit(Submission {
            command,
            function,
            unique: head.unique.unwrap_or(b"-"),
            workload: &buf[head.len..total],
            used: total,
        })
    }

    /// A packet the core sent to this session; returns the response once the request is
    /// answered.
    pub fn packet(&mut self, command: Command, args: &[&[u8]]) -> Option<Response> {
        let p = self.busy.as_mut()?;
        let arg = |i: usize| args.get(i).copied().unwrap_or_default();
        let (status, body): (u16, Vec<u8>) = match command {
            Command::JobCreated => {
                p.handle = arg(0).to_vec();
                if !p.background {
                    return None;
                }
                (200, Vec::new())
            }
            Command::WorkData => {
                p.data.extend_from_slice(arg(1));
                return None;
            }
            Command::WorkComplete | Command::WorkException => {
                let mut body = std::mem::take(&mut p.data);
                body.extend_from_slice(arg(1));
                (200, body)
            }
            // As gearmand: a failed job is a 200 whose X-Gearman-Command says WORK_FAIL.
            Command::WorkFail => (200, Vec::new()),
            Command::Error => {
                let p = self.busy.take()?;
                let code = String::from_utf8_lossy(arg(0)).into_owned();
                let status = match code.as_str() {
                    "QUEUE_ERROR" => 503,
                    "ARGUMENT_TOO_LARGE" | "INVALID_ARGUMENT" => 400,
                    _ => 500,
                };
                let mut text = arg(1).to_vec();
                text.push(b'\n');
                let headers = [
                    ("X-Gearman-Command", &b"ERROR"[..]),
                    ("X-Gearman-Error", code.as_bytes()),
                    ("Content-Type", b"text/plain"),
                ];
                return Some(Response {
                    bytes: encode(p.minor, status, &headers, &text, p.keep_alive),
                    close: !p.keep_alive,
                });
            }
            _ => return None,
        };
        let p = self.busy.take()?;
        let name = command.name();
        let headers = [
            ("X-Gearman-Job-Handle", &p.handle[..]),
            ("X-Gearman-Command", name.as_bytes()),
        ];
        Some(Response {
            bytes: encode(p.minor, status, &headers, &body, p.keep_alive),
            close: !p.keep_alive,
        })
    }
}

/// The standard reason phrase of the statuses this server sends.
fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Content Too Large",
        417 => "Expectation Failed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// One response: status line, `headers`, Content-Length, Server, Connection, body.
pub fn encode(
    minor: u8,
    status: u16,
    headers: &[(&str, &[u8])],
    body: &[u8],
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = String::with_capacity(160);
    let _ = write!(
        head,
        "HTTP/1.{} {status} {}\r\n",
        minor.min(1),
        reason(status)
    );
    let mut out = head.into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let connection = if keep_alive { "keep-alive" } else { "close" };
    let _ = write!(
        Tail(&mut out),
        "Content-Length: {}\r\nServer: Gearman/{VERSION}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    out.extend_from_slice(body);
    out
}

/// The answer to a rejected request (the connection closes after it).
pub fn reject_response(r: Reject) -> Vec<u8> {
    let mut text = r.text.as_bytes().to_vec();
    text.push(b'\n');
    let allow: &[(&str, &[u8])] = if r.status == 405 {
        &[
            ("Allow", b"GET, POST, PUT"),
            ("Content-Type", b"text/plain"),
        ]
    } else {
        &[("Content-Type", b"text/plain")]
    };
    encode(1, r.status, allow, &text, false)
}

/// `fmt::Write` into a byte vector.
struct Tail<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Tail<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(raw: &[u8]) -> (HttpSession, Submission<'_>) {
        let mut s = HttpSession::default();
        match s.input(raw, 1 << 20) {
            Input::Submit(sub) => (s, sub),
            other => panic!("{other:?}"),
        }
    }

    fn rejected(raw: &[u8]) -> u16 {
        match HttpSession::default().input(raw, 1 << 20) {
            Input::Reject(r) => r.status,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn requests_become_submissions() {
        let raw = b"POST /reverse HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET";
        let (_, s) = submit(raw);
        assert_eq!(s.command, Command::SubmitJob);
        assert_eq!(
            (s.function, s.unique, s.workload),
            (&b"reverse"[..], &b"-"[..], &b"hello"[..])
        );
        assert_eq!(s.used, raw.len() - 3);
        let raw = b"GET /f?x=1 HTTP/1.0\r\nx-gearman-background: TRUE\r\nX-Gearman-Priority: LOW\r\nX-Gearman-Unique:  u1 \r\n\r\n";
        let (_, s) = submit(raw);
        assert_eq!(s.command, Command::SubmitJobLowBg);
        assert_eq!(
            (s.function, s.unique, s.workload),
            (&b"f?x=1"[..], &b"u1"[..], &b""[..])
        );
        let (_, s) = submit(b"PUT /f HTTP/1.1\r\nX-Gearman-Priority: high\r\n\r\n");
        assert_eq!(s.command, Command::SubmitJobHigh);
    }

    #[test]
    fn incomplete_requests_wait_and_curl_gets_100_continue() {
        let mut s = HttpSession::default();
        assert_eq!(
            s.input(b"POST /f HTTP/1.1\r\nContent-Le", 99),
            Input::NeedMore { interim: None }
        );
        assert_eq!(
            s.input(b"POST /f HTTP/1.1\r\nContent-Length: 3\r\n\r\nab", 99),
            Input::NeedMore { interim: None }
        );
        let raw = b"POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
        assert_eq!(
            s.input(raw, 99),
            Input::NeedMore {
                interim: Some(b"HTTP/1.1 100 Continue\r\n\r\n")
            }
        );
        assert_eq!(s.input(raw, 99), Input::NeedMore { interim: None });
    }

    #[test]
    fn bad_requests_are_rejected() {
        assert_eq!(rejected(b"GET / HTTP/1.1\r\n\r\n"), 404);
        assert_eq!(rejected(b"DELETE /f HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(rejected(b"HEAD /f HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(rejected(b"hello there\r\n\r\n"), 400);
        assert_eq!(rejected(b"GET /f\r\n\r\n"), 400);
        assert_eq!(rejected(b"GET f HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(
            rejected(b"POST /f HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
            400
        );
        assert_eq!(
            rejected(b"POST /f HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            rejected(b"POST /f HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            501
        );
        assert_eq!(
            rejected(b"POST /f HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n"),
            413
        );
        let mut big = b"GET /f HTTP/1.1\r\nX-Big: ".to_vec();
        big.resize(MAX_HEAD + 10, b'a');
        assert_eq!(rejected(&big), 431);
        big.extend_from_slice(b"\r\n\r\n");
        assert_eq!(rejected(&big), 431);
        let many: Vec<u8> = (0..70)
            .flat_map(|i| format!("H{i}: v\r\n").into_bytes())
            .collect();
        assert_eq!(
            rejected(&[&b"GET /f HTTP/1.1\r\n"[..], &many, b"\r\n"].concat()),
            431
        );
        let r = reject_response(reject(405, "no"));
        assert!(r.starts_with(b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, POST, PUT\r\n"));
        assert!(r.ends_with(b"Connection: close\r\n\r\nno\n"));
    }

    #[test]
    fn foreground_response_carries_data_and_result() {
        let (mut s, _) = submit(b"GET /f HTTP/1.1\r\n\r\n");
        assert!(s.busy());
        assert_eq!(s.packet(Command::JobCreated, &[b"H:x:1"]), None);
        assert_eq!(s.packet(Command::WorkStatus, &[b"H:x:1", b"1", b"2"]), None);
        assert_eq!(s.packet(Command::WorkData, &[b"H:x:1", b"par"]), None);
        let r = s
            .packet(Command::WorkComplete, &[b"H:x:1", b"tial"])
            .unwrap();
        let text = String::from_utf8(r.bytes).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nX-Gearman-Job-Handle: H:x:1\r\nX-Gearman-Command: WORK_COMPLETE\r\n\
             Content-Length: 7\r\nServer: Gearman/1.1.20+ds\r\nConnection: keep-alive\r\n\r\npartial"
        );
        assert!(!r.close && !s.busy());
        assert_eq!(s.packet(Command::WorkComplete, &[b"H:x:1", b""]), None);
    }

    #[test]
    fn background_failure_and_error_responses() {
        let (mut s, _) = submit(b"GET /f HTTP/1.0\r\nX-Gearman-Background: true\r\n\r\n");
        let r = s.packet(Command::JobCreated, &[b"H:x:2"]).unwrap();
        assert!(r.close);
        assert!(r.bytes.starts_with(
            b"HTTP/1.0 200 OK\r\nX-Gearman-Job-Handle: H:x:2\r\nX-Gearman-Command: JOB_CREATED\r\n"
        ));
        let (mut s, _) = submit(b"GET /f HTTP/1.1\r\nConnection: close\r\n\r\n");
        s.packet(Command::JobCreated, &[b"H:x:3"]);
        let r = s.packet(Command::WorkFail, &[b"H:x:3"]).unwrap();
        assert!(r.close);
        assert!(r
            .bytes
            .windows(27)
            .any(|w| w == b"X-Gearman-Command: WORK_FAI"));
        let (mut s, _) = submit(b"GET /f HTTP/1.1\r\n\r\n");
        let r = s
            .packet(Command::Error, &[b"QUEUE_ERROR", b"Job queue is full"])
            .unwrap();
        assert!(r.bytes.starts_with(b"HTTP/1.1 503 Service Unavailable\r\n"));
        assert!(r.bytes.ends_with(b"\r\n\r\nJob queue is full\n"));
    }
}
