//! The library's side of TLS: which files a client or worker uses (argument, then environment,
//! then the defaults, as libgearman resolves them), how it verifies the server, and the rustls
//! client configuration built from that at the first connection.

use super::pem::{load_certs, load_key, FileError};
use super::provider;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Environment variable naming the CA certificate file (libgearman's name, with the D).
pub const ENV_CA: &str = "GEARMAND_CA_CERTIFICATE";
/// Environment variable naming the client certificate file.
pub const ENV_CERT: &str = "GEARMAN_CLIENT_PEM";
/// Environment variable naming the client private key file.
pub const ENV_KEY: &str = "GEARMAN_CLIENT_KEY";
/// Environment variable choosing the verification of the server: `full` (default) or `none`.
pub const ENV_VERIFY: &str = "GEARMAN_TLS_VERIFY";

/// Default CA file (libgearman's `$(sysconfdir)/ssl/certs/gearmand-ca.pem` on Debian).
pub const DEFAULT_CA: &str = "/etc/ssl/certs/gearmand-ca.pem";
/// Default client certificate file.
pub const DEFAULT_CERT: &str = "/etc/ssl/certs/gearman.pem";
/// Default client key file.
pub const DEFAULT_KEY: &str = "/etc/ssl/certs/gearman.key";

/// How a client checks the server it connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// The server's chain must lead to a certificate of the CA file, and the server's
    /// certificate must name the host (DNS name or IP address) the client connected to.
    #[default]
    Full,
    /// No check of the certificate (libgearman 1.1.20's TLS builds): the session is encrypted
    /// but anyone in the path can impersonate the server. For legacy certificates (CN only,
    /// self-signed without subjectAltName) while they are replaced. Logged as a warning.
    None,
}

/// The TLS settings of a client or worker (Rust API; the C API fills it from
/// `gearman_client_set_ssl` / `gearman_worker_set_ssl`). Unset paths are taken from the
/// environment, then the defaults, when the first connection is made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA certificate(s) the server's chain must lead to (PEM).
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain (PEM, leaf first), offered when a server asks for one.
    pub certificate: Option<PathBuf>,
    /// The client certificate's private key (PEM, unencrypted).
    pub key_file: Option<PathBuf>,
    /// Verification of the server; `None` reads `GEARMAN_TLS_VERIFY` (default: full).
    pub verify: Option<Verify>,
}

impl TlsConfig {
    /// Everything from the environment and the defaults; verification on.
    pub fn new() -> TlsConfig {
        TlsConfig::default()
    }

    /// Sets the CA file.
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> TlsConfig {
        self.ca_file = Some(path.into());
        self
    }

    /// Sets the client certificate file.
    pub fn certificate(mut self, path: impl Into<PathBuf>) -> TlsConfig {
        self.certificate = Some(path.into());
        self
    }

    /// Sets the client key file.
    pub fn key_file(mut self, path: impl Into<PathBuf>) -> TlsConfig {
        self.key_file = Some(path.into());
        self
    }

    /// Sets the verification of the server (overrides `GEARMAN_TLS_VERIFY`).
    pub fn verify(mut self, verify: Verify) -> TlsConfig {
        self.verify = Some(verify);
        self
    }

    /// These settings with the three files of `gearman_*_set_ssl` (byte strings as C passes
    /// them; None or empty = unset: the environment, then the default, is used at connection).
    pub fn with_paths(
        &self,
        ca: Option<&[u8]>,
        cert: Option<&[u8]>,
        key: Option<&[u8]>,
    ) -> TlsConfig {
        use std::os::unix::ffi::OsStrExt;
        let path = |b: Option<&[u8]>| {
            b.filter(|b| !b.is_empty())
                .map(|b| PathBuf::from(std::ffi::OsStr::from_bytes(b)))
        };
        TlsConfig {
            ca_file: path(ca),
            certificate: path(cert),
            key_file: path(key),
            verify: self.verify,
        }
    }

    /// Loads the files and builds the rustls configuration. The error names the file (or the
    /// environment variable) that is missing or unusable.
    pub fn build(&self) -> Result<ClientTls, String> {
        let verify = match self.verify {
            Some(v) => v,
            None => verify_from_env()?,
        };
        let ca = resolve(self.ca_file.as_deref(), ENV_CA, DEFAULT_CA);
        let cert = resolve(self.certificate.as_deref(), ENV_CERT, DEFAULT_CERT);
        let key = resolve(self.key_file.as_deref(), ENV_KEY, DEFAULT_KEY);
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match verify {
            Verify::Full => {
                let roots = load_roots(&ca.path).map_err(|e| {
                    if ca.explicit {
                        e.to_string()
                    } else {
                        format!("{e} (name the CA with {ENV_CA} or the ca_file argument)")
                    }
                })?;
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("CA certificate file {}: {e}", ca.path.display()))?;
                builder.with_webpki_verifier(verifier)
            }
            Verify::None => {
                // The CA file is not needed to skip verification, but one that was named must
                // still be readable: a typo should not go unnoticed.
                if ca.explicit {
                    load_roots(&ca.path).map_err(|e| e.to_string())?;
                }
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(NoVerification(provider.clone())))
            }
        };
        // The client certificate is sent only to servers that ask for one (mutual TLS).
        // Files named by argument or environment must load; the default files may be absent.
        let config = match (cert.exists_or_named(), key.exists_or_named()) {
            (false, false) => builder.with_no_client_auth(),
            _ => {
                let chain = load_certs("certificate", &cert.path).map_err(|e| e.to_string())?;
                let key_der = load_key(&key.path).map_err(|e| e.to_string())?;
                builder.with_client_auth_cert(chain, key_der).map_err(|e| {
                    let why = match e {
                        rustls::Error::InconsistentKeys(_) => {
                            "is not the key of the certificate".to_string()
                        }
                        e => format!("cannot be used with the certificate: {e}"),
                    };
                    format!(
                        "private key file {} {why} (certificate file {})",
                        key.path.display(),
                        cert.path.display()
                    )
                })?
            }
        };
        Ok(ClientTls {
            config: Arc::new(config),
            verify,
        })
    }
}

/// A path and whether the caller or the environment named it (vs. a default).
struct Resolved {
    path: PathBuf,
    explicit: bool,
}

impl Resolved {
    fn exists_or_named(&self) -> bool {
        self.explicit || self.path.exists()
    }
}

/// argument → environment (empty = unset) → default.
fn resolve(given: Option<&Path>, env: &str, default: &str) -> Resolved {
    if let Some(p) = given.filter(|p| !p.as_os_str().is_empty()) {
        return Resolved {
            path: p.to_path_buf(),
            explicit: true,
        };
    }
    match std::env::var_os(env).filter(|v| !v.is_empty()) {
        Some(v) => Resolved {
            path: PathBuf::from(v),
            explicit: true,
        },
        None => Resolved {
            path: PathBuf::from(default),
            explicit: false,
        },
    }
}

fn verify_from_env() -> Result<Verify, String> {
    parse_verify(&std::env::var(ENV_VERIFY).unwrap_or_default())
}

/// `GEARMAN_TLS_VERIFY`'s text: empty or `full` → full; `none` → none; anything else is an error.
pub(super) fn parse_verify(v: &str) -> Result<Verify, String> {
    match v.to_ascii_lowercase().as_str() {
        "" | "full" => Ok(Verify::Full),
        "none" => Ok(Verify::None),
        _ => Err(format!(
            "{ENV_VERIFY}={v:?} is not understood: use 'full' (the default) or 'none'"
        )),
    }
}

fn load_roots(path: &Path) -> Result<RootCertStore, FileError> {
    let mut roots = RootCertStore::empty();
    for c in load_certs("CA certificate", path)? {
        roots
            .add(c)
            .map_err(|e| FileError::new("CA certificate", path, e))?;
    }
    Ok(roots)
}

/// The TLS settings of a client or worker and the configuration loaded from them, once.
#[derive(Debug, Clone, Default)]
pub struct TlsSlot {
    config: TlsConfig,
    built: Option<ClientTls>,
}

impl TlsSlot {
    /// Replaces the settings; they are loaded again at the next [`TlsSlot::load`].
    pub fn set(&mut self, config: TlsConfig) {
        if config != self.config {
            self.config = config;
            self.built = None;
        }
    }

    /// The settings.
    pub fn config(&self) -> &TlsConfig {
        &self.config
    }

    /// The loaded configuration (loaded at the first call). A file that cannot be used is
    /// INVALID_ARGUMENT for `operation`, naming it; turning verification off is logged.
    pub fn load(
        &mut self,
        operation: &str,
        log: &mut crate::error::ErrorState,
    ) -> Result<ClientTls, crate::Error> {
        if let Some(b) = &self.built {
            return Ok(b.clone());
        }
        let built = self
            .config
            .build()
            .map_err(|why| crate::Error::new(crate::ReturnCode::InvalidArgument, operation, why))?;
        if built.verify == Verify::None {
            warn_no_verify_once();
            log.warn(NO_VERIFY_WARNING.to_string());
        }
        self.built = Some(built.clone());
        Ok(built)
    }
}

/// The warning logged when a client or worker turns verification off.
pub const NO_VERIFY_WARNING: &str = "TLS certificate verification is off (GEARMAN_TLS_VERIFY=none \
     or Verify::None): connections are encrypted but the server is not authenticated";

/// Writes [`NO_VERIFY_WARNING`] to stderr once per process (programs without a log callback,
/// such as `gearman -S`, still show it).
pub fn warn_no_verify_once() {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !DONE.swap(true, std::sync::atomic::Ordering::Relaxed) {
        eprintln!("libgearman: warning: {NO_VERIFY_WARNING}");
    }
}

/// A built client configuration, shared by the connections of a client or worker.
#[derive(Debug, Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    verify: Verify,
}

impl ClientTls {
    /// How the server is verified.
    pub fn verify(&self) -> Verify {
        self.verify
    }

    /// True when both are the same built configuration.
    pub fn same_as(&self, other: &ClientTls) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }

    /// A session to `host` (as the user named it) connected at `peer`. The certificate must
    /// name `host`; a host that is neither a DNS name nor an IP address is checked against the
    /// address connected to. SNI is sent for DNS names only.
    pub fn connect(&self, host: &str, peer: IpAddr) -> Result<ClientConnection, rustls::Error> {
        let name = match ServerName::try_from(host.to_string()) {
            Ok(n) => n,
            Err(_) => ServerName::IpAddress(peer.into()),
        };
        ClientConnection::new(self.config.clone(), name)
    }
}

/// "Verification" that accepts any certificate but still checks the handshake signatures
/// (the opt-out of [`Verify::None`]).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
