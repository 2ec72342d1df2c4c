//! One client-side (or worker-side) connection to a job server: lazy non-blocking connect over
//! every resolved address, buffered packet output, packet-at-a-time input.
//!
//! The socket is always non-blocking; "blocking" operations are loops of `poll` bounded by the
//! caller's per-wait timeout, as in libgearman.
//!
//! With TLS (see [`Link::set_tls`]) the handshake is part of connecting: the link stays
//! `Connecting` until it is done, so no packet is written before the server is verified, and a
//! failed handshake fails the connection (no plaintext retry). Afterwards the stream is a TLS
//! session behind the same [`Transport`] as plain TCP (see `net::tls`): reads land in the same
//! input buffer, the same shared slices are written. Decrypted bytes a read left in the session
//! (it stops once the reply at the front is complete) count as buffered input, so nobody polls
//! the socket for data that already arrived.

use super::input::InputBuffer;
use super::output::{OutQueue, SHARE_MIN};
use super::poll::{poll_with, PollItem, Spin};
use super::servers::ServerAddress;
use super::tls::{is_tls_error, ClientTls, TlsSocket, TlsStream};
use super::transport::{Stream, Transport};
use crate::error::{Error, ReturnCode};
use crate::protocol::packet::{
    decode_header, decode_packet, DecodeError, Decoded, Limits, HEADER_LEN,
};
use crate::protocol::{Command, Magic};
use bytes::Bytes;
use mio::net::TcpStream;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// An owned packet received from a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The packet type.
    pub command: Command,
    /// The arguments in wire order (fields, then the data blob if the type has one). A large
    /// packet's arguments are slices of the buffer it was read into (no copy).
    pub args: Vec<Bytes>,
}

impl Reply {
    /// Argument `i`, or empty past the end.
    pub fn arg(&self, i: usize) -> &[u8] {
        self.args.get(i).map_or(&[][..], |a| a)
    }

    /// Takes the data blob (the last argument) of types that carry one.
    pub fn take_data(&mut self) -> Bytes {
        if self.command.has_data() {
            self.args.last_mut().map(std::mem::take).unwrap_or_default()
        } else {
            Bytes::new()
        }
    }
}

/// Replies whose payload is at least this large keep their arguments as slices of the input
/// buffer; smaller ones are copied out, so a kept result never pins a whole read buffer.
const SHARE_PAYLOAD: usize = 16 * 1024;

/// Where a link is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// No socket.
    Closed,
    /// A non-blocking connect is in progress.
    Connecting,
    /// Ready for packets.
    Connected,
}

fn header(command: Command, payload: usize) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..4].copy_from_slice(&Magic::Request.bytes());
    h[4..8].copy_from_slice(&(command as u32).to_be_bytes());
    h[8..].copy_from_slice(&(payload as u32).to_be_bytes());
    h
}

/// What the message of a timed-out wait says (libgearman's text).
pub fn timeout_error(operation: &str, servers: usize, pipe: bool) -> Error {
    Error::new(
        ReturnCode::Timeout,
        operation,
        format!("timeout reached, {servers} servers were poll(), no servers were available, pipe:{pipe}"),
    )
}

/// Bytes still missing for the packet at the front of `input` (0: complete or header not in).
fn need(input: &[u8]) -> usize {
    match decode_header(input, &LIMITS) {
        Ok(Decoded::Complete((_, _, size), _)) => {
            (HEADER_LEN + size as usize).saturating_sub(input.len())
        }
        _ => 0,
    }
}

/// A connection to one configured server.
#[derive(Debug)]
pub struct Link {
    /// The server this link connects to.
    pub server: ServerAddress,
    stream: Option<Stream>,
    state: LinkState,
    next_addr: usize,
    input: InputBuffer,
    output: OutQueue,
    /// The peer closed its side; packets still buffered may be read first.
    eof: bool,
    /// When bytes last arrived (or the connection was made).
    last_input: Instant,
    /// TLS for the connections made from now on.
    tls_config: Option<ClientTls>,
    /// How the blocking operations wait (off for non-blocking owners).
    spin: Spin,
}

/// Decode limits for replies: the wire allows payloads up to 4 GiB.
const LIMITS: Limits = Limits {
    max_payload: u32::MAX,
    max_line: 0,
};

impl Link {
    /// A closed link to `server`.
    pub fn new(server: ServerAddress) -> Link {
        Link {
            server,
            stream: None,
            state: LinkState::Closed,
            next_addr: 0,
            input: InputBuffer::new(),
            output: OutQueue::new(),
            eof: false,
            last_input: Instant::now(),
            tls_config: None,
            spin: Spin::new(),
        }
    }

    /// Chooses TLS (or plain TCP with `None`) for the connections made from now on. Returns
    /// true when that changed while a connection is open (made the other way): the caller
    /// should give it up and reconnect.
    pub fn set_tls(&mut self, tls: Option<ClientTls>) -> bool {
        let same = match (&self.tls_config, &tls) {
            (None, None) => true,
            (Some(a), Some(b)) => a.same_as(b),
            _ => false,
        };
        self.tls_config = tls;
        !same && self.state != LinkState::Closed
    }

    /// True when this link's connections use TLS.
    pub fn uses_tls(&self) -> bool {
        self.tls_config.is_some()
    }

    /// Lets the blocking operations look for readiness briefly before they sleep (see
    /// [`Spin`]); owners in non-blocking mode turn this off.
    pub fn set_spin_enabled(&mut self, on: bool) {
        self.spin.set_enabled(on);
    }

    /// Whether the blocking waits may spin (see [`Spin::is_enabled`]).
    pub fn spin_enabled(&self) -> bool {
        self.spin.is_enabled()
    }

    /// Time since bytes last arrived on this connection (or since it was made).
    pub fn idle_for(&self) -> Duration {
        self.last_input.elapsed()
    }

    /// Where the link is in its life.
    pub fn state(&self) -> LinkState {
        self.state
    }

    /// True once connected.
    pub fn is_connected(&self) -> bool {
        self.state == LinkState::Connected
    }

    /// The socket descriptor while a socket exists.
    pub fn fd(&self) -> Option<RawFd> {
        self.stream.as_ref().map(|s| s.as_raw_fd())
    }

    /// True while queued output waits to be written (in the queue, or encrypted in the TLS
    /// session).
    pub fn has_output(&self) -> bool {
        !self.output.is_empty() || self.stream.as_ref().is_some_and(Stream::holds_output)
    }

    /// Closes the socket (a TLS session says close_notify first, without waiting) and drops
    /// buffered input and output.
    pub fn close(&mut self) {
        if let (Some(tls), LinkState::Connected) =
            (self.stream.as_mut().and_then(Stream::tls), self.state)
        {
            tls.close();
        }
        self.stream = None;
        self.state = LinkState::Closed;
        self.next_addr = 0;
        self.input = InputBuffer::new();
        self.output = OutQueue::new();
        self.eof = false;
    }

    /// Starts connecting (non-blocking) to the next untried address. On success the link is
    /// Connecting or already Connected; when every address failed: COULD_NOT_CONNECT, and the
    /// entry resolves its name again for the next attempt.
    pub fn start_connect(&mut self) -> Result<(), Error> {
        if self.state != LinkState::Closed {
            return Ok(());
        }
        while self.next_addr < self.server.addrs.len() {
            let addr = self.server.addrs[self.next_addr];
            self.next_addr += 1;
            if let Ok(stream) = TcpStream::connect(addr) {
                let _ = stream.set_nodelay(true);
                self.stream = Some(Stream::Tcp(stream));
                self.state = LinkState::Connecting;
                self.eof = false;
                return Ok(());
            }
        }
        self.next_addr = 0;
        self.server.refresh();
        Err(Error::new(
            ReturnCode::CouldNotConnect,
            "gearman_connection_st::connect",
            format!("Connection to {} failed", self.server.label()),
        ))
    }

    /// Checks a Connecting link after the socket reported readiness: Ok(true) once connected
    /// (with TLS: once the handshake is done), Ok(false) while still in progress; a refused
    /// attempt moves on to the next address. A failed handshake closes the link:
    /// COULD_NOT_CONNECT with "SSL failure(...)" (the caller goes on to the next server).
    pub fn finish_connect(&mut self) -> Result<bool, Error> {
        if self.state != LinkState::Connecting {
            return Ok(self.state == LinkState::Connected);
        }
        let stream = match self.stream.as_ref() {
            None => return Ok(false),
            Some(Stream::Tls(_)) => return self.handshake(),
            Some(Stream::Tcp(s)) => s,
        };
        let failed = match stream.take_error() {
            Ok(Some(_)) | Err(_) => true,
            Ok(None) => match stream.peer_addr() {
                Ok(_) => false,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => return Ok(false),
                Err(_) => true,
            },
        };
        if failed {
            self.stream = None;
            self.state = LinkState::Closed;
            self.start_connect()?;
            return Ok(false);
        }
        if let Some(config) = &self.tls_config {
            let peer = match stream.peer_addr() {
                Ok(a) => a.ip(),
                Err(e) => return Err(self.tls_failure(&e.to_string())),
            };
            let session = match config.connect(&self.server.host, peer) {
                Ok(session) => session,
                Err(e) => return Err(self.tls_failure(&e.to_string())),
            };
            if let Some(Stream::Tcp(sock)) = self.stream.take() {
                let tls = TlsSocket::new(sock, TlsStream::new(session));
                self.stream = Some(Stream::Tls(Box::new(tls)));
            }
            return self.handshake();
        }
        self.state = LinkState::Connected;
        self.last_input = Instant::now();
        Ok(true)
    }

    /// One step of the TLS handshake of a Connecting link.
    fn handshake(&mut self) -> Result<bool, Error> {
        let Some(tls) = self.stream.as_mut().and_then(Stream::tls) else {
            return Err(self.tls_failure("no connection"));
        };
        match tls.handshake() {
            Ok(true) => {
                self.state = LinkState::Connected;
                self.last_input = Instant::now();
                // Application data that came with the handshake's last flight waits in the
                // session, where a poll on the socket would not see it.
                self.fill()?;
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) => Err(self.tls_failure(&e.to_string())),
        }
    }

    /// Closes a link whose TLS setup failed and says why (libgearman's "SSL failure" text).
    fn tls_failure(&mut self, why: &str) -> Error {
        let label = self.server.label();
        self.close();
        Error::new(
            ReturnCode::CouldNotConnect,
            "gearman_connection_st::connect",
            format!("SSL failure({label}): {why}"),
        )
    }

    /// Maps a failed read or write: a TLS failure is LOST_CONNECTION "SSL failure(...)",
    /// anything else as for plain sockets. Closes the link.
    fn io_failure(&mut self, operation: &str, e: &io::Error) -> Error {
        let err = if is_tls_error(e) {
            Error::new(
                ReturnCode::LostConnection,
                operation,
                format!("SSL failure({}): {e}", self.server.label()),
            )
        } else {
            Error::from_io(operation, e)
        };
        self.close();
        err
    }

    /// True once the peer closed its side (seen by [`Link::fill`]).
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Connects (with TLS: and completes the handshake), waiting with `timeout` per wait.
    pub fn connect_blocking(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        self.start_connect()?;
        while self.state == LinkState::Connecting {
            let item = self
                .poll_item()
                .ok_or_else(|| Error::code_only(ReturnCode::CouldNotConnect))?;
            let mut items = [item];
            let n = poll_with(&mut items, timeout, Some(&mut self.spin))
                .map_err(|e| Error::from_io("connect", &e))?;
            if n == 0 {
                self.close();
                return Err(timeout_error("connect", 1, false));
            }
            self.finish_connect()?;
        }
        Ok(())
    }

    /// Appends one request packet to the output buffer (no system call).
    pub fn queue(&mut self, command: Command, args: &[&[u8]]) {
        let payload: usize =
            args.iter().map(|a| a.len()).sum::<usize>() + args.len().saturating_sub(1);
        self.output.extend_from_slice(&header(command, payload));
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                self.output.extend_from_slice(&[0]);
            }
            self.output.extend_from_slice(a);
        }
    }

    /// Appends one request packet whose data blob is shared, not copied: the fields (each
    /// ended by NUL) are copied, a large `data` is written from where it lies (writev).
    pub fn queue_shared(&mut self, command: Command, fields: &[&[u8]], data: Bytes) {
        let payload = fields.iter().map(|f| f.len() + 1).sum::<usize>() + data.len();
        self.output.extend_from_slice(&header(command, payload));
        for f in fields {
            self.output.extend_from_slice(f);
            self.output.extend_from_slice(&[0]);
        }
        self.output.push_shared(data);
    }

    /// Sends one request packet and everything queued before it, waiting with `timeout` per
    /// wait. A large data blob (the last argument of a type that carries one) is written
    /// straight from the caller's memory; only what a timed-out wait leaves unsent is copied
    /// into the output buffer, so the stream stays whole.
    pub fn send_blocking(
        &mut self,
        command: Command,
        args: &[&[u8]],
        timeout: Option<Duration>,
    ) -> Result<(), Error> {
        let data = match args.split_last() {
            Some((data, fields)) if command.has_data() && data.len() >= SHARE_MIN => {
                (*data, fields)
            }
            _ => {
                self.queue(command, args);
                return self.flush_blocking(timeout);
            }
        };
        let (data, fields) = data;
        self.flush_blocking(timeout)?;
        let payload = fields.iter().map(|f| f.len() + 1).sum::<usize>() + data.len();
        let mut head = header(command, payload).to_vec();
        for f in fields {
            head.extend_from_slice(f);
            head.push(0);
        }
        let total = head.len() + data.len();
        let mut sent = 0;
        while sent < total {
            let Some(stream) = self.stream.as_mut() else {
                return Err(self.lost("send", "not connected"));
            };
            // Through the TLS session when there is one (encrypted into its records).
            let written = if sent < head.len() {
                stream.write_slices(&[IoSlice::new(&head[sent..]), IoSlice::new(data)])
            } else {
                stream.write_slices(&[IoSlice::new(&data[sent - head.len()..])])
            };
            match written {
                Ok(0) => return Err(self.lost("send", "write returned 0")),
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if let Err(e) = self.wait_writable(timeout) {
                        // Keep the rest so that the packet is not cut short on the wire.
                        if sent < head.len() {
                            self.output.extend_from_slice(&head[sent..]);
                            self.output.extend_from_slice(data);
                        } else {
                            self.output.extend_from_slice(&data[sent - head.len()..]);
                        }
                        return Err(e);
                    }
                }
                Err(e) => return Err(self.io_failure("send", &e)),
            }
        }
        if self.has_output() {
            // Encrypted records the socket did not take yet.
            self.flush_blocking(timeout)?;
        }
        Ok(())
    }

    /// Waits until the socket takes more output.
    fn wait_writable(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let item = self.wait_socket("send", false, timeout)?;
        if item.got.error && !item.got.writable {
            return Err(self.lost("send", "detected lost connection"));
        }
        Ok(())
    }

    /// One poll of the connected socket for `op` (readable, else writable), spinning first if
    /// allowed; TIMEOUT when nothing came within `timeout`.
    fn wait_socket(
        &mut self,
        op: &str,
        readable: bool,
        timeout: Option<Duration>,
    ) -> Result<PollItem, Error> {
        let fd = self.fd().ok_or_else(|| self.lost(op, "not connected"))?;
        let mut items = [PollItem::new(fd, readable, !readable)];
        let n = poll_with(&mut items, timeout, Some(&mut self.spin))
            .map_err(|e| Error::from_io(op, &e))?;
        if n == 0 {
            return Err(timeout_error(op, 1, false));
        }
        Ok(items[0])
    }

    /// Writes queued output until done or the socket would block. Ok(true) when all is sent.
    /// Does nothing (Ok(false)) while the connection is still being set up.
    pub fn flush(&mut self) -> Result<bool, Error> {
        if self.state != LinkState::Connected {
            return Ok(self.output.is_empty());
        }
        let Some(stream) = self.stream.as_mut() else {
            return Ok(false);
        };
        while !self.output.is_empty() {
            match self.output.write_to(stream) {
                Ok((0, _)) => return Err(self.lost("send", "write returned 0")),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_failure("send", &e)),
            }
        }
        match stream.flush_held() {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(e) => return Err(self.io_failure("send", &e)),
        }
        self.output.shrink_if_idle(256 * 1024);
        Ok(true)
    }

    fn lost(&mut self, operation: &str, detail: &str) -> Error {
        self.close();
        Error::new(ReturnCode::LostConnection, operation, detail)
    }

    /// Reads whatever the socket has. Ok(n) bytes; EOF is remembered and reported by
    /// [`Link::next_reply`] once the buffered packets are consumed.
    pub fn fill(&mut self) -> Result<usize, Error> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            // Reads are sized by the packet at the front: a large reply lands in one buffer
            // of its size, and reading stops once it is complete (it is handed out as slices
            // of that buffer before anything is read behind it).
            let missing = need(self.input.as_slice());
            match self.input.read_from(stream, missing) {
                Ok((0, _)) => {
                    self.eof = true;
                    return Ok(total);
                }
                Ok((n, offered)) => {
                    total += n;
                    self.last_input = Instant::now();
                    // A read shorter than offered drained the socket: skip the read that would
                    // only say EAGAIN.
                    if n < offered || (missing > 0 && n >= missing) {
                        return Ok(total);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_failure("recv", &e)),
            }
        }
    }

    /// The next complete packet already buffered; at EOF with nothing complete left:
    /// LOST_CONNECTION ("lost connection to server (EOF)"). Bad packets close the link.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, Error> {
        if self.session_holds_input() && !self.input_has_reply() {
            self.fill()?;
        }
        let buf = self.input.as_slice();
        let decoded = decode_packet(buf, &LIMITS);
        match decoded {
            Ok(Decoded::Complete(p, used)) => {
                let magic_ok = p.magic == Magic::Response;
                let args = if used - HEADER_LEN >= SHARE_PAYLOAD {
                    // Where each argument lies in the frame, then the frame as one slice.
                    let base = buf.as_ptr() as usize;
                    let at: Vec<(usize, usize)> = p
                        .args()
                        .iter()
                        .map(|a| (a.as_ptr() as usize - base, a.len()))
                        .collect();
                    let command = p.command;
                    let frame = self.input.split_frame(used);
                    let args = at.iter().map(|&(s, n)| frame.slice(s..s + n)).collect();
                    Reply { command, args }
                } else {
                    let args = p.args().iter().map(|a| Bytes::copy_from_slice(a)).collect();
                    let reply = Reply {
                        command: p.command,
                        args,
                    };
                    self.input.consume(used);
                    reply
                };
                let reply = args;
                if !magic_ok {
                    self.close();
                    return Err(Error::new(
                        ReturnCode::InvalidMagic,
                        "recv",
                        "invalid magic from the server",
                    ));
                }
                Ok(Some(reply))
            }
            Ok(Decoded::Partial(_)) if self.eof => {
                Err(self.lost("recv", "lost connection to server (EOF)"))
            }
            Ok(Decoded::Partial(_)) => Ok(None),
            Err(e) => {
                let code = match e {
                    DecodeError::BadMagic => ReturnCode::InvalidMagic,
                    DecodeError::UnknownCommand(_) => ReturnCode::InvalidCommand,
                    DecodeError::TooLarge { .. } => ReturnCode::ArgumentTooLarge,
                    _ => ReturnCode::InvalidPacket,
                };
                self.close();
                Err(Error::new(code, "recv", e))
            }
        }
    }

    /// Sends all queued output, waiting with `timeout` per wait.
    pub fn flush_blocking(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if self.state == LinkState::Connecting {
            self.connect_blocking(timeout)?;
        }
        while !self.flush()? {
            self.wait_writable(timeout)?;
        }
        Ok(())
    }

    /// Waits for the next packet with `timeout` per wait.
    pub fn recv_blocking(&mut self, timeout: Option<Duration>) -> Result<Reply, Error> {
        // The answer is often there already: read before paying for a poll.
        if !self.has_buffered_reply() {
            self.fill()?;
        }
        loop {
            if let Some(r) = self.next_reply()? {
                return Ok(r);
            }
            self.wait_socket("recv", true, timeout)?;
            self.fill()?;
        }
    }

    /// The readiness this link wants in a poll: output pending or connecting → writable;
    /// connected → readable; a TLS handshake → whichever the session waits for.
    pub fn poll_item(&self) -> Option<PollItem> {
        let fd = self.fd()?;
        match self.state {
            LinkState::Closed => None,
            LinkState::Connecting => Some(match &self.stream {
                Some(Stream::Tls(t)) => {
                    let write = t.session().wants_write();
                    PollItem::new(fd, !write, write)
                }
                _ => PollItem::new(fd, false, true),
            }),
            LinkState::Connected => Some(PollItem::new(fd, true, self.has_output())),
        }
    }

    /// Drops the memory a large reply left in the input buffer once nothing is buffered.
    pub fn shrink_input(&mut self) {
        self.input.shrink_if_idle(256 * 1024);
    }

    /// True when a complete packet (or a pending EOF) is already buffered, or the TLS session
    /// holds decrypted input [`Link::next_reply`] takes in first (no poll would see it).
    pub fn has_buffered_reply(&self) -> bool {
        self.eof || self.input_has_reply() || self.session_holds_input()
    }

    /// A complete packet (or a bad one) is at the front of the input.
    fn input_has_reply(&self) -> bool {
        matches!(
            decode_packet(self.input.as_slice(), &LIMITS),
            Ok(Decoded::Complete(..)) | Err(_)
        )
    }

    /// The TLS session may hold input a read left there.
    fn session_holds_input(&self) -> bool {
        self.stream.as_ref().is_some_and(Stream::holds_input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::poll::poll;
    use std::io::{Read, Write};

    /// Over TLS a read stops once the reply at the front is complete and may leave what
    /// follows inside the session, where no poll sees it: whenever the link says nothing is
    /// buffered and the socket has nothing either, every reply must have come out. Which
    /// layouts leave replies behind depends on the read sizes: several are tried (with 64 KiB
    /// ciphertext reads, a tail of 20 000 bytes does).
    #[test]
    fn a_tls_link_never_hides_replies_from_a_poll() {
        use crate::net::tls::test_certs::TestCerts;
        let certs = TestCerts::generate();
        for tail in [12_000, 20_000, 28_000] {
            assert_eq!(
                replies_through_tls(&certs, tail),
                6,
                "tail {tail}: replies hidden"
            );
        }
    }

    /// Sends 3 replies of 100 kB, 2 of `tail` bytes and a NOOP in one burst over TLS, and
    /// counts what the link hands out before it says nothing is buffered and the socket is
    /// empty.
    fn replies_through_tls(certs: &crate::net::tls::test_certs::TestCerts, tail: usize) -> usize {
        use crate::net::tls::{accept, ServerTlsConfig, TlsConfig};
        let server = ServerTlsConfig {
            ca_file: certs.ca.clone(),
            certificate: certs.server_cert.clone(),
            key_file: certs.server_key.clone(),
            verify_clients: false,
        }
        .build()
        .expect("server config");
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let peer = std::thread::spawn(move || {
            let (mut sock, _) = l.accept().expect("accept");
            let mut tls = TlsStream::new(accept(&server).expect("session"));
            while !tls.handshake(&mut sock).expect("handshake") {}
            let mut burst = Vec::new();
            for (i, size) in [100_003, 100_003, 100_003, tail, tail]
                .into_iter()
                .enumerate()
            {
                burst.extend_from_slice(b"\0RES");
                burst.extend_from_slice(&(Command::WorkData as u32).to_be_bytes());
                burst.extend_from_slice(&((4 + size) as u32).to_be_bytes());
                burst.extend_from_slice(b"H:1\0");
                burst.extend(std::iter::repeat_n(i as u8, size));
            }
            burst.extend_from_slice(b"\0RES\0\0\0\x06\0\0\0\0");
            let mut sent = 0;
            while sent < burst.len() {
                sent += tls
                    .write_plain(&mut sock, &[IoSlice::new(&burst[sent..])])
                    .expect("write");
            }
            while !tls.flush(&mut sock).expect("flush") {}
            sock
        });
        let mut link = Link::new(ServerAddress::resolve("127.0.0.1", port).expect("resolve"));
        link.set_tls(Some(
            TlsConfig::new().ca_file(&certs.ca).build().expect("client"),
        ));
        link.connect_blocking(Some(Duration::from_secs(5)))
            .expect("connect");
        let _sock = peer.join().expect("peer");
        // Everything is in the socket before the first read.
        std::thread::sleep(Duration::from_millis(100));
        let mut got = 0;
        loop {
            if link.next_reply().expect("reply").is_some() {
                got += 1;
                continue;
            }
            if link.has_buffered_reply() {
                continue;
            }
            let mut items = [PollItem::new(link.fd().expect("fd"), true, false)];
            if poll(&mut items, Some(Duration::ZERO)).expect("poll") == 0 {
                return got;
            }
            link.fill().expect("fill");
        }
    }

    #[test]
    fn round_trip_with_a_raw_peer() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let mut link = Link::new(ServerAddress::resolve("127.0.0.1", port).expect("resolve"));
        link.connect_blocking(Some(Duration::from_secs(5)))
            .expect("connect");
        let (mut peer, _) = l.accept().expect("accept");
        let big = vec![7u8; 1 << 20];
        link.queue(Command::EchoReq, &[&big]);
        link.flush_blocking(None).expect("flush");
        let mut got = vec![0u8; HEADER_LEN + big.len()];
        peer.read_exact(&mut got).expect("read");
        assert_eq!(&got[..4], b"\0REQ");
        got[1..4].copy_from_slice(b"RES");
        got[7] = Command::EchoRes as u8;
        peer.write_all(&got).expect("write");
        let r = link
            .recv_blocking(Some(Duration::from_secs(5)))
            .expect("reply");
        assert_eq!(r.command, Command::EchoRes);
        assert_eq!(r.arg(0).len(), big.len());
        drop(peer);
        let e = link
            .recv_blocking(Some(Duration::from_secs(5)))
            .expect_err("eof");
        assert_eq!(e.code(), ReturnCode::LostConnection);
    }

    #[test]
    fn large_packets_are_sent_from_and_read_into_shared_buffers() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let mut link = Link::new(ServerAddress::resolve("127.0.0.1", port).expect("resolve"));
        link.connect_blocking(Some(Duration::from_secs(5)))
            .expect("connect");
        let (mut peer, _) = l.accept().expect("accept");
        let data: Vec<u8> = (0..(3 << 20) + 5).map(|i| (i % 249) as u8).collect();
        // More than the socket buffers hold: the send waits for the peer while it reads.
        let expect = data.clone();
        let reader = std::thread::spawn(move || {
            let mut got = vec![0u8; HEADER_LEN + 4 + expect.len()];
            peer.read_exact(&mut got).expect("read");
            assert_eq!(&got[HEADER_LEN..HEADER_LEN + 4], b"H:1\0");
            assert!(got[HEADER_LEN + 4..] == expect[..], "sent payload damaged");
            // Answer with a large WORK_COMPLETE followed by a small NOOP.
            let mut reply = b"\0RES".to_vec();
            reply.extend_from_slice(&(Command::WorkComplete as u32).to_be_bytes());
            reply.extend_from_slice(&((4 + expect.len()) as u32).to_be_bytes());
            reply.extend_from_slice(b"H:1\0");
            reply.extend_from_slice(&expect);
            reply.extend_from_slice(b"\0RES\0\0\0\x06\0\0\0\0");
            peer.write_all(&reply).expect("write");
            peer
        });
        link.send_blocking(
            Command::WorkComplete,
            &[b"H:1", &data],
            Some(Duration::from_secs(10)),
        )
        .expect("send");
        let mut r = link
            .recv_blocking(Some(Duration::from_secs(10)))
            .expect("reply");
        assert_eq!(r.command, Command::WorkComplete);
        assert_eq!(r.arg(0), b"H:1");
        let got = r.take_data();
        assert!(got == data[..], "received payload damaged");
        let noop = link
            .recv_blocking(Some(Duration::from_secs(10)))
            .expect("noop");
        assert_eq!(noop.command, Command::Noop);
        drop(reader.join().expect("peer"));
    }

    #[test]
    fn refused_connect_is_could_not_connect() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut link = Link::new(ServerAddress::resolve("127.0.0.1", port).expect("resolve"));
        let e = link
            .connect_blocking(Some(Duration::from_secs(5)))
            .expect_err("refused");
        assert_eq!(e.code(), ReturnCode::CouldNotConnect);
    }
}
