//! A gearmand-compatible job server (wire and admin protocol of gearmand 1.1.20) on one mio
//! event loop.
//!
//! ```
//! use gearman::server::{Config, Server};
//! use std::io::{Read, Write};
//!
//! // 127.0.0.1 on a free port, run on its own thread.
//! let handle = Server::spawn(Config::loopback()).unwrap();
//! let mut admin = std::net::TcpStream::connect(handle.addr()).unwrap();
//! admin.write_all(b"version\n").unwrap();
//! let mut reply = [0u8; 13];
//! admin.read_exact(&mut reply).unwrap();
//! assert_eq!(&reply, b"OK 1.1.20+ds\n");
//! handle.shutdown().unwrap();
//! ```
//!
//! Command-line options are parsed by [`cli`]; [`Controller`] stops a running server from
//! another thread (the binary's signal handling uses it).

mod admin;
mod assign;
mod busy_poll;
pub mod cli;
pub mod config;
mod core;
mod dispatch;
mod driver;
mod durable;
mod event_loop;
mod framing;
mod handle;
pub mod http;
pub mod log;
mod memory;
pub mod metrics;
mod model;
pub mod notify;
pub mod privileges;
pub mod store;
mod store_thread;
mod submit;
mod wire;

pub use admin::VERSION;
pub use config::{Config, Keepalive, Verbose};
pub use driver::CoreDriver;
pub use event_loop::Server;
pub use handle::{Controller, ServerHandle};

#[cfg(test)]
mod loop_tests;
#[cfg(test)]
mod tests;
