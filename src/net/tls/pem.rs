//! Reading the PEM files a TLS setup names: certificate chains (leaf first) and private keys
//! (PKCS#1, PKCS#8 or SEC1), with errors that name the file and say what is wrong with it.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::fmt;
use std::path::{Path, PathBuf};

/// A file of a TLS setup that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    /// What the file is for ("CA certificate", "certificate", "private key").
    pub what: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Why it cannot be used.
    pub reason: String,
}

impl FileError {
    pub(crate) fn new(what: &'static str, path: &Path, reason: impl fmt::Display) -> FileError {
        FileError {
            what,
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} file {}: {}",
            self.what,
            self.path.display(),
            self.reason
        )
    }
}

impl std::error::Error for FileError {}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, FileError> {
    std::fs::read(path).map_err(|e| FileError::new(what, path, e))
}

/// Every certificate of a PEM file, in file order (for a chain: leaf first). A file without
/// one is an error.
pub fn load_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, FileError> {
    let pem = read(what, path)?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&pem) {
        certs.push(item.map_err(|e| FileError::new(what, path, format!("bad PEM: {e}")))?);
    }
    if certs.is_empty() {
        return Err(FileError::new(
            what,
            path,
            "no PEM certificate (-----BEGIN CERTIFICATE-----) in it",
        ));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#1 "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY" or
/// SEC1 "EC PRIVATE KEY"). Encrypted keys are refused with a message saying so.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, FileError> {
    const WHAT: &str = "private key";
    let pem = read(WHAT, path)?;
    let text = String::from_utf8_lossy(&pem);
    if text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED") {
        return Err(FileError::new(
            WHAT,
            path,
            "the key is encrypted with a passphrase; give an unencrypted key \
             (openssl pkey -in KEY -out PLAIN)",
        ));
    }
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(k) => Ok(k),
        Err(rustls::pki_types::pem::Error::NoItemsFound) => Err(FileError::new(
            WHAT,
            path,
            "no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in it",
        )),
        Err(e) => Err(FileError::new(WHAT, path, format!("bad PEM: {e}"))),
    }
}
