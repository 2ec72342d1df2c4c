//! Gearman in Rust.
//!
//! * [`protocol`]: the wire codec (binary packets and admin text lines), pure: no I/O, no unsafe.
//! * [`net`]: the only user of mio: non-blocking connections and their buffers.
//! * [`server`]: a gearmand-compatible job server that can be started in-process.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod client;
pub mod error;
pub mod net;
pub mod protocol;
pub mod server;
pub mod worker;

pub use client::Client;
pub use error::{Error, ReturnCode};
pub use worker::Worker;
