//! TLS for the library's links and the server's connections, over rustls with the *ring*
//! crypto provider. The protocol layer and the server core never see it: a link carries an
//! optional [`TlsStream`] and sends its plaintext through it; a server connection's stream is
//! a [`TlsSocket`] behind the same transport seam as plain TCP
//! ([`crate::net::transport::Transport`]).
//!
//! * [`TlsConfig`] / [`ClientTls`]: the files of a client or worker and how it verifies the
//!   server (secure by default, with [`Verify::None`] as the explicit opt-out).
//! * [`ServerTlsConfig`]: the server's certificate, key and optional client verification.
//! * [`TlsStream`]: a session over a non-blocking socket; [`TlsSocket`]: one with its socket.

mod client;
mod pem;
mod server;
mod socket;
mod stream;

pub use client::{warn_no_verify_once, ClientTls, TlsConfig, TlsSlot, Verify, NO_VERIFY_WARNING};
pub use pem::{load_certs, load_key, FileError};
pub use server::{accept, ServerTlsConfig};
pub use socket::TlsSocket;
pub use stream::{is_tls_error, PlainSink, PlainWriter, TlsStream};

/// Names of the environment variables and default paths, for documentation and tools.
pub mod env {
    pub use super::client::{
        DEFAULT_CA, DEFAULT_CERT, DEFAULT_KEY, ENV_CA, ENV_CERT, ENV_KEY, ENV_VERIFY,
    };
    /// The server's variables and defaults.
    pub mod server {
        pub use super::super::server::{
            DEFAULT_CA, DEFAULT_CERT, DEFAULT_KEY, ENV_CA, ENV_CERT, ENV_KEY,
        };
    }
}

use rustls::crypto::CryptoProvider;
use std::sync::{Arc, OnceLock};

/// The crypto provider every configuration uses: *ring*, which builds with a C compiler alone
/// (aws-lc-rs needs cmake and a long C build). rustls 0.23.48 marks it deprecated because it has
/// no post-quantum key exchange; sessions use X25519 or P-256 ECDHE, as OpenSSL 3.0 peers do.
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    #[allow(deprecated)]
    let make = || Arc::new(rustls::crypto::ring::default_provider());
    PROVIDER.get_or_init(make).clone()
}

#[cfg(test)]
pub(crate) mod test_certs;
#[cfg(test)]
mod tests;
