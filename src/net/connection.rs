//! A non-blocking server connection over mio: its stream, the input buffer frames are split
//! from, and the output queue written with vectored writes.
//!
//! mio is edge-triggered: a read that fills less than it was offered or a write that takes
//! less than it was given means the socket is drained or full (the kernel raises a new edge
//! when that changes), anything else goes on until `WouldBlock`; write interest is registered
//! only while output is pending.

use super::input::{InputBuffer, READ_CHUNK};
use super::output::OutQueue;
use super::transport::Transport;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io;

/// What [`Connection::fill_bounded`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// The socket is drained (would block); this many bytes arrived.
    Drained(usize),
    /// The read limit was reached, or the frame at the front is complete; more may be waiting.
    More(usize),
    /// The peer closed its side after this many bytes.
    Closed(usize),
}

/// A non-blocking connection with its input buffer and output queue.
#[derive(Debug)]
pub struct Connection<T: Transport = TcpStream> {
    pub stream: T,
    pub token: Token,
    pub input: InputBuffer,
    pub output: OutQueue,
    writable_registered: bool,
}

impl<T: Transport> Connection<T> {
    /// Wraps a stream and registers it for reading.
    pub fn register(mut stream: T, token: Token, registry: &Registry) -> io::Result<Self> {
        registry.register(&mut stream, token, Interest::READABLE)?;
        Ok(Connection {
            stream,
            token,
            input: InputBuffer::new(),
            output: OutQueue::new(),
            writable_registered: false,
        })
    }

    /// Reads until the socket is drained, the frame at the front of the input completes, or
    /// `limit` bytes arrived (never in the middle of a frame: a frame larger than the limit is
    /// read in one go). `missing` tells how many bytes the frame at the front of the input
    /// still lacks (0 when it is complete or its size is not known yet); it sizes each read,
    /// so a large frame is read into one allocation of its size, and a completed frame is
    /// handled (split off its buffer) before more is read behind it.
    /// With `short_read_drains`, a read that returns less than it was offered counts as
    /// draining the socket (pass false when the peer may have closed: its FIN raised no new
    /// edge).
    pub fn fill_bounded(
        &mut self,
        limit: usize,
        short_read_drains: bool,
        missing: impl Fn(&[u8]) -> usize,
    ) -> io::Result<Fill> {
        let mut total = 0;
        loop {
            let before = missing(self.input.as_slice());
            match self.input.read_from(&mut self.stream, before) {
                Ok((0, _)) => return Ok(Fill::Closed(total)),
                Ok((n, offered)) => {
                    total += n;
                    // A short read emptied the socket's receive queue: new data raises a new
                    // edge, so the extra read that would only see WouldBlock is skipped.
                    if short_read_drains && n < offered {
                        return Ok(Fill::Drained(total));
                    }
                    let after = missing(self.input.as_slice());
                    if after == 0 && (before > 0 || total >= limit) {
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

    /// Writes queued output until done or the socket is full. True when all is sent.
    pub fn flush(&mut self) -> io::Result<bool> {
        while !self.output.is_empty() {
            match self.output.write_to(&mut self.stream) {
                Ok((0, _)) => return Err(io::ErrorKind::WriteZero.into()),
                // A short write filled the send buffer: the kernel signals writability when
                // room frees up, so the write that would only see WouldBlock is skipped.
                Ok((n, offered)) if n < offered => return Ok(false),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
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
