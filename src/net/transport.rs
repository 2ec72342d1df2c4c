//! The byte stream under a server connection and a library link. Plain TCP implements it, and
//! so does a TLS session over TCP ([`TlsSocket`]): reads land in the same reference-counted
//! input buffer, the same header and payload slices are written (to writev(2), or encrypted by
//! rustls into its records), and neither the connection, the link nor the server core knows
//! which it has.

use super::tls::TlsSocket;
use bytes::BytesMut;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use socket2::SockRef;
use std::io::{self, IoSlice, Write};
use std::os::fd::{AsRawFd, RawFd};

/// What a server connection needs from its stream.
pub trait Transport: mio::event::Source {
    /// One read of at most `max` bytes into the spare capacity of `buf` (sized by the caller);
    /// the bytes that arrived are appended to `buf`. `Ok(0)` means the peer closed its side.
    /// Fewer than `max` bytes means the stream is drained: more input raises a new readiness
    /// edge.
    fn read_into(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize>;

    /// One write of the slices in order, as much as the stream takes now; fewer bytes than
    /// given means the socket is full (a writable edge follows).
    fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;

    /// Writes what the stream holds of its own (a TLS session's encrypted records). True
    /// when nothing is left.
    fn flush_held(&mut self) -> io::Result<bool> {
        Ok(true)
    }

    /// True while bytes that `write_slices` accepted still wait inside the stream.
    fn holds_output(&self) -> bool {
        false
    }

    /// True when input already read from the socket may wait inside the stream (a TLS read
    /// that filled all it was offered may have left decrypted records): a poll on the socket
    /// would not see it, read first.
    fn holds_input(&self) -> bool {
        false
    }

    /// Gives back buffers an idle stream keeps.
    fn shrink_if_idle(&mut self) {}
}

impl Transport for TcpStream {
    fn read_into(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        // recv(2) straight into the uninitialised spare capacity: no zero-filling of megabyte
        // buffers before the kernel overwrites them.
        let spare = buf.spare_capacity_mut();
        let max = max.min(spare.len());
        let n = SockRef::from(&*self).recv(&mut spare[..max])?;
        // SAFETY: recv initialised the first `n` bytes of the spare capacity, which directly
        // follows the buffer's current length, and `n` is at most `max`, within that capacity.
        unsafe { buf.set_len(buf.len() + n) };
        Ok(n)
    }

    fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        // writev(2): packet headers and payload slices leave in one system call.
        self.write_vectored(bufs)
    }
}

/// A server connection's stream: plain TCP, or TLS over TCP on a `--ssl` server.
#[derive(Debug)]
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsSocket>),
}

impl Stream {
    /// The TLS session, if any.
    pub fn tls(&mut self) -> Option<&mut TlsSocket> {
        match self {
            Stream::Tcp(_) => None,
            Stream::Tls(t) => Some(t),
        }
    }

    fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(t) => t.tcp(),
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Tls(t) => t.as_raw_fd(),
        }
    }
}

impl Transport for Stream {
    fn read_into(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read_into(buf, max),
            Stream::Tls(t) => t.read_into(buf, max),
        }
    }

    fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_slices(bufs),
            Stream::Tls(t) => t.write_slices(bufs),
        }
    }

    fn flush_held(&mut self) -> io::Result<bool> {
        match self {
            Stream::Tcp(_) => Ok(true),
            Stream::Tls(t) => t.flush_held(),
        }
    }

    fn holds_output(&self) -> bool {
        match self {
            Stream::Tcp(_) => false,
            Stream::Tls(t) => t.holds_output(),
        }
    }

    fn holds_input(&self) -> bool {
        match self {
            Stream::Tcp(_) => false,
            Stream::Tls(t) => t.holds_input(),
        }
    }

    fn shrink_if_idle(&mut self) {
        if let Stream::Tls(t) = self {
            t.shrink_if_idle();
        }
    }
}

impl mio::event::Source for Stream {
    fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.tcp().register(registry, token, interest)
    }

    fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        self.tcp().reregister(registry, token, interest)
    }

    fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        self.tcp().deregister(registry)
    }
}
