//! Binary packets: zero-copy decode (Complete / Partial / Error on any prefix) and encode.
//!
//! A frame on a Gearman connection is either a binary packet (first byte NUL) or an admin
//! text line (first byte anything else); the choice is made per frame, not per connection.

use super::command::{Command, Magic};
use std::fmt;

/// Size of the binary header: magic, type, payload length.
pub const HEADER_LEN: usize = 12;

/// Largest number of arguments any packet type carries (SUBMIT_JOB_SCHED: 7 fields + data).
pub const MAX_ARGS: usize = 8;

/// Default cap on one packet's payload; the wire allows up to 4 GiB.
pub const DEFAULT_MAX_PAYLOAD: u32 = 1 << 30;

/// Default cap on an admin text line; gearmand's own commands are far shorter.
pub const DEFAULT_MAX_LINE: usize = 8192;

/// A decoded binary packet borrowing its arguments from the input buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub magic: Magic,
    pub command: Command,
    args: [&'a [u8]; MAX_ARGS],
    argc: usize,
}

impl<'a> Packet<'a> {
    /// Builds a packet from its arguments; `None` if the count does not match the type.
    pub fn new(magic: Magic, command: Command, args: &[&'a [u8]]) -> Option<Packet<'a>> {
        if args.len() != command.arg_count() {
            return None;
        }
        let mut a: [&'a [u8]; MAX_ARGS] = [&[]; MAX_ARGS];
        a[..args.len()].copy_from_slice(args);
        Some(Packet {
            magic,
            command,
            args: a,
            argc: args.len(),
        })
    }

    /// The arguments in wire order: the fields, then the data blob for types that carry one.
    pub fn args(&self) -> &[&'a [u8]] {
        &self.args[..self.argc]
    }

    /// Argument `i`, or an empty slice past the end.
    pub fn arg(&self, i: usize) -> &'a [u8] {
        if i < self.argc {
            self.args[i]
        } else {
            &[]
        }
    }

    /// The data blob (the last argument) of types that carry one, else empty.
    pub fn data(&self) -> &'a [u8] {
        if self.command.has_data() {
            self.arg(self.argc - 1)
        } else {
            &[]
        }
    }

    /// Payload length on the wire.
    pub fn payload_len(&self) -> usize {
        let sum: usize = self.args().iter().map(|a| a.len()).sum();
        sum + self.argc.saturating_sub(1)
    }

    /// Appends the encoded packet to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_into(self.magic, self.command, self.args(), out);
    }

    /// The encoded packet as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(HEADER_LEN + self.payload_len());
        self.encode_into(&mut v);
        v
    }
}

impl fmt::Debug for Packet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self
            .args()
            .iter()
            .map(|a| {
                let shown = &a[..a.len().min(64)];
                format!("{:?}", String::from_utf8_lossy(shown))
            })
            .collect();
        write!(
            f,
            "{:?} {} [{}]",
            self.magic,
            self.command.name(),
            args.join(", ")
        )
    }
}

/// Appends one packet to `out`. Arguments are joined with NUL: the fields of a data-carrying
/// type are each NUL-terminated before the blob, and the last field of other types is not.
/// The caller passes exactly `command.arg_count()` arguments.
pub fn encode_into(magic: Magic, command: Command, args: &[&[u8]], out: &mut Vec<u8>) {
    debug_assert_eq!(args.len(), command.arg_count(), "{}", command.name());
    let payload: usize = args.iter().map(|a| a.len()).sum::<usize>() + args.len().saturating_sub(1);
    out.reserve(HEADER_LEN + payload);
    out.extend_from_slice(&magic.bytes());
    out.extend_from_slice(&(command as u32).to_be_bytes());
    out.extend_from_slice(&(payload as u32).to_be_bytes());
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(a);
    }
}

/// Encodes a packet into a new vector.
pub fn encode(magic: Magic, command: Command, args: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_into(magic, command, args, &mut v);
    v
}

/// Why a byte stream is not a valid Gearman stream. Every variant is fatal for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The first four bytes are neither `\0REQ` nor `\0RES`.
    BadMagic,
    /// Packet type 0 or above 42.
    UnknownCommand(u32),
    /// The payload is larger than the configured maximum.
    TooLarge { size: u32, max: u32 },
    /// The payload holds fewer NUL separators than the type's fields need.
    MissingFields { command: Command },
    /// A type without arguments arrived with a payload.
    UnexpectedPayload { command: Command },
    /// An admin text line grew past the configured maximum without a newline.
    LineTooLong { max: usize },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadMagic => write!(f, "bad packet magic"),
            DecodeError::UnknownCommand(n) => write!(f, "unknown packet type {n}"),
            DecodeError::TooLarge { size, max } => {
                write!(
                    f,
                    "packet payload of {size} bytes exceeds the maximum of {max}"
                )
            }
            DecodeError::MissingFields { command } => {
                write!(f, "{} packet has too few fields", command.name())
            }
            DecodeError::UnexpectedPayload { command } => {
                write!(f, "{} packet carries an unexpected payload", command.name())
            }
            DecodeError::LineTooLong { max } => {
                write!(f, "admin text line longer than {max} bytes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Result of looking at the front of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<T> {
    /// A whole frame and the number of bytes it used.
    Complete(T, usize),
    /// Not enough bytes yet; at least this many more are needed.
    Partial(usize),
}

/// One frame of a connection's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    Binary(Packet<'a>),
    /// An admin line without its `\n` and without a `\r` just before it.
    Text(&'a [u8]),
}

/// Limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_payload: u32,
    pub max_line: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_line: DEFAULT_MAX_LINE,
        }
    }
}

/// Decodes the binary header at the front of `buf`: magic, command and payload size.
pub fn decode_header(
    buf: &[u8],
    limits: &Limits,
) -> Result<Decoded<(Magic, Command, u32)>, DecodeError> {
    if buf.len() < HEADER_LEN {
        return Ok(Decoded::Partial(HEADER_LEN - buf.len()));
    }
    let magic = Magic::from_bytes([buf[0], buf[1], buf[2], buf[3]]).ok_or(DecodeError::BadMagic)?;
    let num = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let command = Command::from_u32(num).ok_or(DecodeError::UnknownCommand(num))?;
    let size = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    if size > limits.max_payload {
        return Err(DecodeError::TooLarge {
            size,
            max: limits.max_payload,
        });
    }
    Ok(Decoded::Complete((magic, command, size), HEADER_LEN))
}

/// Decodes one binary packet at the front of `buf`. Always consumes exactly header + size bytes.
pub fn decode_packet<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Decoded<Packet<'a>>, DecodeError> {
    let (magic, command, size) = match decode_header(buf, limits)? {
        Decoded::Complete(h, _) => h,
        Decoded::Partial(n) => return Ok(Decoded::Partial(n)),
    };
    let total = HEADER_LEN + size as usize;
    if buf.len() < total {
        return Ok(Decoded::Partial(total - buf.len()));
    }
    let packet = split_payload(magic, command, &buf[HEADER_LEN..total])?;
    Ok(Decoded::Complete(packet, total))
}

/// Splits a payload into the arguments of `command`.
pub fn split_payload(
    magic: Magic,
    command: Command,
    payload: &[u8],
) -> Result<Packet<'_>, DecodeError> {
    let argc = command.arg_count();
    let mut args: [&[u8]; MAX_ARGS] = [&[]; MAX_ARGS];
    if argc == 0 {
        if !payload.is_empty() {
            return Err(DecodeError::UnexpectedPayload { command });
        }
        return Ok(Packet {
            magic,
            command,
            args,
            argc,
        });
    }
    let mut rest = payload;
    for slot in args.iter_mut().take(argc - 1) {
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(DecodeError::MissingFields { command })?;
        *slot = &rest[..nul];
        rest = &rest[nul + 1..];
    }
    args[argc - 1] = rest;
    Ok(Packet {
        magic,
        command,
        args,
        argc,
    })
}

/// Decodes one frame, binary or text, at the front of `buf`.
pub fn decode_frame<'a>(buf: &'a [u8], limits: &Limits) -> Result<Decoded<Frame<'a>>, DecodeError> {
    match buf.first() {
        None => Ok(Decoded::Partial(1)),
        Some(0) => Ok(match decode_packet(buf, limits)? {
            Decoded::Complete(p, n) => Decoded::Complete(Frame::Binary(p), n),
            Decoded::Partial(n) => Decoded::Partial(n),
        }),
        Some(_) => match buf.iter().position(|&b| b == b'\n') {
            Some(nl) => {
                let mut line = &buf[..nl];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                Ok(Decoded::Complete(Frame::Text(line), nl + 1))
            }
            None if buf.len() > limits.max_line => Err(DecodeError::LineTooLong {
                max: limits.max_line,
            }),
            None => Ok(Decoded::Partial(1)),
        },
    }
}

#[cfg(test)]
mod tests;
