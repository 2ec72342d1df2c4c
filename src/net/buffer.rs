//! Byte buffers and a buffered non-blocking TCP connection over mio.
//!
//! mio is edge-triggered: every read drains the socket until `WouldBlock`, every write goes on
//! until the buffer is empty or `WouldBlock`, and write interest is registered only while output
//! is pending.

use super::tls::{PlainWriter, TlsStream};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};

/// Smallest free space offered to one `read` call.
const READ_CHUNK: usize = 64 * 1024;

/// A growable byte queue: bytes are appended at the back and consumed from the front.
/// The backing vector stays initialised, so reads go straight into it without unsafe code.
#[derive(Debug, Default)]
pub struct Buffer {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    pub fn new() -> Buffer {
        Buffer::default()
    }

    /// The bytes not consumed yet.
    pub fn as_slice(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        self.start += n.min(self.len());
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Appends bytes at the back.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.make_room(bytes.len());
        self.data[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Ensures at least `n` free bytes after the end, moving live bytes to the front first.
    pub fn make_room(&mut self, n: usize) {
        if self.data.len() - self.end >= n {
            return;
        }
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.data.len() - self.end < n {
            let want = (self.end + n).max(self.data.len() * 2);
            self.data.resize(want, 0);
        }
    }

    /// Releases memory held by a large, now empty buffer.
    pub fn shrink_if_idle(&mut self, keep: usize) {
        if self.is_empty() && self.data.len() > keep {
            self.data = Vec::new();
        }
    }

    /// Capacity currently held, for memory accounting.
    pub fn capacity(&self) -> usize {
        self.data.len()
    }

    /// One `read` into the free space; `hint` is how many more bytes the caller knows it needs.
    pub fn read_from<R: Read>(&mut self, r: &mut R, hint: usize) -> io::Result<usize> {
        self.make_room(hint.max(READ_CHUNK));
        let n = r.read(&mut self.data[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Like [`Buffer::read_from`], also returning how many bytes the read could have taken.
    pub fn read_from_offered<R: Read>(
        &mut self,
        r: &mut R,
        hint: usize,
    ) -> io::Result<(usize, usize)> {
        self.make_room(hint.max(READ_CHUNK));
        let offered = self.data.len() - self.end;
        let n = r.read(&mut self.data[self.end..])?;
        self.end += n;
        Ok((n, offered))
    }

    /// One `write` from the front.
    pub fn write_to<W: Write>(&mut self, w: &mut W) -> io::Result<usize> {
        let n = w.write(self.as_slice())?;
        self.consume(n);
        Ok(n)
    }
}

/// What a drain of the socket found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The socket is drained; this many bytes arrived (maybe 0).
    Open(usize),
    /// The peer closed its side; this many bytes arrived before that.
    Closed(usize),
}

/// What [`Connection::fill_bounded`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The socket is drained (would block); this many bytes arrived.
    Drained(usize),
    /// The read limit was reached; more may be waiting.
    More(usize),
    /// The peer closed its side after this many bytes.
    Closed(usize),
}

/// A non-blocking TCP connection with its input and output buffers, and a TLS session when
/// the listener serves TLS (its plaintext goes through the session).
#[derive(Debug)]
pub struct Connection {
    pub stream: TcpStream,
    pub token: Token,
    pub input: Buffer,
    pub output: Buffer,
    pub tls: Option<TlsStream>,
    writable_registered: bool,
}

impl Connection {
    /// Wraps a stream and registers it for reading.
    pub fn register(
        mut stream: TcpStream,
        token: Token,
        registry: &Registry,
    ) -> io::Result<Connection> {
        registry.register(&mut stream, token, Interest::READABLE)?;
        Ok(Connection {
            stream,
            token,
            input: Buffer::new(),
            output: Buffer::new(),
            tls: None,
            writable_registered: false,
        })
    }

    /// True while output waits: in the buffer, or encrypted in the TLS session.
    pub fn has_pending_output(&self) -> bool {
        !self.output.is_empty() || self.tls.as_ref().is_some_and(TlsStream::wants_write)
    }

    /// Asks for write readiness (or stops asking) without writing anything.
    pub fn want_writable(&mut self, registry: &Registry, on: bool) -> io::Result<()> {
        if on != self.writable_registered {
            let interest = if on {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            registry.reregister(&mut self.stream, self.token, interest)?;
            self.writable_registered = on;
        }
        Ok(())
    }

    /// Reads until the socket would block or closes. `hint` sizes the first read.
    pub fn fill(&mut self, hint: usize) -> io::Result<ReadOutcome> {
        let mut total = 0;
        loop {
            match self.input.read_from(&mut self.stream, hint) {
                Ok(0) => return Ok(ReadOutcome::Closed(total)),
                Ok(n) => total += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Ok(ReadOutcome::Open(total))
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Like [`Connection::fill`], but stops once `limit` bytes arrived so that one busy peer
    /// cannot grow the input buffer without bound; the caller processes and calls again.
    /// With `short_read_drains`, a read that returns less than it was offered counts as
    /// draining the socket (pass false when the peer may have closed: its FIN raised no new edge).
    pub fn fill_bounded(
        &mut self,
        hint: usize,
        limit: usize,
        short_read_drains: bool,
    ) -> io::Result<Fill> {
        if let Some(tls) = self.tls.as_mut() {
            return tls.read_plain(&mut self.stream, &mut self.input, limit, short_read_drains);
        }
        let mut total = 0;
        loop {
            match self.input.read_from_offered(&mut self.stream, hint) {
                Ok((0, _)) => return Ok(Fill::Closed(total)),
                Ok((n, offered)) => {
                    total += n;
                    // A short read emptied the socket's receive queue: new data raises a new
                    // edge, so the extra read that would only see WouldBlock is skipped.
                    if short_read_drains && n < offered {
                        return Ok(Fill::Drained(total));
                    }
                    if total >= limit {
                        return Ok(Fill::More(total));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Fill::Drained(total)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Queues bytes for sending; call [`Connection::flush`] afterwards.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Writes queued output until done or the socket would block. True when all is sent.
    pub fn flush(&mut self) -> io::Result<bool> {
        while !self.output.is_empty() {
            let written = match self.tls.as_mut() {
                Some(tls) => self.output.write_to(&mut PlainWriter {
                    tls,
                    sock: &mut self.stream,
                }),
                None => self.output.write_to(&mut self.stream),
            };
            match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        if let Some(tls) = self.tls.as_mut() {
            if !tls.flush(&mut self.stream)? {
                return Ok(false);
            }
        }
        self.output.shrink_if_idle(4 * READ_CHUNK);
        Ok(true)
    }

    /// Flushes, then asks for write readiness only while output is still pending.
    pub fn flush_and_rearm(&mut self, registry: &Registry) -> io::Result<()> {
        let done = self.flush()?;
        if done == self.writable_registered {
            let interest = if done {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            registry.reregister(&mut self.stream, self.token, interest)?;
            self.writable_registered = !done;
        }
        Ok(())
    }

    pub fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        registry.deregister(&mut self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_queue_semantics() {
        let mut b = Buffer::new();
        b.extend_from_slice(b"hello ");
        b.extend_from_slice(b"world");
        assert_eq!(b.as_slice(), b"hello world");
        b.consume(6);
        assert_eq!(b.as_slice(), b"world");
        b.make_room(1 << 20);
        assert_eq!(b.as_slice(), b"world");
        b.consume(100);
        assert!(b.is_empty());
    }

    #[test]
    fn read_from_reader() {
        let mut b = Buffer::new();
        let mut src: &[u8] = b"abcdef";
        assert_eq!(b.read_from(&mut src, 0).unwrap(), 6);
        assert_eq!(b.as_slice(), b"abcdef");
    }
}
