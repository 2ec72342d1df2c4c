//! The Gearman wire codec: binary packets and admin text lines. Pure: no I/O, no unsafe.
#![forbid(unsafe_code)]

pub mod admin;
pub mod command;
pub mod decimal;
pub mod packet;

pub use command::{Command, Magic};
pub use packet::{
    decode_frame, decode_packet, encode, encode_into, DecodeError, Decoded, Frame, Limits, Packet,
};
