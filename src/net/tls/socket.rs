//! A TLS session with its TCP socket: the stream of a server connection on a `--ssl` server
//! and of a library link with TLS (see [`crate::net::transport::Stream`]). Plaintext goes in and out with the socket semantics the
//! connection's edge-triggered loop relies on (see [`TlsStream`]).

use super::stream::TlsStream;
use crate::net::transport::Transport;
use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, RawFd};

/// A TCP socket carrying a TLS session.
#[derive(Debug)]
pub struct TlsSocket {
    sock: TcpStream,
    session: TlsStream,
}

impl TlsSocket {
    pub fn new(sock: TcpStream, session: TlsStream) -> TlsSocket {
        TlsSocket { sock, session }
    }

    pub fn tcp(&mut self) -> &mut TcpStream {
        &mut self.sock
    }

    pub fn session(&self) -> &TlsStream {
        &self.session
    }

    /// One step of the handshake (see [`TlsStream::handshake`]).
    pub fn handshake(&mut self) -> io::Result<bool> {
        self.session.handshake(&mut self.sock)
    }

    /// Says close_notify without waiting.
    pub fn close(&mut self) {
        self.session.close(&mut self.sock);
    }
}

impl Transport for TlsSocket {
    fn read_into(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        // The caller reserved `max` bytes of spare capacity: the plaintext is copied from
        // rustls's records straight into it.
        let max = max.min(buf.capacity() - buf.len());
        self.session.read_plain(&mut self.sock, buf, max)
    }

    fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.session.write_plain(&mut self.sock, bufs)
    }

    fn flush_held(&mut self) -> io::Result<bool> {
        self.session.flush(&mut self.sock)
    }

    fn holds_output(&self) -> bool {
        self.session.wants_write()
    }

    fn holds_input(&self) -> bool {
        self.session.may_hold_input()
    }

    fn shrink_if_idle(&mut self) {
        self.session.shrink_if_idle();
    }
}

impl AsRawFd for TlsSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl mio::event::Source for TlsSocket {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.sock.register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.sock.reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.sock.deregister(registry)
    }
}
