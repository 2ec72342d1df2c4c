//! Writing response packets and numbers straight into a connection's output queue, and
//! taking payloads out of the frames they arrived in.

use crate::net::OutQueue;
use crate::protocol::packet::HEADER_LEN;
use crate::protocol::{Command, Magic};
use bytes::Bytes;

fn header(command: Command, payload: usize) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(&Magic::Response.bytes());
    header[4..8].copy_from_slice(&(command as u32).to_be_bytes());
    header[8..].copy_from_slice(&(payload as u32).to_be_bytes());
    header
}

/// Appends one `\0RES` packet whose arguments are joined with NUL (see `protocol::encode_into`).
pub fn put(out: &mut OutQueue, command: Command, args: &[&[u8]]) {
    debug_assert_eq!(args.len(), command.arg_count(), "{}", command.name());
    let payload: usize = args.iter().map(|a| a.len()).sum::<usize>() + args.len().saturating_sub(1);
    out.extend_from_slice(&header(command, payload));
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&[0]);
        }
        out.extend_from_slice(a);
    }
}

/// Appends one `\0RES` packet of a type that carries a data blob: the `fields` (each ended by
/// NUL) are copied, the `data` is queued by reference when it is large.
pub fn put_shared(out: &mut OutQueue, command: Command, fields: &[&[u8]], data: Bytes) {
    debug_assert!(command.has_data(), "{}", command.name());
    debug_assert_eq!(fields.len() + 1, command.arg_count(), "{}", command.name());
    let payload = fields.iter().map(|f| f.len() + 1).sum::<usize>() + data.len();
    out.extend_from_slice(&header(command, payload));
    for f in fields {
        out.extend_from_slice(f);
        out.extend_from_slice(&[0]);
    }
    out.push_shared(data);
}

/// Where the bytes of the frame being handled live. A frame with a large payload is split off
/// the input buffer as a reference-counted slice, and its payload is kept (job data) or
/// forwarded (results) as a slice of it; a small frame is handled in place and what is kept
/// of it is copied, so a few bytes never hold on to a whole read buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Backing<'a>(Option<&'a Bytes>);

impl<'a> Backing<'a> {
    /// The frame is borrowed from the input buffer for the duration of the call.
    pub const BORROWED: Backing<'static> = Backing(None);

    /// The frame is this shared slice.
    pub fn shared(frame: &'a Bytes) -> Backing<'a> {
        Backing(Some(frame))
    }

    /// `part` (an argument of the frame) as an owned slice: shared with the frame when it has
    /// a backing slice, copied otherwise.
    pub fn share(&self, part: &[u8]) -> Bytes {
        match self.0 {
            Some(frame) if contains(frame, part) => frame.slice_ref(part),
            _ => Bytes::copy_from_slice(part),
        }
    }
}

/// Whether `part` lies within `whole`'s memory (then `Bytes::slice_ref` cannot panic).
fn contains(whole: &[u8], part: &[u8]) -> bool {
    let (w, p) = (whole.as_ptr() as usize, part.as_ptr() as usize);
    !part.is_empty() && p >= w && p + part.len() <= w + whole.len()
}

/// Decimal digits of `n` in a stack buffer, without allocating.
pub struct Num {
    buf: [u8; 20],
    start: usize,
}

impl Num {
    pub fn new(mut n: u64) -> Num {
        let mut buf = [0u8; 20];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        Num { buf, start: i }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }
}

/// The bytes before the first NUL: gearmand compares handles only up to there.
pub fn until_nul(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// C `strtoll(s, NULL, 10)`: leading blanks, sign, digits; garbage is 0; `None` on overflow
/// (gearmand then closes the connection).
pub fn strtoll(s: &[u8]) -> Option<i64> {
    let (negative, digits) = crate::protocol::decimal::c_decimal(s);
    let mut n: i64 = 0;
    for d in digits {
        n = n.checked_mul(10)?;
        n = if negative {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(Num::new(0).bytes(), b"0");
        assert_eq!(Num::new(1234567).bytes(), b"1234567");
        assert_eq!(Num::new(u64::MAX).bytes(), b"18446744073709551615");
    }

    #[test]
    fn strtoll_like_c() {
        assert_eq!(strtoll(b"abc"), Some(0));
        assert_eq!(strtoll(b" 42x"), Some(42));
        assert_eq!(strtoll(b"-7"), Some(-7));
        assert_eq!(strtoll(b"99999999999999999999"), None);
    }

    #[test]
    fn packet_layout() {
        let mut b = OutQueue::new();
        put(&mut b, Command::JobCreated, &[b"H:x:1"]);
        assert_eq!(b.to_vec(), b"\0RES\0\0\0\x08\0\0\0\x05H:x:1");
        let mut b = OutQueue::new();
        put(&mut b, Command::WorkComplete, &[b"H:1", b"ok"]);
        assert_eq!(b.to_vec(), b"\0RES\0\0\0\x0d\0\0\0\x06H:1\0ok");
    }

    #[test]
    fn shared_packets_encode_like_copied_ones() {
        let big = Bytes::from(vec![3u8; 100 << 10]);
        for data in [Bytes::from_static(b"ok"), Bytes::new(), big] {
            let mut a = OutQueue::new();
            put(&mut a, Command::JobAssign, &[b"H:1", b"f", &data]);
            let mut b = OutQueue::new();
            put_shared(&mut b, Command::JobAssign, &[b"H:1", b"f"], data.clone());
            assert_eq!(a.to_vec(), b.to_vec());
            let mut a = OutQueue::new();
            put(&mut a, Command::EchoRes, &[&data]);
            let mut b = OutQueue::new();
            put_shared(&mut b, Command::EchoRes, &[], data.clone());
            assert_eq!(a.to_vec(), b.to_vec());
        }
    }

    #[test]
    fn backing_shares_only_what_it_holds() {
        let frame = Bytes::from(vec![1u8, 2, 3, 4, 5, 6]);
        let b = Backing::shared(&frame);
        let part = b.share(&frame[2..5]);
        assert_eq!(&part[..], &[3, 4, 5]);
        assert_eq!(part.as_ptr(), frame[2..].as_ptr());
        // Bytes from elsewhere are copied, never a panic.
        let other = [9u8; 3];
        assert_eq!(&b.share(&other)[..], &other);
        assert_eq!(&Backing::BORROWED.share(&frame[..2])[..], &[1, 2]);
        assert!(b.share(&[]).is_empty());
    }
}
