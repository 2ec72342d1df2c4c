//! Writing response packets and numbers straight into a connection's output buffer.

use crate::net::Buffer;
use crate::protocol::packet::HEADER_LEN;
use crate::protocol::{Command, Magic};

/// Appends one `\0RES` packet whose arguments are joined with NUL (see `protocol::encode_into`).
pub fn put(out: &mut Buffer, command: Command, args: &[&[u8]]) {
    debug_assert_eq!(args.len(), command.arg_count(), "{}", command.name());
    let payload: usize = args.iter().map(|a| a.len()).sum::<usize>() + args.len().saturating_sub(1);
    out.make_room(HEADER_LEN + payload);
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(&Magic::Response.bytes());
    header[4..8].copy_from_slice(&(command as u32).to_be_bytes());
    header[8..].copy_from_slice(&(payload as u32).to_be_bytes());
    out.extend_from_slice(&header);
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(&[0]);
        }
        out.extend_from_slice(a);
    }
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
    let skip = s.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let s = &s[skip..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for &b in digits.iter().take_while(|b| b.is_ascii_digit()) {
        let d = i64::from(b - b'0');
        n = n.checked_mul(10)?;
        n = if neg {
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
        let mut b = Buffer::new();
        put(&mut b, Command::JobCreated, &[b"H:x:1"]);
        assert_eq!(b.as_slice(), b"\0RES\0\0\0\x08\0\0\0\x05H:x:1");
        let mut b = Buffer::new();
        put(&mut b, Command::WorkComplete, &[b"H:1", b"ok"]);
        assert_eq!(b.as_slice(), b"\0RES\0\0\0\x0d\0\0\0\x06H:1\0ok");
    }
}
