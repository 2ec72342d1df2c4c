//! The frame at the front of a connection's input, handled the one way both the event loop and
//! the socket-free [`super::CoreDriver`] use: decode, hand to the core, or decide the stream is
//! broken (with gearmand's ERROR reply where gearmand sends one).

use super::core::{Core, Verdict};
use super::log;
use super::model::ConnId;
use crate::protocol::packet::{decode_header, split_payload, HEADER_LEN};
use crate::protocol::{decode_frame, DecodeError, Decoded, Frame, Limits};

/// What became of the bytes at the front of the input.
pub(crate) enum Step {
    /// A frame was handled: `used` bytes are consumed; the verdict says whether to keep the
    /// connection.
    Handled { used: usize, verdict: Verdict },
    /// The frame is incomplete: at least this many more bytes are needed.
    NeedMore(usize),
    /// The stream is broken: close the connection. With `replied`, an ERROR packet was queued
    /// first and should be flushed before closing.
    Fatal { replied: bool },
}

/// Decodes the frame at the front of `buf` (non-empty) and lets the core handle it.
pub(crate) fn handle_front(core: &mut Core, id: ConnId, buf: &[u8], limits: &Limits) -> Step {
    match decode_frame(buf, limits) {
        // gearmand reads admin lines into an 8 KiB buffer and drops longer ones even when
        // their newline has arrived.
        Ok(Decoded::Complete(Frame::Text(_), n)) if n > limits.max_line => {
            Step::Fatal { replied: false }
        }
        Ok(Decoded::Complete(frame, used)) => Step::Handled {
            used,
            verdict: core.frame(id, &frame),
        },
        Ok(Decoded::Partial(n)) => Step::NeedMore(n),
        // gearmand ignores a payload sent with a type that takes no arguments; so do we, but we
        // skip it instead of reading it as the next packet.
        Err(DecodeError::UnexpectedPayload { .. }) => match decode_header(buf, limits) {
            Ok(Decoded::Complete((magic, command, size), _)) => {
                let total = HEADER_LEN + size as usize;
                if buf.len() < total {
                    return Step::NeedMore(total - buf.len());
                }
                match split_payload(magic, command, &[]) {
                    Ok(p) => Step::Handled {
                        used: total,
                        verdict: core.packet(id, &p),
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
