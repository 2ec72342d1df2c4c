//! A connection's output queue: small packets are copied into one contiguous buffer, large
//! payloads are queued as reference-counted slices of the buffer they were read into, and
//! everything is written with vectored writes (packet headers and payloads in one writev).

use super::transport::Transport;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::io::{self, IoSlice};

/// Payloads at least this large are queued by reference; smaller ones are cheaper to copy
/// than to give an entry of their own in the write vector.
pub const SHARE_MIN: usize = 4 * 1024;
/// Slices handed to one vectored write.
const MAX_IOV: usize = 64;

/// Bytes waiting to be written, in order: `segs` first, then `tail`.
#[derive(Debug, Default)]
pub struct OutQueue {
    segs: VecDeque<Bytes>,
    /// Where small packets, headers and admin text are appended.
    tail: BytesMut,
    len: usize,
}

impl OutQueue {
    pub fn new() -> OutQueue {
        OutQueue::default()
    }

    /// Bytes pending.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a copy of `bytes`.
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends a shared payload: by reference when large, copied when small.
    pub fn push_shared(&mut self, bytes: Bytes) {
        if bytes.len() < SHARE_MIN {
            self.extend_from_slice(&bytes);
            return;
        }
        if !self.tail.is_empty() {
            self.segs.push_back(self.tail.split().freeze());
        }
        self.len += bytes.len();
        self.segs.push_back(bytes);
    }

    /// Moves everything pending in `other` to the end of this queue (shared segments by
    /// reference, copied bytes copied once more).
    pub fn append(&mut self, other: &mut OutQueue) {
        if !other.segs.is_empty() {
            if !self.tail.is_empty() {
                self.segs.push_back(self.tail.split().freeze());
            }
            self.segs.append(&mut other.segs);
        }
        self.tail.extend_from_slice(&other.tail);
        other.tail.clear();
        self.len += other.len;
        other.len = 0;
    }

    /// One vectored write from the front; what was written is dropped from the queue.
    /// Returns the bytes written and the bytes the write was offered.
    pub fn write_to<T: Transport>(&mut self, stream: &mut T) -> io::Result<(usize, usize)> {
        let mut iov = [IoSlice::new(&[]); MAX_IOV];
        let mut count = 0;
        for seg in self.segs.iter().take(MAX_IOV) {
            iov[count] = IoSlice::new(seg);
            count += 1;
        }
        if count < MAX_IOV && !self.tail.is_empty() {
            iov[count] = IoSlice::new(&self.tail);
            count += 1;
        }
        let offered = iov[..count].iter().map(|s| s.len()).sum();
        let n = stream.write_slices(&iov[..count])?;
        self.consume(n);
        Ok((n, offered))
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            match self.segs.front_mut() {
                Some(seg) if seg.len() <= n => {
                    n -= seg.len();
                    self.segs.pop_front();
                }
                Some(seg) => {
                    seg.advance(n);
                    return;
                }
                None => {
                    self.tail.advance(n);
                    return;
                }
            }
        }
    }

    /// A copy of everything pending (tests and the socket-free driver).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len);
        for seg in &self.segs {
            v.extend_from_slice(seg);
        }
        v.extend_from_slice(&self.tail);
        v
    }

    /// Takes everything pending as one vector, leaving the queue empty.
    pub fn take_vec(&mut self) -> Vec<u8> {
        let v = self.to_vec();
        self.consume(v.len());
        v
    }

    /// Releases the copy buffer of an empty queue when it grew past `keep` bytes.
    pub fn shrink_if_idle(&mut self, keep: usize) {
        if self.is_empty() && self.tail.capacity() > keep {
            self.tail = BytesMut::new();
        }
        if self.segs.is_empty() && self.segs.capacity() > MAX_IOV {
            self.segs = VecDeque::new();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn append_keeps_the_order_of_copied_and_shared_parts() {
        let mut a = OutQueue::new();
        a.extend_from_slice(b"1");
        let mut b = OutQueue::new();
        b.extend_from_slice(b"2");
        b.push_shared(Bytes::from(vec![b'3'; SHARE_MIN]));
        b.extend_from_slice(b"4");
        a.append(&mut b);
        a.extend_from_slice(b"5");
        let mut want = b"12".to_vec();
        want.extend_from_slice(&vec![b'3'; SHARE_MIN]);
        want.extend_from_slice(b"45");
        assert_eq!(a.to_vec(), want);
        assert_eq!(a.len(), want.len());
        assert!(b.is_empty());
    }

    /// Takes at most `cap` bytes per write, to exercise partial writes.
    struct Sink {
        got: Vec<u8>,
        cap: usize,
        calls: usize,
    }

    impl mio::event::Source for Sink {
        fn register(
            &mut self,
            _: &mio::Registry,
            _: mio::Token,
            _: mio::Interest,
        ) -> io::Result<()> {
            Ok(())
        }
        fn reregister(
            &mut self,
            _: &mio::Registry,
            _: mio::Token,
            _: mio::Interest,
        ) -> io::Result<()> {
            Ok(())
        }
        fn deregister(&mut self, _: &mio::Registry) -> io::Result<()> {
            Ok(())
        }
    }

    impl Transport for Sink {
        fn read_into(&mut self, _: &mut BytesMut, _: usize) -> io::Result<usize> {
            Ok(0)
        }
        fn write_slices(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.calls += 1;
            let mut limited = Vec::new();
            for b in bufs {
                limited.extend_from_slice(b);
            }
            limited.truncate(self.cap);
            self.got.write_all(&limited)?;
            Ok(limited.len())
        }
    }

    #[test]
    fn small_and_shared_parts_leave_in_order() {
        let big = Bytes::from(vec![9u8; 3 * SHARE_MIN]);
        let mut q = OutQueue::new();
        q.extend_from_slice(b"head1");
        q.push_shared(big.clone());
        q.extend_from_slice(b"head2");
        q.push_shared(Bytes::from_static(b"small"));
        q.push_shared(big.clone());
        let expect = [&b"head1"[..], &big, b"head2", b"small", &big].concat();
        assert_eq!(q.len(), expect.len());
        assert_eq!(q.to_vec(), expect);
        // Large payloads are not copied into the queue: its slices share `big`.
        assert!(!big.is_unique());
        let mut sink = Sink {
            got: Vec::new(),
            cap: 1000,
            calls: 0,
        };
        while !q.is_empty() {
            q.write_to(&mut sink).unwrap();
        }
        assert_eq!(sink.got, expect);
    }

    #[test]
    fn one_write_takes_headers_and_payload_together() {
        let big = Bytes::from(vec![1u8; 1 << 20]);
        let mut q = OutQueue::new();
        q.extend_from_slice(b"header");
        q.push_shared(big);
        let mut sink = Sink {
            got: Vec::new(),
            cap: usize::MAX,
            calls: 0,
        };
        q.write_to(&mut sink).unwrap();
        assert_eq!(sink.calls, 1);
        assert!(q.is_empty());
        assert_eq!(sink.got.len(), 6 + (1 << 20));
    }

    #[test]
    fn take_vec_empties_the_queue() {
        let mut q = OutQueue::new();
        q.extend_from_slice(b"abc");
        q.push_shared(Bytes::from(vec![2u8; SHARE_MIN]));
        assert_eq!(q.take_vec().len(), 3 + SHARE_MIN);
        assert!(q.is_empty());
        assert!(q.to_vec().is_empty());
    }
}
