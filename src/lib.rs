//! Gearman in Rust.
//!
//! * [`protocol`]: the wire codec (binary packets and admin text lines), pure: no I/O, no unsafe.
//! * [`net`]: the only user of mio: non-blocking connections and their buffers.
//! * [`capi`]: the C ABI of `libgearman.so.8` (layouts, enums, exported functions).
//! * [`server`]: a gearmand-compatible job server that can be started in-process.
//! * [`client`] and [`worker`]: the client and worker core under `libgearman.so.8`, usable
//!   directly from Rust ([`Client`], [`Worker`]); [`endpoint`]: what both share; [`error`]:
//!   libgearman's return codes.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod capi;
pub mod client;
pub mod endpoint;
pub mod error;
pub mod net;
pub mod protocol;
pub mod server;
pub mod worker;

pub use client::Client;
pub use error::{Error, ReturnCode};
pub use worker::Worker;
