//! The byte stream under a server connection. Plain TCP implements it; a TLS session can take
//! its place (reads land in the same reference-counted input buffer, vectored writes may
//! degrade to one record per call) without the connection or the server core changing.

use bytes::BytesMut;
use mio::net::TcpStream;
use socket2::SockRef;
use std::io::{self, IoSlice, Write};

/// What a server connection needs from its stream.
pub trait Transport: mio::event::Source {
    /// One read of at most `max` bytes into the spare capacity of `buf` (sized by the caller);
    /// the bytes that arrived are appended to `buf`. `Ok(0)` means the peer closed its side.
    fn read_into(&mut self, buf: &mut BytesMut, max: usize) -> io::Result<usize>;

    /// One write of the slices in order, as much as the stream takes now.
    fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
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
