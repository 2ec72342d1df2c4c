//! The frame at the front of a connection's input, handled the one way both the event loop and
//! the socket-free [`super::CoreDriver`] use: decode, hand to the core, or decide the stream is
//! broken (with gearmand's ERROR reply where gearmand sends one).

use super::core::{Core, Verdict};
use super::log;
use super::model::ConnId;
use super::wire::Backing;
use crate::protocol::packet::{decode_header, split_payload, HEADER_LEN};
use crate::protocol::{decode_frame, DecodeError, Decoded, Frame, Limits};

/// Payloads at least this large are split off the input as shared slices instead of being
/// copied: the size where a copy starts to cost more than the bookkeeping, and where a slice
/// holding on to its read buffer wastes at most a few times its own size.
pub(crate) const SHARE_PAYLOAD: usize = 16 * 1024;

/// The length of the complete binary frame at the front of `buf` when its payload is large
/// enough to be split off as a shared slice ([`SHARE_PAYLOAD`]); `None` otherwise.
pub(crate) fn large_frame(buf: &[u8], limits: &Limits) -> Option<usize> {
    if buf.first() != Some(&0) {
        return None;
    }
    match decode_header(buf, limits) {
        Ok(Decoded::Complete((_, _, size), _)) => {
            let total = HEADER_LEN + size as usize;
            (size as usize >= SHARE_PAYLOAD && buf.len() >= total).then_some(total)
        }
        _ => None,
    }
}

/// How many bytes the binary frame at the front of `buf` still lacks: 0 when it is complete,
/// when its header is incomplete or invalid (the decoder reports that), or for a text line.
pub(crate) fn missing(buf: &[u8], limits: &Limits) -> usize {
    if buf.first() != Some(&0) {
        return 0;
    }
    match decode_header(buf, limits) {
        Ok(Decoded::Complete((_, _, size), _)) => {
            (HEADER_LEN + size as usize).saturating_sub(buf.len())
        }
        _ => 0,
    }
}

/// What became of the bytes at the front of the input.
pub(crate) enum Step {
    /// A frame was handled: `used` bytes are consumed; the verdict says whether to keep the
    /// connection.
    Handled { used: usize, verdict: Verdict },
    /// The frame is incomplete (see [`missing`] for how much is needed).
    NeedMore,
    /// The stream is broken: close the connection. With `replied`, an ERROR packet was queued
    /// first and should be flushed before closing.
    Fatal { replied: bool },
}

/// Decodes the frame at the front of `buf` (non-empty) and lets the core handle it. `backing`
/// says whether `buf` is a shared slice the core may keep parts of.
pub(crate) fn handle_front(
    core: &mut Core,
    id: ConnId,
    buf: &[u8],
    backing: Backing<'_>,
    limits: &Limits,
) -> Step {
    match decode_frame(buf, limits) {
        // gearmand reads admin lines into an 8 KiB buffer and drops longer ones even when
        // their newline has arrived.
        Ok(Decoded::Complete(Frame::Text(_), n)) if n > limits.max_line => {
            Step::Fatal { replied: false }
        }
        Ok(Decoded::Complete(frame, used)) => Step::Handled {
            used,
            verdict: core.frame(id, &frame, backing),
        },
        Ok(Decoded::Partial(_)) => Step::NeedMore,
        // gearmand ignores a payload sent with a type that takes no arguments; so do we, but we
        // skip it instead of reading it as the next packet.
        Err(DecodeError::UnexpectedPayload { .. }) => match decode_header(buf, limits) {
            Ok(Decoded::Complete((magic, command, size), _)) => {
                let total = HEADER_LEN + size as usize;
                if buf.len() < total {
                    return Step::NeedMore;
                }
                match split_payload(magic, command, &[]) {
                    Ok(p) => Step::Handled {
                        used: total,
                        verdict: core.packet(id, &p, Backing::BORROWED),
                    },
                    Err(_) => Step::Fatal { replied: false },
                }
            }
            _ => Step::Fatal { replied: false },
        },
        Err(e) => {
            log::info(format_args!("connection {id}: {e}"));
            let reply = match e {
                DecodeError::TooLarge { .. } => Some((
                    "ARGUMENT_TOO_LARGE",
                    "Packet exceeds the maximum packet size",
                )),
                DecodeError::MissingFields { .. } => Some((
                    "INVALID_PACKET",
                    "Packet has fewer fields than its type needs",
                )),
                // Bad magic, unknown type, endless admin line: gearmand just closes.
                _ => None,
            };
            if let Some((code, text)) = reply {
                core.peers.error(id, code, text);
            }
            Step::Fatal {
                replied: reply.is_some(),
            }
        }
    }
}
