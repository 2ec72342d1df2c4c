//! The event loop's HTTP connections: gearmand's `-r http` protocol (sessions of the core with
//! the [`HttpSession`] codec) and the metrics listener (`/metrics`, `/status`; no core session).
//! Both are bounded: a request head over [`http::MAX_HEAD`], a body over the packet limit, or a
//! client that takes longer than `--http-timeout` to send its request gets a 4xx and is closed.

use super::{Conn, Server, SCRAPE_BASE};
use crate::net::{Connection, Fill};
use crate::protocol::{decode_frame, Decoded, Frame, Limits, Magic, Packet};
use crate::server::core::Verdict;
use crate::server::http::{self, Input, Reject};
use crate::server::log;
use crate::server::metrics::{self, ConnKind, Format, IoStats};
use crate::server::model::{ConnId, Session};
use crate::server::wire::Backing;
use mio::net::TcpStream;
use mio::{Registry, Token};
use std::cmp::Reverse;
use std::io;
use std::time::Instant;

/// Input an HTTP client may pipeline behind a request being served before it is not read.
const PIPELINE_LIMIT: usize = 64 << 10;

/// A connection to the metrics listener.
pub(super) struct Scrape {
    c: Connection,
    closing: bool,
    deadline: Instant,
}

/// The status code as the label of `gearmand_http_rejected_total`.
fn status_label(status: u16) -> &'static str {
    match status {
        400 => "400",
        404 => "404",
        405 => "405",
        408 => "408",
        413 => "413",
        417 => "417",
        431 => "431",
        501 => "501",
        _ => "other",
    }
}

impl Server {
    /// Hands complete requests of `-r http` connection `id` to the core, one at a time.
    /// False if the connection was closed.
    pub(super) fn process_http(&mut self, id: ConnId) -> bool {
        let max_body = self.limits.max_payload as usize;
        loop {
            let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
                return false;
            };
            let Some(codec) = conn.http.as_mut() else {
                return true;
            };
            if codec.busy() {
                // The next request waits for this response.
                if conn.c.input.len() > PIPELINE_LIMIT {
                    conn.paused = true;
                }
                return true;
            }
            if conn.c.input.is_empty() {
                return true;
            }
            match codec.input(conn.c.input.as_slice(), max_body) {
                Input::NeedMore { interim } => {
                    if let Some(bytes) = interim {
                        conn.c.queue(bytes);
                        let pending = conn.c.output.len();
                        let r = conn.c.flush_and_rearm(self.poll.registry());
                        self.io.bytes_out += pending.saturating_sub(conn.c.output.len()) as u64;
                        if r.is_err() {
                            self.close(id);
                            return false;
                        }
                    }
                    return true;
                }
                Input::Reject(r) => {
                    self.reject_http(id, r);
                    return false;
                }
                Input::Submit(sub) => {
                    let args = [sub.function, sub.unique, sub.workload];
                    let verdict = match Packet::new(Magic::Request, sub.command, &args) {
                        Some(p) => self.core.packet(id, &p, Backing::BORROWED),
                        None => Verdict::Close,
                    };
                    conn.c.input.consume(sub.used);
                    conn.deadline = None;
                    if verdict == Verdict::Close {
                        self.close(id);
                        return false;
                    }
                }
            }
        }
    }

    /// Answers a refused request and closes the connection once the answer is written.
    fn reject_http(&mut self, id: ConnId, r: Reject) {
        log::info(format_args!(
            "http connection {id}: {} {}",
            r.status, r.text
        ));
        self.io.http_rejected.add(status_label(r.status));
        if let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) {
            conn.c.queue(&http::reject_response(r));
            conn.c.input.consume(conn.c.input.len());
        }
        self.close_after_flush(id);
    }

    /// Starts the `--http-timeout` clock for the next request of connection `id`.
    pub(super) fn arm_deadline(&mut self, id: ConnId) {
        let t = Instant::now() + self.http_timeout;
        if let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) {
            conn.deadline = Some(t);
            self.deadlines.push(Reverse((t, id)));
        }
        self.compact_deadlines();
    }

    /// Drops stale deadline entries once they outnumber the connections.
    fn compact_deadlines(&mut self) {
        let bound = 2 * (self.conns.len() + self.scrapes.len()) + 1024;
        if self.deadlines.len() > bound {
            let (conns, scrapes) = (&self.conns, &self.scrapes);
            self.deadlines.retain(|Reverse((t, token))| {
                if *token >= SCRAPE_BASE {
                    scrapes
                        .get(token - SCRAPE_BASE)
                        .and_then(|s| s.as_ref())
                        .is_some_and(|s| s.deadline == *t)
                } else {
                    conns
                        .get(*token)
                        .and_then(|c| c.as_ref())
                        .is_some_and(|c| c.deadline == Some(*t))
                }
            });
        }
    }

    /// Closes HTTP and metrics connections whose client did not send a whole request in time:
    /// 408 when it had started one, silently when it was idle between requests.
    pub(super) fn expire_deadlines(&mut self, now: Instant) {
        while let Some(&Reverse((t, token))) = self.deadlines.peek() {
            if t > now {
                return;
            }
            self.deadlines.pop();
            if token >= SCRAPE_BASE {
                let idx = token - SCRAPE_BASE;
                if let Some(s) = self.scrapes.get_mut(idx).and_then(|s| s.as_mut()) {
                    if s.deadline == t && !s.closing {
                        if !s.c.input.is_empty() {
                            s.c.queue(&http::reject_response(TIMEOUT));
                            self.io.http_rejected.add("408");
                        }
                        s.closing = true;
                        self.scrape_flush(idx);
                    }
                }
                continue;
            }
            let Some(conn) = self.conns.get(token).and_then(|c| c.as_ref()) else {
                continue;
            };
            let busy = conn.http.as_ref().is_some_and(|h| h.busy());
            if conn.deadline != Some(t) || busy || conn.closing {
                continue;
            }
            if conn.c.input.is_empty() {
                log::info(format_args!("http connection {token}: idle, closing"));
                self.close(token);
            } else {
                self.reject_http(token, TIMEOUT);
            }
        }
    }

    /// A connection to the metrics listener.
    pub(super) fn accept_scrape(&mut self, stream: TcpStream) {
        let idx = match self.scrapes.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None => {
                self.scrapes.push(None);
                self.scrapes.len() - 1
            }
        };
        let token = Token(SCRAPE_BASE + idx);
        match Connection::register(stream, token, self.poll.registry()) {
            Ok(c) => {
                let deadline = Instant::now() + self.http_timeout;
                self.scrapes[idx] = Some(Scrape {
                    c,
                    closing: false,
                    deadline,
                });
                self.deadlines.push(Reverse((deadline, SCRAPE_BASE + idx)));
            }
            Err(e) => {
                log::error(format_args!("register metrics connection: {e}"));
                self.io.open[ConnKind::Metrics as usize] -= 1;
            }
        }
    }

    /// Reads a metrics connection and answers each complete request from the core's tables.
    pub(super) fn scrape_event(&mut self, idx: usize, writable: bool) {
        let Some(s) = self.scrapes.get_mut(idx).and_then(|s| s.as_mut()) else {
            return;
        };
        if writable || s.closing {
            self.scrape_flush(idx);
            return;
        }
        // Read what is there; past twice the head limit the parser below refuses the request.
        let mut closed = false;
        loop {
            match s.c.fill_bounded(16 << 10, false, |_| 0) {
                Ok(Fill::More(n)) => {
                    self.io.bytes_in += n as u64;
                    if s.c.input.len() > 2 * http::MAX_HEAD {
                        break;
                    }
                }
                Ok(Fill::Drained(n)) => {
                    self.io.bytes_in += n as u64;
                    break;
                }
                Ok(Fill::Closed(n)) => {
                    self.io.bytes_in += n as u64;
                    closed = true;
                    break;
                }
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        loop {
            let head = match http::parse_head(s.c.input.as_slice()) {
                Ok(Some(h)) => h,
                Ok(None) => break,
                Err(r) => {
                    self.io.http_rejected.add(status_label(r.status));
                    s.c.queue(&http::reject_response(r));
                    s.closing = true;
                    break;
                }
            };
            let total = head.len + head.content_length;
            if total > http::MAX_HEAD {
                let r = Reject {
                    status: 413,
                    text: "Request body too large",
                };
                self.io.http_rejected.add(status_label(r.status));
                s.c.queue(&http::reject_response(r));
                s.closing = true;
                break;
            }
            if s.c.input.len() < total {
                break;
            }
            let (response, close) = answer(&head, &self.core, &self.io, self.started);
            s.c.queue(&response);
            s.c.input.consume(total);
            if close {
                s.closing = true;
                break;
            }
            s.deadline = Instant::now() + self.http_timeout;
            self.deadlines
                .push(Reverse((s.deadline, SCRAPE_BASE + idx)));
        }
        if closed && !s.closing {
            s.closing = true;
        }
        self.scrape_flush(idx);
    }

    /// Writes a metrics connection's output; closes it once a closing one is flushed.
    fn scrape_flush(&mut self, idx: usize) {
        let Some(s) = self.scrapes.get_mut(idx).and_then(|s| s.as_mut()) else {
            return;
        };
        let pending = s.c.output.len();
        let r = s.c.flush_and_rearm(self.poll.registry());
        self.io.bytes_out += pending.saturating_sub(s.c.output.len()) as u64;
        if r.is_err() || (s.closing && s.c.output.is_empty()) {
            if let Some(mut s) = self.scrapes[idx].take() {
                let _ = s.c.deregister(self.poll.registry());
            }
            self.io.open[ConnKind::Metrics as usize] -= 1;
        }
    }
}

const TIMEOUT: Reject = Reject {
    status: 408,
    text: "The request did not arrive in time",
};

/// The response to one request of the metrics listener, and whether to close afterwards.
fn answer(
    head: &http::Head<'_>,
    core: &crate::server::core::Core,
    io: &IoStats,
    started: std::time::SystemTime,
) -> (Vec<u8>, bool) {
    if head.method != "GET" {
        let r = Reject {
            status: 405,
            text: "Method not allowed: use GET",
        };
        return (http::reject_response(r), true);
    }
    let path = head.path.split(|&b| b == b'?').next().unwrap_or_default();
    let (status, content_type, body): (u16, &str, Vec<u8>) = match path {
        b"/metrics" => {
            let format = if head.openmetrics {
                Format::OpenMetrics
            } else {
                Format::Prometheus
            };
            (
                200,
                format.content_type(),
                metrics::render(core, io, started, format),
            )
        }
        b"/status" => (200, "application/json", metrics::status_json(core)),
        b"/" => (
            200,
            "text/plain; charset=utf-8",
            b"gearmand: /metrics (Prometheus), /status (JSON)\n".to_vec(),
        ),
        _ => (
            404,
            "text/plain; charset=utf-8",
            b"Not found: try /metrics or /status\n".to_vec(),
        ),
    };
    let response = http::encode(
        head.minor,
        status,
        &[("Content-Type", content_type.as_bytes())],
        &body,
        head.keep_alive,
    );
    (response, !head.keep_alive)
}

/// Flushes an `-r http` connection: the packets the core queued for its session become HTTP
/// responses in the socket's own output, which is then written.
pub(super) fn flush_http(
    conn: &mut Conn,
    s: &mut Session,
    registry: &Registry,
    io: &mut IoStats,
) -> io::Result<()> {
    if !s.out.is_empty() {
        let limits = Limits {
            max_payload: u32::MAX,
            ..Limits::default()
        };
        // The core queues whole packets: all of them are translated now.
        let buf = s.out.take_vec();
        let mut pos = 0;
        while let Ok(Decoded::Complete(Frame::Binary(p), n)) = decode_frame(&buf[pos..], &limits) {
            pos += n;
            let Some(codec) = conn.http.as_mut() else {
                break;
            };
            if let Some(response) = codec.packet(p.command, p.args()) {
                conn.c.output.extend_from_slice(&response.bytes);
                if response.close {
                    conn.closing = true;
                } else {
                    conn.http_ready = true;
                }
            }
        }
    }
    let pending = conn.c.output.len();
    let r = conn.c.flush_and_rearm(registry);
    io.bytes_out += pending.saturating_sub(conn.c.output.len()) as u64;
    r
}
