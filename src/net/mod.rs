//! The only user of mio: non-blocking connections with their read and write buffers, server
//! address lists, the listener, and the `poll` wrapper clients and workers wait with.

pub mod buffer;
pub mod link;
pub mod listener;
pub mod poll;
pub mod servers;
pub mod tls;
pub mod wake;

pub use buffer::{Buffer, Connection, Fill, ReadOutcome};
pub use link::{Link, LinkState, Reply};
pub use servers::{parse_servers, ServerAddress};
