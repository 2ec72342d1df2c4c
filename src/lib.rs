//! Gearman in Rust.
//!
//! * [`protocol`]: the wire codec (binary packets and admin text lines), pure: no I/O, no unsafe.
//! * [`net`]: the only user of mio: non-blocking connections and their buffers.
//! * [`capi`]: the C ABI of `libgearman.so.8` (layouts, enums, exported functions).
//! * [`server`]: a gearmand-compatible job server that can be started in-process.
#![forbid(unsafe_op_in_unsafe_fn)]

pub mod capi;
pub mod net;
pub mod protocol;
pub mod server;
