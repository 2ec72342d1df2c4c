//! A connection's input buffer that hands out reference-counted slices: a frame split off the
//! front keeps the memory it was read into, so a payload travels from the read into a job and
//! out to other connections without being copied.

use super::transport::Transport;
use bytes::{Buf, Bytes, BytesMut};
use std::io;

/// Free space offered to one read when the frame at the front is small or not started.
pub const READ_CHUNK: usize = 64 * 1024;
/// Room beyond a large frame's missing bytes: what the peer sends right after the frame
/// (a worker's next GRAB_JOB, a client's next submission) lands in the same read, and a read
/// that fills less than it was offered shows the socket is drained.
const SLACK: usize = 4 * 1024;

/// Bytes read from a connection and not handled yet.
#[derive(Debug, Default)]
pub struct InputBuffer {
    buf: BytesMut,
}

impl InputBuffer {
    pub fn new() -> InputBuffer {
        InputBuffer::default()
    }

    /// The bytes not consumed yet.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Drops `n` bytes from the front (a frame handled in place).
    pub fn consume(&mut self, n: usize) {
        self.buf.advance(n.min(self.buf.len()));
    }

    /// Splits the first `n` bytes off as a shared slice (a frame whose payload is kept or
    /// forwarded); the rest of the allocation stays available for further reads.
    pub fn split_frame(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n.min(self.buf.len())).freeze()
    }

    /// Ensures room for one read: `missing` more bytes of the frame at the front (0 when
    /// unknown) plus some slack, or a [`READ_CHUNK`] for small frames. The allocation in use
    /// is reused when no slice of it is alive any more; otherwise a new one of exactly the
    /// needed size is made (never doubled: a 16 MiB frame costs 16 MiB) and only the bytes
    /// of the unfinished frame are copied over.
    pub fn make_room(&mut self, missing: usize) -> usize {
        let spare = self.buf.capacity() - self.buf.len();
        if spare >= missing.max(READ_CHUNK) {
            return spare;
        }
        let want = if missing > 0 {
            (missing + SLACK).max(READ_CHUNK)
        } else {
            READ_CHUNK
        };
        if !self.buf.try_reclaim(want) {
            let mut fresh = BytesMut::with_capacity(self.buf.len() + want);
            fresh.extend_from_slice(&self.buf);
            self.buf = fresh;
        }
        self.buf.capacity() - self.buf.len()
    }

    /// One read into the free space (see [`InputBuffer::make_room`]). Returns the bytes read
    /// and how many the read was offered. Without a frame in progress the read is offered at
    /// most a [`READ_CHUNK`]: if a large frame begins there, only that much is copied into the
    /// allocation made for it.
    pub fn read_from<T: Transport>(
        &mut self,
        stream: &mut T,
        missing: usize,
    ) -> io::Result<(usize, usize)> {
        let spare = self.make_room(missing);
        let offered = if missing > 0 {
            spare
        } else {
            spare.min(READ_CHUNK)
        };
        let n = stream.read_into(&mut self.buf, offered)?;
        Ok((n, offered))
    }

    /// Releases the memory of an empty buffer.
    pub fn shrink_if_idle(&mut self, keep: usize) {
        if self.buf.is_empty() && self.buf.capacity() > keep {
            self.buf = BytesMut::new();
        }
    }

    /// Capacity currently reachable from this buffer, for memory accounting.
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_off_share_the_read_buffer() {
        let mut b = InputBuffer::new();
        b.make_room(0);
        b.buf.extend_from_slice(b"headerpayload-rest");
        let frame = b.split_frame(13);
        assert_eq!(&frame[..], b"headerpayload");
        assert_eq!(b.as_slice(), b"-rest");
        b.consume(1);
        assert_eq!(b.as_slice(), b"rest");
        b.consume(100);
        assert!(b.is_empty());
    }

    #[test]
    fn a_large_frame_gets_an_exact_allocation() {
        let mut b = InputBuffer::new();
        b.make_room(0);
        b.buf.extend_from_slice(&[1; 100]);
        let offered = b.make_room(16 << 20);
        assert!(offered >= 16 << 20, "{offered}");
        assert!(
            b.capacity() < (16 << 20) + 2 * SLACK + 100,
            "{}",
            b.capacity()
        );
        assert_eq!(b.as_slice(), &[1; 100][..]);
    }

    #[test]
    fn an_allocation_is_reused_once_its_slices_are_gone() {
        let mut b = InputBuffer::new();
        b.make_room(1 << 20);
        b.buf.extend_from_slice(&vec![7; 1 << 20]);
        let frame = b.split_frame(1 << 20);
        let at = frame.as_ptr();
        drop(frame);
        b.make_room(1 << 20);
        assert_eq!(b.buf.spare_capacity_mut().as_ptr() as *const u8, at);
    }

    #[test]
    fn a_live_slice_keeps_its_bytes_when_the_buffer_moves_on() {
        let mut b = InputBuffer::new();
        b.make_room(1000);
        b.buf.extend_from_slice(&[5; 1000]);
        b.buf.extend_from_slice(b"next");
        let frame = b.split_frame(1000);
        b.make_room(1 << 20);
        assert_eq!(b.as_slice(), b"next");
        assert!(frame.iter().all(|&x| x == 5));
    }
}
