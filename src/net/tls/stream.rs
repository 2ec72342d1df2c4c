//! A TLS session over a non-blocking socket: the handshake, plaintext in and out, and
//! close_notify, driven by the caller's readiness loop (poll(2) in the library, mio in the
//! server). The session does not own the socket; every call is handed it.
//!
//! Plaintext moves with the semantics of read(2) and writev(2), so the callers' edge-triggered
//! loops work unchanged over TLS:
//! * [`TlsStream::read_plain`] returns fewer bytes than it was offered only when the socket is
//!   drained and nothing decrypted is left in the session (a poll on the socket then misses
//!   nothing), `Ok(0)` at the end, WouldBlock when nothing arrived.
//! * [`TlsStream::write_plain`] accepts fewer bytes than it was given only when the socket is
//!   full (a writable edge follows); what it accepted may still wait encrypted in the session
//!   ([`TlsStream::wants_write`], written by [`TlsStream::flush`]).
//!
//! Ciphertext is read through a staging buffer: one read(2) of up to [`STAGE_READ`] bytes is
//! fed to rustls from memory (rustls alone reads 4 KiB per system call, which costs a megabyte
//! payload hundreds of calls). Decrypted plaintext is copied once, from rustls's record buffer
//! into the caller's buffer ([`PlainSink`]), never into a zero-filled intermediate.

use crate::net::buffer::Buffer;
use bytes::BytesMut;
use rustls::Connection;
use std::io::{self, BufRead, IoSlice, Write};

/// Ciphertext read from the socket per system call (the plaintext read size of a plain
/// connection): 16 system calls per megabyte, and the staging buffer an idle connection
/// keeps until the server's sweep stays small.
const STAGE_READ: usize = 64 * 1024;

/// Encrypted bytes a session holds ahead of the socket (rustls's default is 64 KiB). Each
/// record is an allocation of its own until written: at 512 KiB a megabyte payload made the
/// allocator grow and trim the heap for every message (page faults cost the client of a
/// do-1MB about 40% more CPU time than at 128 KiB, measured with examples/tls_bench). A peer
/// that does not read costs at most this much beyond the connection's own output queue.
const SEND_BUFFER: usize = 128 * 1024;

/// Where decrypted plaintext is appended: the library's link buffer, or the server's
/// reference-counted input buffer (whose caller reserved the room it offers).
pub trait PlainSink {
    fn put(&mut self, bytes: &[u8]);
}

impl PlainSink for Buffer {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

impl PlainSink for BytesMut {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// One TLS session (client or server side).
pub struct TlsStream {
    conn: Connection,
    /// Ciphertext read from the socket and not yet handed to rustls.
    staged: Buffer,
    /// The peer ended the session (close_notify, or the socket closed).
    closed: bool,
    /// The last read filled all it was offered: decrypted input may wait here.
    filled: bool,
}

impl std::fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("handshaking", &self.conn.is_handshaking())
            .field("closed", &self.closed)
            .finish()
    }
}

/// A TLS failure (bad certificate, alert, corrupt record) as an I/O error of kind InvalidData.
fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// True for an I/O error that carries a TLS failure rather than a socket error.
pub fn is_tls_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
        && e.get_ref()
            .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some())
}

impl TlsStream {
    /// Wraps a fresh rustls connection (nothing is sent until the first call).
    pub fn new(conn: impl Into<Connection>) -> TlsStream {
        let mut conn = conn.into();
        conn.set_buffer_limit(Some(SEND_BUFFER));
        TlsStream {
            conn,
            staged: Buffer::new(),
            closed: false,
            filled: false,
        }
    }

    /// True until the handshake has completed.
    pub fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    /// True while encrypted bytes wait to be written to the socket.
    pub fn wants_write(&self) -> bool {
        self.conn.wants_write()
    }

    /// True when the last read filled all it was offered, so decrypted input may still wait
    /// in the session (by the contract of [`TlsStream::read_plain`], never otherwise).
    pub fn may_hold_input(&self) -> bool {
        self.filled
    }

    /// True once the peer ended the session (close_notify, or the socket closed).
    pub fn peer_closed(&self) -> bool {
        self.closed
    }

    /// The negotiated protocol version ("TLSv1_3"), once known.
    pub fn protocol(&self) -> Option<rustls::ProtocolVersion> {
        self.conn.protocol_version()
    }

    /// The certificates the peer presented (leaf first), once the handshake is done.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        self.conn.peer_certificates()
    }

    /// Drives the handshake as far as the socket allows. Ok(true) once it is complete (and
    /// its last flight written); Ok(false) when the socket would block: wait for what
    /// [`TlsStream::wants_write`] says (writable) or else readable. Application data that
    /// arrived with the handshake's last flight stays in the session for the next
    /// [`TlsStream::read_plain`], which the caller must make before it polls the socket again.
    /// A peer that closes during the handshake is an UnexpectedEof error; a TLS failure is
    /// InvalidData (see [`is_tls_error`]).
    pub fn handshake<S: io::Read + Write>(&mut self, sock: &mut S) -> io::Result<bool> {
        loop {
            if !self.flush(sock)? {
                return Ok(false);
            }
            if !self.conn.is_handshaking() {
                return Ok(true);
            }
            if self.staged.is_empty() {
                match self.staged.read_from(sock, STAGE_READ) {
                    Ok(0) => {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the peer closed the connection during the TLS handshake",
                        ))
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            // Feed only while the handshake lasts: records behind it are application data,
            // left staged for `read_plain`.
            while self.conn.is_handshaking() && !self.staged.is_empty() {
                if let Err(e) = self.feed() {
                    // Tell the peer why (the alert rustls queued), then fail.
                    let _ = self.flush(sock);
                    return Err(e);
                }
            }
        }
    }

    /// Hands staged ciphertext (at most one record's worth) to rustls and decrypts it.
    fn feed(&mut self) -> io::Result<()> {
        let mut slice = self.staged.as_slice();
        // Never called with nothing staged: rustls takes an empty read for the socket's end.
        let n = self.conn.read_tls(&mut slice)?;
        self.staged.consume(n);
        if n == 0 {
            // close_notify was received: nothing after it counts.
            self.closed = true;
            self.staged.consume(usize::MAX);
        }
        self.conn.process_new_packets().map_err(tls_error)?;
        Ok(())
    }

    /// Appends up to `max` bytes of decrypted plaintext to `dst`; fewer only when the session
    /// holds no more.
    fn deliver(&mut self, dst: &mut impl PlainSink, max: usize) -> io::Result<usize> {
        let mut total = 0;
        let mut reader = self.conn.reader();
        while total < max {
            let taken = match reader.fill_buf() {
                // close_notify and every byte before it were read.
                Ok([]) => {
                    self.closed = true;
                    break;
                }
                Ok(chunk) => {
                    let k = chunk.len().min(max - total);
                    dst.put(&chunk[..k]);
                    k
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The socket closed without close_notify: an end like any other here
                // (Gearman frames its own messages, so no truncation goes unnoticed).
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    self.closed = true;
                    break;
                }
                Err(e) => return Err(e),
            };
            reader.consume(taken);
            total += taken;
        }
        Ok(total)
    }

    /// Delivers what the session already holds, decrypted or staged, without touching the
    /// socket.
    fn take_buffered(&mut self, dst: &mut impl PlainSink, max: usize) -> io::Result<usize> {
        let mut total = self.deliver(dst, max)?;
        while total < max && !self.staged.is_empty() && !self.closed {
            self.feed()?;
            total += self.deliver(dst, max - total)?;
        }
        Ok(total)
    }

    /// Reads and decrypts up to `max` plaintext bytes into `dst`, with the semantics of
    /// read(2) on a non-blocking socket: Ok(n) with `n < max` only once the socket is drained
    /// (it would block, or gave less than it was offered) and the session holds nothing
    /// decrypted; Ok(0) when the peer ended the session; WouldBlock when nothing arrived.
    /// Encrypted bytes the session owes the peer (key updates, alerts) are written too.
    pub fn read_plain<S: io::Read + Write>(
        &mut self,
        sock: &mut S,
        dst: &mut impl PlainSink,
        max: usize,
    ) -> io::Result<usize> {
        // With output already waiting, the caller's writable event sends what reads add.
        let owed_before = self.conn.wants_write();
        let result = self.read_plain_inner(sock, dst, max);
        self.filled = matches!(result, Ok(n) if n == max && n > 0);
        if !owed_before && self.conn.wants_write() {
            let _ = self.flush(sock);
        }
        result
    }

    fn read_plain_inner<S: io::Read>(
        &mut self,
        sock: &mut S,
        dst: &mut impl PlainSink,
        max: usize,
    ) -> io::Result<usize> {
        let mut total = 0;
        let mut drained = false;
        loop {
            total += self.take_buffered(dst, max - total)?;
            if total == max || self.closed {
                return Ok(total);
            }
            if drained {
                return match total {
                    0 => Err(io::ErrorKind::WouldBlock.into()),
                    n => Ok(n),
                };
            }
            match self.staged.read_from_offered(sock, STAGE_READ) {
                // The socket's end, possibly in the middle of a record: what was decrypted
                // before it was delivered above.
                Ok((0, _)) => self.closed = true,
                // A short read emptied the socket's receive queue.
                Ok((n, offered)) => drained = n < offered,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => drained = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypts `bufs` (in order, as one stream: small packets share a record) and writes
    /// what the socket takes, with the semantics of writev(2) on a non-blocking socket: the
    /// plaintext bytes accepted, fewer than given only when the socket is full, WouldBlock
    /// when none could be. Accepted bytes may still wait inside the session: see
    /// [`TlsStream::wants_write`].
    pub fn write_plain<S: Write>(
        &mut self,
        sock: &mut S,
        bufs: &[IoSlice<'_>],
    ) -> io::Result<usize> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        let n = self.conn.writer().write_vectored(bufs)?;
        let mut done = n;
        let mut rest: Vec<&[u8]> = Vec::new();
        loop {
            let flushed = self.flush(sock)?;
            if done == total {
                return Ok(done);
            }
            if !flushed {
                return match done {
                    0 => Err(io::ErrorKind::WouldBlock.into()),
                    n => Ok(n),
                };
            }
            // The session's send buffer was full and the socket took all of it: encrypt
            // the next part (a large payload goes through in SEND_BUFFER steps).
            if rest.is_empty() {
                rest.extend(bufs.iter().map(|b| &**b));
                advance(&mut rest, done);
            }
            let iov: Vec<IoSlice<'_>> = rest.iter().map(|b| IoSlice::new(b)).collect();
            let n = self.conn.writer().write_vectored(&iov)?;
            if n == 0 {
                // Nothing accepted with an empty send buffer: only before the handshake
                // completed, which callers wait for.
                return Ok(done);
            }
            done += n;
            advance(&mut rest, n);
        }
    }

    /// Writes encrypted bytes until none are left (Ok(true)) or the socket would block.
    pub fn flush<S: Write>(&mut self, sock: &mut S) -> io::Result<bool> {
        while self.conn.wants_write() {
            match self.conn.write_tls(sock) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Queues close_notify and writes what the socket takes without waiting. Nothing is
    /// said during the handshake (there is no session to close yet).
    pub fn close<S: Write>(&mut self, sock: &mut S) {
        if self.conn.is_handshaking() {
            return;
        }
        self.conn.send_close_notify();
        let _ = self.flush(sock);
    }

    /// Releases the staging buffer when nothing waits in it.
    pub fn shrink_if_idle(&mut self) {
        self.staged.shrink_if_idle(0);
    }
}

/// Drops the first `n` bytes of `slices`.
fn advance(slices: &mut Vec<&[u8]>, mut n: usize) {
    let mut whole = 0;
    while whole < slices.len() && slices[whole].len() <= n {
        n -= slices[whole].len();
        whole += 1;
    }
    slices.drain(..whole);
    if let Some(first) = slices.first_mut() {
        *first = &first[n..];
    }
}

/// [`TlsStream`] and its socket as one `Write` for plaintext (what a buffer's `write_to`
/// takes). A write that accepted bytes may leave them encrypted in the session.
pub struct PlainWriter<'a, S: Write> {
    pub tls: &'a mut TlsStream,
    pub sock: &'a mut S,
}

impl<S: Write> Write for PlainWriter<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tls.write_plain(self.sock, &[IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.tls.write_plain(self.sock, bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.tls.flush(self.sock)? {
            true => Ok(()),
            false => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}
