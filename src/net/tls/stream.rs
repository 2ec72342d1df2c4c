//! A TLS session over a non-blocking socket: the handshake, plaintext in and out, and
//! close_notify, driven by the caller's readiness loop (poll(2) in the library, mio in the
//! server). The session does not own the socket; every call is handed it.
//!
//! Reads go through a staging buffer: one `read(2)` of up to [`STAGE_READ`] bytes of ciphertext
//! is fed to rustls from memory (rustls alone reads 4 KiB per system call, which costs a
//! megabyte payload hundreds of calls). Every read drains all the plaintext rustls decrypted,
//! so nothing decrypted is ever left inside rustls where a poll on the socket could not see it.

use crate::net::buffer::{Buffer, Fill};
use rustls::Connection;
use std::io::{self, Read, Write};

/// Ciphertext read from the socket per system call.
const STAGE_READ: usize = 256 * 1024;

/// Plaintext rustls encrypts ahead of the socket (its default is 64 KiB; more means fewer
/// rounds between encrypting and writing for large payloads).
const SEND_BUFFER: usize = 512 * 1024;

/// One TLS session (client or server side).
pub struct TlsStream {
    conn: Connection,
    /// Ciphertext read from the socket and not yet handed to rustls.
    staged: Buffer,
    /// The peer ended the session (close_notify, or the socket closed).
    closed: bool,
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
    /// [`TlsStream::wants_write`] says (writable) or else readable. Plaintext that arrived with
    /// the handshake's last flight is appended to `input`. A peer that closes during the
    /// handshake is an UnexpectedEof error; a TLS failure is InvalidData (see [`is_tls_error`]).
    pub fn handshake<S: Read + Write>(
        &mut self,
        sock: &mut S,
        input: &mut Buffer,
    ) -> io::Result<bool> {
        loop {
            if !self.flush(sock)? {
                return Ok(false);
            }
            if !self.conn.is_handshaking() {
                return Ok(true);
            }
            match self.staged.read_from(sock, STAGE_READ) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    ))
                }
                Ok(_) => {
                    if let Err(e) = self.pump(input) {
                        // Tell the peer why (the alert rustls queued), then fail.
                        let _ = self.flush(sock);
                        return Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Hands staged ciphertext to rustls and appends every decrypted byte to `input`.
    fn pump(&mut self, input: &mut Buffer) -> io::Result<usize> {
        let mut total = self.drain_plaintext(input)?;
        while !self.staged.is_empty() {
            let mut slice = self.staged.as_slice();
            let n = self.conn.read_tls(&mut slice)?;
            self.staged.consume(n);
            self.conn.process_new_packets().map_err(tls_error)?;
            total += self.drain_plaintext(input)?;
            if n == 0 {
                break;
            }
        }
        Ok(total)
    }

    fn drain_plaintext(&mut self, input: &mut Buffer) -> io::Result<usize> {
        let mut total = 0;
        loop {
            match input.read_from(&mut self.conn.reader(), 0) {
                Ok(0) => {
                    self.closed = true;
                    return Ok(total);
                }
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // The socket closed without close_notify: an end like any other here
                    // (Gearman frames its own messages, so no truncation goes unnoticed).
                    self.closed = true;
                    return Ok(total);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads and decrypts until the socket would block, the peer closed, or `limit` plaintext
    /// bytes arrived (then more may be waiting, in the socket or staged here: call again).
    /// `short_read_drains`: a socket read shorter than offered counts as draining the socket.
    /// Encrypted bytes the session owes the peer (key updates, alerts) are written too.
    pub fn read_plain<S: Read + Write>(
        &mut self,
        sock: &mut S,
        input: &mut Buffer,
        limit: usize,
        short_read_drains: bool,
    ) -> io::Result<Fill> {
        let mut total = 0;
        loop {
            let pumped = self.pump(input);
            if self.conn.wants_write() {
                let _ = self.flush(sock);
            }
            total += pumped?;
            if self.closed {
                return Ok(Fill::Closed(total));
            }
            if total >= limit {
                return Ok(Fill::More(total));
            }
            match self.staged.read_from_offered(sock, STAGE_READ) {
                Ok((0, _)) => {
                    self.closed = true;
                    return Ok(Fill::Closed(total));
                }
                Ok((n, offered)) => {
                    if short_read_drains && n < offered {
                        let pumped = self.pump(input)?;
                        total += pumped;
                        if self.conn.wants_write() {
                            let _ = self.flush(sock);
                        }
                        return Ok(if self.closed {
                            Fill::Closed(total)
                        } else {
                            Fill::Drained(total)
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::Drained(total)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Encrypts what fits of `bufs` (in order) and writes what the socket takes. Returns the
    /// plaintext bytes accepted; WouldBlock when none could be, because the socket is full.
    /// Accepted bytes may still wait inside the session: see [`TlsStream::wants_write`].
    pub fn write_plain<S: Write>(
        &mut self,
        sock: &mut S,
        bufs: &[io::IoSlice<'_>],
    ) -> io::Result<usize> {
        loop {
            let n = self.conn.writer().write_vectored(bufs)?;
            if n > 0 || bufs.iter().all(|b| b.is_empty()) {
                let _ = self.flush(sock)?;
                return Ok(n);
            }
            // The session's send buffer is full: make room or report the full socket.
            if !self.flush(sock)? {
                return Err(io::ErrorKind::WouldBlock.into());
            }
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

    /// Queues close_notify and writes what the socket takes without waiting.
    pub fn close<S: Write>(&mut self, sock: &mut S) {
        self.conn.send_close_notify();
        let _ = self.flush(sock);
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
        self.tls.write_plain(self.sock, &[io::IoSlice::new(buf)])
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.tls.write_plain(self.sock, bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.tls.flush(self.sock)? {
            true => Ok(()),
            false => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}
