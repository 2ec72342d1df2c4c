//! The byte queue of the library's links (one per server connection of a client or worker).

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
