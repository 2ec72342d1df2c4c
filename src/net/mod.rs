//! The only user of mio: non-blocking connections with their read and write buffers, server
//! address lists, the listener, and the `poll` wrapper clients and workers wait with.

pub mod buffer;
pub mod connection;
pub mod input;
pub mod link;
pub mod listener;
pub mod output;
pub mod poll;
pub mod servers;
pub mod transport;
pub mod wake;

pub use buffer::Buffer;
pub use connection::{Connection, Fill};
pub use input::InputBuffer;
pub use link::{Link, LinkState, Reply};
pub use output::OutQueue;
pub use servers::{parse_servers, ServerAddress};
pub use transport::Transport;
