//! The single mio event loop: accept, read and decode, hand frames to the core, then flush
//! every connection with new output once per loop iteration. Connections of the `-r http`
//! listener and of the metrics listener are served by the same loop ([`web`]).

mod web;

use super::busy_poll::BusyPoll;
use super::config::Config;
use super::core::{Core, Verdict};
use super::framing::{self, Step};
use super::handle::{Controller, Flags, ServerHandle};
use super::http::HttpSession;
use super::log;
use super::memory::Trim;
use super::metrics::{ConnKind, IoStats};
use super::model::ConnId;
use super::store::{QueueConfig, StoreStats};
use super::store_thread::{self, StoreThread};
use super::wire::Backing;
use crate::net::listener::{self, KeepaliveParams};
use crate::net::{Connection, Fill};
use crate::protocol::packet::HEADER_LEN;
use crate::protocol::Limits;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const WAKER: Token = Token(usize::MAX);
const LISTENER_BASE: usize = usize::MAX / 2;
/// Tokens of metrics connections (which have no core session) start here.
const SCRAPE_BASE: usize = usize::MAX / 4;
/// Bytes read from one connection before its frames are processed; a connection with more
/// waiting yields to the others and continues in the next round (fairness between a client
/// pipelining thousands of submissions and the workers serving them).
const READ_BATCH: usize = 256 << 10;
/// Least cap on one connection's unsent output. Its own requests stop being read at the
/// (smaller) backlog limit; this cap catches output that other connections produce for it
/// (forwarded work results) when it never reads them.
const MIN_PENDING_CAP: usize = 128 << 20;
/// Input buffer capacity a busy connection keeps across sweeps.
const KEEP_INPUT: usize = 256 << 10;
/// How often idle connections give back their buffers.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

struct Conn {
    c: Connection,
    /// Output over the backlog limit: input is not read until it drains.
    paused: bool,
    /// The peer closed its side.
    eof: bool,
    /// Only flushing what is left, then closing.
    closing: bool,
    /// Listed in `ready`: more input is waiting in the socket.
    ready: bool,
    last_active: Instant,
    /// `-r http` connections: the codec between the socket and the core session.
    http: Option<Box<HttpSession>>,
    /// An HTTP client must have sent its whole request by then (`--http-timeout`).
    deadline: Option<Instant>,
    /// An HTTP response was completed on a connection that stays open: the next request
    /// may be processed.
    http_ready: bool,
}

/// A gearmand-compatible job server bound to its listening sockets.
pub struct Server {
    poll: Poll,
    listeners: Vec<TcpListener>,
    /// What each listener serves (same index as `listeners`).
    kinds: Vec<ConnKind>,
    flags: Arc<Flags>,
    waker: Arc<Waker>,
    core: Core,
    conns: Vec<Option<Conn>>,
    limits: Limits,
    keepalive: KeepaliveParams,
    max_backlog: usize,
    /// Pending output beyond which a connection that does not read is dropped.
    max_pending: usize,
    /// Whether and how long to look for more without sleeping after a round that handled events.
    busy_poll: BusyPoll,
    dirty: Vec<ConnId>,
    resume: Vec<ConnId>,
    /// Connections that stopped reading at `READ_BATCH` with input still waiting.
    ready: Vec<ConnId>,
    /// Giving memory back after large payloads.
    trim: Trim,
    /// A large frame was handled in this round.
    large_frame: bool,
    /// Connections and bytes, for the metrics.
    io: IoStats,
    started: SystemTime,
    http_timeout: Duration,
    /// Metrics connections, by token minus [`SCRAPE_BASE`].
    scrapes: Vec<Option<web::Scrape>>,
    /// HTTP request deadlines: (when, token); stale entries are skipped when they fall due.
    deadlines: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The durable store's thread (`-q libsqlite3`, `-q wal`).
    store: Option<StoreThread>,
    /// The store to open before serving (taken by [`Server::open_store`]).
    queue: Option<QueueConfig>,
}

impl Server {
    /// Binds every address of `config.listen`.
    pub fn bind(config: Config) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let keepalive = KeepaliveParams {
            idle: config
                .keepalive
                .idle_secs
                .map(|s| Duration::from_secs(s.into())),
            interval: config
                .keepalive
                .interval_secs
                .map(|s| Duration::from_secs(s.into())),
            retries: config.keepalive.count,
        };
        let on_listener = config.keepalive.on_listener.then_some(&keepalive);
        // Like gearmand, listen on every address that can be bound (e.g. IPv4 only on a host
        // without IPv6); fail only when none can.
        let mut listeners = Vec::new();
        let mut kinds = Vec::new();
        let metrics: Vec<SocketAddr> = config.metrics_listen.into_iter().collect();
        for (kind, addrs) in [
            (ConnKind::Gearman, &config.listen),
            (ConnKind::Http, &config.http_listen),
            (ConnKind::Metrics, &metrics),
        ] {
            let mut first_error = None;
            let before = listeners.len();
            for addr in addrs {
                match listener::bind(*addr, config.backlog, on_listener) {
                    Ok(mut l) => {
                        let token = Token(LISTENER_BASE + listeners.len());
                        poll.registry()
                            .register(&mut l, token, Interest::READABLE)?;
                        listeners.push(l);
                        kinds.push(kind);
                    }
                    Err(e) => {
                        let e = io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"));
                        log::warning(format_args!("{e}"));
                        first_error.get_or_insert(e);
                    }
                }
            }
            if listeners.len() == before && (kind == ConnKind::Gearman || !addrs.is_empty()) {
                return Err(first_error.unwrap_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidInput, "no listen address")
                }));
            }
        }
        let core = Core::new(&config);
        Ok(Server {
            poll,
            listeners,
            kinds,
            flags: Arc::default(),
            waker,
            core,
            conns: Vec::new(),
            limits: Limits {
                max_payload: config.max_packet_size,
                ..Limits::default()
            },
            keepalive,
            max_backlog: config.max_output_backlog,
            max_pending: MIN_PENDING_CAP.max(config.max_packet_size as usize + HEADER_LEN),
            busy_poll: BusyPoll::new(config.busy_poll),
            dirty: Vec::new(),
            resume: Vec::new(),
            ready: Vec::new(),
            trim: Trim::default(),
            large_frame: false,
            io: IoStats::default(),
            started: SystemTime::now(),
            http_timeout: config.http_timeout,
            scrapes: Vec::new(),
            deadlines: BinaryHeap::new(),
            store: None,
            queue: Some(config.queue),
        })
    }

    /// Opens the durable store (`-q`) and replays it into the server, before the listeners are
    /// watched: connections made meanwhile wait in the backlog. [`Server::run`] does it if it
    /// was not done; the binary calls it after switching to the `-u` user, so the store's files
    /// belong to that user. Fails, naming the store and the damaged record, when the store
    /// cannot be read completely.
    pub fn open_store(&mut self) -> io::Result<()> {
        if let Some(queue) = self.queue.take() {
            self.store = store_thread::start(&queue, &mut self.core, self.waker.clone())?;
            self.io.store_configured = self.store.is_some();
        }
        Ok(())
    }

    /// Batch commit figures of the durable store, if there is one.
    pub fn store_stats(&self) -> Option<Arc<StoreStats>> {
        self.store.as_ref().map(|s| s.stats())
    }

    /// Stops accepting, commits what the last round queued for the store (answering those
    /// submitters) and flushes what can be written without waiting.
    fn stop(&mut self) -> io::Result<()> {
        for mut l in self.listeners.drain(..) {
            let _ = self.poll.registry().deregister(&mut l);
        }
        if let Some(store) = self.store.take() {
            store.finish(&mut self.core);
            self.flush_dirty();
        }
        Ok(())
    }

    /// Binds, then runs the loop on a new thread.
    pub fn spawn(config: Config) -> io::Result<ServerHandle> {
        let mut server = Server::bind(config)?;
        server.open_store()?;
        let addr = server.local_addr()?;
        let controller = server.controller();
        let thread = std::thread::Builder::new()
            .name("gearmand".into())
            .spawn(move || server.run())?;
        Ok(ServerHandle {
            addr,
            controller,
            thread: Some(thread),
        })
    }

    /// The address of the first listener (with the real port when port 0 was asked for).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listeners
            .first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no listener"))?
            .local_addr()
    }

    /// The address of the first `-r http` listener, if any.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.addr_of(ConnKind::Http)
    }

    /// The address of the metrics listener, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.addr_of(ConnKind::Metrics)
    }

    fn addr_of(&self, kind: ConnKind) -> Option<SocketAddr> {
        let i = self.kinds.iter().position(|&k| k == kind)?;
        self.listeners[i].local_addr().ok()
    }

    pub fn controller(&self) -> Controller {
        Controller {
            flags: self.flags.clone(),
            waker: self.waker.clone(),
        }
    }

    /// Serves until [`Controller::shutdown`], or a graceful stop finds no jobs left.
    pub fn run(mut self) -> io::Result<()> {
        self.open_store()?;
        let mut events = Events::with_capacity(1024);
        let mut next_sweep = Instant::now() + SWEEP_EVERY;
        // The previous round handled events: the next one may be a peer's reply.
        let mut after_busy = false;
        loop {
            if self.flags.shutdown.load(Ordering::SeqCst) {
                return self.stop();
            }
            if self.flags.graceful.load(Ordering::SeqCst) {
                for mut l in self.listeners.drain(..) {
                    let _ = self.poll.registry().deregister(&mut l);
                }
                self.kinds.clear();
                if self.core.job_count() == 0 {
                    log::info(format_args!("graceful shutdown: no jobs left"));
                    return self.stop();
                }
            }
            let now = Instant::now();
            let mut wake_at = next_sweep;
            if let Some(t) = self.core.next_timer() {
                wake_at = wake_at.min(t);
            }
            if let Some(t) = self.trim.due() {
                wake_at = wake_at.min(t);
            }
            if let Some(Reverse((t, _))) = self.deadlines.peek() {
                wake_at = wake_at.min(*t);
            }
            let timeout = if self.ready.is_empty() {
                wake_at.saturating_duration_since(now)
            } else {
                Duration::ZERO
            };
            // Right after a busy round, look again without sleeping for a short while: the
            // peer's next request usually follows within microseconds, and catching it here
            // saves the sleep and wake-up that dominate a request/response round trip. The
            // spin adapts to what it catches (see `BusyPoll`).
            let scored = after_busy && !timeout.is_zero();
            let mut polled = false;
            if scored {
                let until = now + self.busy_poll.budget();
                while Instant::now() < until {
                    match self.poll.poll(&mut events, Some(Duration::ZERO)) {
                        Ok(()) if !events.is_empty() => {
                            polled = true;
                            break;
                        }
                        Ok(()) => std::thread::yield_now(),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            if !polled {
                match self.poll.poll(&mut events, Some(timeout)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            if scored {
                let gap = (!events.is_empty()).then(|| now.elapsed());
                self.busy_poll.observe(gap);
            }
            after_busy = !events.is_empty();
            for ev in events.iter() {
                let token = ev.token();
                if token == WAKER {
                    continue;
                }
                if token.0 >= LISTENER_BASE {
                    self.accept(token.0 - LISTENER_BASE);
                    continue;
                }
                if token.0 >= SCRAPE_BASE {
                    self.scrape_event(token.0 - SCRAPE_BASE, ev.is_writable());
                    continue;
                }
                let id = token.0;
                if ev.is_read_closed() || ev.is_error() {
                    self.serve(id, false);
                } else if ev.is_readable() {
                    self.serve(id, true);
                }
                if ev.is_writable() {
                    self.flush(id);
                }
            }
            for id in std::mem::take(&mut self.ready) {
                if let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) {
                    conn.ready = false;
                    // Read until WouldBlock: a FIN seen by an earlier event raises no new edge.
                    self.serve(id, false);
                }
            }
            let now = Instant::now();
            self.core.run_timers(now);
            self.expire_deadlines(now);
            if let Some(store) = self.store.as_mut() {
                if let Some((ok, took)) = store.round(&mut self.core) {
                    self.io.store_commit.observe(took);
                    self.io.store_failed += u64::from(!ok);
                }
            }
            self.flush_dirty();
            if std::mem::take(&mut self.large_frame)
                || std::mem::take(&mut self.core.released_large)
            {
                self.trim.note(now);
            }
            let sweep = now >= next_sweep;
            if sweep {
                self.sweep(now);
                next_sweep = now + SWEEP_EVERY;
            }
            self.trim.run(now, sweep);
        }
    }

    fn accept(&mut self, index: usize) {
        loop {
            let Some(l) = self.listeners.get(index) else {
                return;
            };
            let (stream, addr) = match l.accept() {
                Ok(x) => x,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::error(format_args!("accept failed: {e}"));
                    return;
                }
            };
            if let Err(e) = listener::tune_accepted(&stream, &self.keepalive) {
                log::warning(format_args!("socket options for {addr}: {e}"));
            }
            let kind = self.kinds[index];
            self.io.accepted[kind as usize] += 1;
            self.io.open[kind as usize] += 1;
            if kind == ConnKind::Metrics {
                self.accept_scrape(stream);
                continue;
            }
            let fd = stream.as_raw_fd();
            let ip = match addr.ip() {
                std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                    Some(v4) => v4.to_string(),
                    None => v6.to_string(),
                },
                ip => ip.to_string(),
            };
            let id = self.core.connect(fd, ip);
            let c = match Connection::register(stream, Token(id), self.poll.registry()) {
                Ok(c) => c,
                Err(e) => {
                    log::error(format_args!("register {addr}: {e}"));
                    self.core.disconnect(id);
                    self.core.peers.release(id);
                    self.io.open[kind as usize] -= 1;
                    continue;
                }
            };
            let conn = Conn {
                c,
                paused: false,
                eof: false,
                closing: false,
                ready: false,
                last_active: Instant::now(),
                http: (kind == ConnKind::Http).then(Box::default),
                deadline: None,
                http_ready: false,
            };
            if self.conns.len() <= id {
                self.conns.resize_with(id + 1, || None);
            }
            self.conns[id] = Some(conn);
            if kind == ConnKind::Http {
                self.arm_deadline(id);
            }
            log::info(format_args!("accepted connection {id} from {addr}"));
        }
    }

    /// Reads from a connection and processes its frames, batch by batch: after `READ_BATCH`
    /// bytes (or one frame larger than that) it yields to the others and continues in the
    /// next round.
    fn serve(&mut self, id: ConnId, short_read_drains: bool) {
        let mut budget = READ_BATCH;
        if let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) {
            conn.last_active = Instant::now();
        }
        loop {
            let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
                return;
            };
            if conn.paused || conn.closing {
                return;
            }
            let limits = &self.limits;
            let fill = conn.c.fill_bounded(budget, short_read_drains, |buf| {
                framing::missing(buf, limits)
            });
            if let Ok(Fill::More(n) | Fill::Drained(n) | Fill::Closed(n)) = fill {
                self.io.bytes_in += n as u64;
            }
            if !self.process(id) {
                return;
            }
            match fill {
                // The frame at the front completed and was handled: read on.
                Ok(Fill::More(n)) if n < budget => budget -= n,
                Ok(Fill::More(_)) => {
                    if let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) {
                        if !conn.ready {
                            conn.ready = true;
                            self.ready.push(id);
                        }
                    }
                    return;
                }
                Ok(Fill::Drained(_)) => return,
                Ok(Fill::Closed(_)) => return self.end_of_input(id),
                Err(e) => {
                    log::info(format_args!("connection {id}: {e}"));
                    return self.close(id);
                }
            }
        }
    }

    fn end_of_input(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
            return;
        };
        conn.eof = true;
        if !conn.paused {
            self.close_after_flush(id);
        }
    }

    /// Decodes and handles every complete frame in the input. False if the connection closed.
    fn process(&mut self, id: ConnId) -> bool {
        let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
            return false;
        };
        if conn.http.is_some() {
            return self.process_http(id);
        }
        loop {
            let buf = conn.c.input.as_slice();
            if buf.is_empty() {
                return true;
            }
            // A frame with a large payload leaves the input as a shared slice, which the core
            // keeps (job data) or forwards (results) without copying; others are handled in
            // place.
            let step = match framing::large_frame(buf, &self.limits) {
                Some(len) => {
                    self.large_frame = true;
                    let frame = conn.c.input.split_frame(len);
                    let backing = Backing::shared(&frame);
                    match framing::handle_front(&mut self.core, id, &frame, backing, &self.limits) {
                        Step::Handled { verdict, .. } => Step::Handled { used: 0, verdict },
                        other => other,
                    }
                }
                None => {
                    framing::handle_front(&mut self.core, id, buf, Backing::BORROWED, &self.limits)
                }
            };
            let (verdict, used) = match step {
                Step::Handled { used, verdict } => (verdict, used),
                Step::NeedMore => return true,
                Step::Fatal { replied } => {
                    if replied {
                        self.close_after_flush(id);
                    } else {
                        self.close(id);
                    }
                    return false;
                }
            };
            conn.c.input.consume(used);
            if verdict == Verdict::Close {
                self.close(id);
                return false;
            }
            if self
                .core
                .peers
                .get(id)
                .is_some_and(|s| s.out.len() > self.max_backlog)
            {
                conn.paused = true;
                return true;
            }
        }
    }

    /// Flushes every connection with new output; connections whose backlog drained are
    /// resumed, and what they produce is flushed in the same round.
    fn flush_dirty(&mut self) {
        loop {
            let mut dirty = std::mem::take(&mut self.dirty);
            self.core.take_dirty(&mut dirty);
            if dirty.is_empty() && self.resume.is_empty() {
                self.dirty = dirty;
                return;
            }
            // In the order output was produced: a submission wakes the workers (NOOP) before
            // answering the client, and a result reaches its clients before the worker's next
            // grab is answered; both put the critical path first.
            for &id in dirty.iter() {
                self.flush(id);
            }
            dirty.clear();
            self.dirty = dirty;
            while let Some(id) = self.resume.pop() {
                if self.process(id) {
                    let eof = self
                        .conns
                        .get(id)
                        .and_then(|c| c.as_ref())
                        .is_some_and(|c| c.eof);
                    if eof {
                        self.end_of_input(id);
                    } else {
                        // The socket was not read while paused: drain it fully.
                        self.serve(id, false);
                    }
                }
            }
        }
    }

    /// Writes what the connection has pending; resumes its input once the backlog drained.
    fn flush(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
            return;
        };
        let registry = self.poll.registry();
        let before = conn.c.output.len();
        let result = match self.core.peers.get_mut(id) {
            Some(s) if conn.http.is_some() => web::flush_http(conn, s, registry, &mut self.io),
            Some(s) => {
                std::mem::swap(&mut s.out, &mut conn.c.output);
                let pending = conn.c.output.len();
                let r = conn.c.flush_and_rearm(registry);
                self.io.bytes_out += pending.saturating_sub(conn.c.output.len()) as u64;
                std::mem::swap(&mut s.out, &mut conn.c.output);
                if r.is_ok() && conn.paused && s.out.len() <= self.max_backlog / 2 {
                    conn.paused = false;
                    self.resume.push(id);
                }
                if r.is_ok() && s.out.len() > self.max_pending {
                    // An error, so the default log level shows why the peer was dropped.
                    log::error(format_args!(
                        "connection {id} does not read its output ({} bytes pending): closing",
                        s.out.len()
                    ));
                    Err(io::Error::other("output limit exceeded"))
                } else {
                    r
                }
            }
            None => {
                let r = conn.c.flush_and_rearm(registry);
                self.io.bytes_out += before.saturating_sub(conn.c.output.len()) as u64;
                r
            }
        };
        let done = conn.closing && conn.c.output.is_empty();
        let http_ready = std::mem::take(&mut conn.http_ready) && !conn.closing;
        if http_ready {
            conn.paused = false;
            self.resume.push(id);
            self.arm_deadline(id);
        }
        if let Err(e) = result {
            log::info(format_args!("connection {id}: {e}"));
            self.close(id);
        } else if done {
            self.close(id);
        }
    }

    /// Detaches the session now; the socket stays until its last output is written.
    fn close_after_flush(&mut self, id: ConnId) {
        let Some(conn) = self.conns.get_mut(id).and_then(|c| c.as_mut()) else {
            return;
        };
        conn.closing = true;
        if let Some(mut s) = self.core.disconnect(id) {
            // An HTTP connection's socket output is its own: the session's packets are
            // translated, never written as they are.
            if conn.http.is_none() {
                std::mem::swap(&mut s.out, &mut conn.c.output);
            }
        }
        self.flush(id);
    }

    fn close(&mut self, id: ConnId) {
        self.core.disconnect(id);
        if let Some(mut conn) = self.conns.get_mut(id).and_then(|c| c.take()) {
            let kind = if conn.http.is_some() {
                ConnKind::Http
            } else {
                ConnKind::Gearman
            };
            self.io.open[kind as usize] -= 1;
            let _ = conn.c.deregister(self.poll.registry());
            self.core.peers.release(id);
            log::info(format_args!("closed connection {id}"));
        }
    }

    /// Gives back the buffers of connections idle since the last sweep, and the input buffers
    /// that a large frame left behind on busy ones (they are reused frame after frame while
    /// large payloads keep coming, and the next one after a sweep makes a new allocation).
    fn sweep(&mut self, now: Instant) {
        self.core.shrink();
        for (id, slot) in self.conns.iter_mut().enumerate() {
            let Some(conn) = slot else { continue };
            if now.duration_since(conn.last_active) < SWEEP_EVERY {
                conn.c.input.shrink_if_idle(KEEP_INPUT);
                continue;
            }
            conn.c.input.shrink_if_idle(0);
            conn.c.output.shrink_if_idle(0);
            if let Some(s) = self.core.peers.get_mut(id) {
                s.out.shrink_if_idle(0);
            }
        }
    }
}
