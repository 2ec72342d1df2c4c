//! A gearmand-compatible job server (wire and admin protocol of gearmand 1.1.20) on one mio
//! event loop.
//!
//! ```no_run
//! use gearman::server::{Config, Server};
//! let handle = Server::spawn(Config::loopback()).unwrap();
//! println!("listening on {}", handle.addr());
//! handle.shutdown().unwrap();
//! ```

mod admin;
mod assign;
pub mod cli;
pub mod config;
mod core;
mod dispatch;
mod event_loop;
pub mod log;
mod model;
mod submit;
mod wire;

pub use admin::VERSION;
pub use config::{Config, Keepalive, Verbose};
pub use event_loop::{Controller, Server, ServerHandle};

#[cfg(test)]
mod tests;
