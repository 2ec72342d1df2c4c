//! The single mio event loop: accept, read and decode, hand frames to the core, then flush
//! every connection with new output once per loop iteration.

use super::busy_poll::BusyPoll;
use super::config::Config;
use super::core::{Core, Verdict};
use super::framing::{self, Step};
use super::handle::{Controller, Flags, ServerHandle};
use super::log;
use super::model::ConnId;
use super::wire::Backing;
use crate::net::listener::{self, KeepaliveParams};
use crate::net::{Connection, Fill};
use crate::protocol::packet::HEADER_LEN;
use crate::protocol::Limits;
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token, Waker};
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAKER: Token = Token(usize::MAX);
const LISTENER_BASE: usize = usize::MAX / 2;
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
}

/// A gearmand-compatible job server bound to its listening sockets.
pub struct Server {
    poll: Poll,
    listeners: Vec<TcpListener>,
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
        let mut first_error = None;
        for addr in &config.listen {
            match listener::bind(*addr, config.backlog, on_listener) {
                Ok(mut l) => {
                    let token = Token(LISTENER_BASE + listeners.len());
                    poll.registry()
                        .register(&mut l, token, Interest::READABLE)?;
                    listeners.push(l);
                }
                Err(e) => {
                    let e = io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"));
                    log::warning(format_args!("{e}"));
                    first_error.get_or_insert(e);
                }
            }
        }
        if listeners.is_empty() {
            return Err(first_error.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "no listen address")
            }));
        }
        Ok(Server {
            poll,
            listeners,
            flags: Arc::default(),
            waker,
            core: Core::new(&config),
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
        })
    }

    /// Binds, then runs the loop on a new thread.
    pub fn spawn(config: Config) -> io::Result<ServerHandle> {
        let server = Server::bind(config)?;
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

    pub fn controller(&self) -> Controller {
        Controller {
            flags: self.flags.clone(),
            waker: self.waker.clone(),
        }
    }

    /// Serves until [`Controller::shutdown`], or a graceful stop finds no jobs left.
    pub fn run(mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut next_sweep = Instant::now() + SWEEP_EVERY;
        // The previous round handled events: the next one may be a peer's reply.
        let mut after_busy = false;
        loop {
            if self.flags.shutdown.load(Ordering::SeqCst) {
                return Ok(());
            }
            if self.flags.graceful.load(Ordering::SeqCst) {
                for mut l in self.listeners.drain(..) {
                    let _ = self.poll.registry().deregister(&mut l);
                }
                if self.core.job_count() == 0 {
                    log::info(format_args!("graceful shutdown: no jobs left"));
                    return Ok(());
                }
            }
            let now = Instant::now();
            let mut wake_at = next_sweep;
            if let Some(t) = self.core.next_timer() {
                wake_at = wake_at.min(t);
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
            self.flush_dirty();
            if now >= next_sweep {
                self.sweep(now);
                next_sweep = now + SWEEP_EVERY;
            }
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
            };
            if self.conns.len() <= id {
                self.conns.resize_with(id + 1, || None);
            }
            self.conns[id] = Some(conn);
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
        let result = match self.core.peers.get_mut(id) {
            Some(s) => {
                std::mem::swap(&mut s.out, &mut conn.c.output);
                let r = conn.c.flush_and_rearm(registry);
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
            None => conn.c.flush_and_rearm(registry),
        };
        let done = conn.closing && conn.c.output.is_empty();
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
            std::mem::swap(&mut s.out, &mut conn.c.output);
        }
        self.flush(id);
    }

    fn close(&mut self, id: ConnId) {
        self.core.disconnect(id);
        if let Some(mut conn) = self.conns.get_mut(id).and_then(|c| c.take()) {
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
