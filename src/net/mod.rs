//! The only user of mio: non-blocking connections with their read and write buffers.

pub mod buffer;
pub mod listener;

pub use buffer::{Buffer, Connection, Fill, ReadOutcome};
