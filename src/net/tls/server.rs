//! The server's side of TLS: the files of `--ssl-ca-file`, `--ssl-certificate` and `--ssl-key`
//! (gearmand's options and defaults; `GEARMAND_*` environment variables win over the flags, as
//! in gearmand) and the rustls server configuration built from them, at start and on reload.

use super::pem::{load_certs, load_key, FileError};
use super::provider;
use rustls::server::WebPkiClientVerifier;
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, ServerConnection};
use std::path::PathBuf;
use std::sync::Arc;

/// Environment variable overriding `--ssl-ca-file`.
pub const ENV_CA: &str = "GEARMAND_CA_CERTIFICATE";
/// Environment variable overriding `--ssl-certificate`.
pub const ENV_CERT: &str = "GEARMAND_SERVER_PEM";
/// Environment variable overriding `--ssl-key`.
pub const ENV_KEY: &str = "GEARMAND_SERVER_KEY";

/// gearmand's default CA file.
pub const DEFAULT_CA: &str = "/etc/ssl/certs/gearmand-ca.pem";
/// gearmand's default certificate file.
pub const DEFAULT_CERT: &str = "/etc/ssl/certs/gearmand.pem";
/// gearmand's default key file.
pub const DEFAULT_KEY: &str = "/etc/ssl/certs/gearmand.key";

/// The TLS settings of a job server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTlsConfig {
    /// CA certificate(s) client certificates must lead to (used with `verify_clients`).
    pub ca_file: PathBuf,
    /// The server's certificate chain (PEM, leaf first).
    pub certificate: PathBuf,
    /// Its private key (PEM, unencrypted).
    pub key_file: PathBuf,
    /// Ask every client for a certificate and refuse those without a valid one (mutual TLS).
    pub verify_clients: bool,
}

impl Default for ServerTlsConfig {
    fn default() -> Self {
        ServerTlsConfig {
            ca_file: DEFAULT_CA.into(),
            certificate: DEFAULT_CERT.into(),
            key_file: DEFAULT_KEY.into(),
            verify_clients: false,
        }
    }
}

impl ServerTlsConfig {
    /// Replaces the paths by the `GEARMAND_*` variables that are set (and not empty).
    pub fn apply_env(&mut self) {
        for (var, slot) in [
            (ENV_CA, &mut self.ca_file),
            (ENV_CERT, &mut self.certificate),
            (ENV_KEY, &mut self.key_file),
        ] {
            if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
                *slot = v.into();
            }
        }
    }

    /// Loads the files and builds the rustls configuration; the error names the file that is
    /// missing or unusable, or says that the key does not belong to the certificate. The CA
    /// file is read only for `verify_clients` (gearmand never asks for client certificates).
    pub fn build(&self) -> Result<Arc<ServerConfig>, String> {
        let provider = provider();
        let chain = load_certs("certificate", &self.certificate).map_err(|e| e.to_string())?;
        let key = load_key(&self.key_file).map_err(|e| e.to_string())?;
        let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
            let why = match e {
                rustls::Error::InconsistentKeys(_) => {
                    "is not the key of the certificate".to_string()
                }
                e => format!("cannot be used with the certificate: {e}"),
            };
            format!(
                "private key file {} {why} (certificate file {})",
                self.key_file.display(),
                self.certificate.display()
            )
        })?;
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = if self.verify_clients {
            let mut roots = RootCertStore::empty();
            for c in load_certs("CA certificate", &self.ca_file).map_err(|e| e.to_string())? {
                roots
                    .add(c)
                    .map_err(|e| FileError::new("CA certificate", &self.ca_file, e).to_string())?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| format!("CA certificate file {}: {e}", self.ca_file.display()))?;
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let config =
            builder.with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
        Ok(Arc::new(config))
    }
}

/// A new server-side session with `config`.
pub fn accept(config: &Arc<ServerConfig>) -> Result<ServerConnection, rustls::Error> {
    ServerConnection::new(config.clone())
}
