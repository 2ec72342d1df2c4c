//! Test certificates made at run time (never committed keys): a CA, a server and a client
//! certificate it signed (subjectAltName `localhost` and `127.0.0.1`), a second, unrelated CA,
//! and a legacy self-signed certificate with only a CN (what older gearmand guides make).
//! Shared by the unit tests of `net::tls` and the integration tests (`#[path]` include).

#![allow(dead_code)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The files of one set, in a temporary directory removed on drop.
pub struct TestCerts {
    pub dir: PathBuf,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A CA that signed nothing here (a client trusting it must refuse our server).
    pub other_ca: PathBuf,
    /// Self-signed, CN=localhost, no subjectAltName, CA:TRUE: refused by full verification.
    pub legacy_cert: PathBuf,
    pub legacy_key: PathBuf,
}

impl Drop for TestCerts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().expect("CA key");
    let mut p = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let pem = p.self_signed(&key).expect("CA cert").pem();
    (p, key, pem)
}

fn leaf(name: &str, issuer: &Issuer<'_, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().expect("leaf key");
    let mut p = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("leaf params");
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::ExplicitNoCa;
    p.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = p.signed_by(&key, issuer).expect("leaf cert");
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write test certificate");
    p
}

impl TestCerts {
    /// Generates a fresh set in a new temporary directory.
    pub fn generate() -> TestCerts {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "gearman-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create certificate dir");
        let (ca_params, ca_key, ca_pem) = ca("gearman-test-ca");
        let issuer = Issuer::new(ca_params, ca_key);
        let (server_pem, server_key) = leaf("gearman-server", &issuer);
        let (client_pem, client_key) = leaf("gearman-client", &issuer);
        let (_, _, other_pem) = ca("unrelated-ca");
        let legacy_key = KeyPair::generate().expect("legacy key");
        let mut lp = CertificateParams::new(Vec::<String>::new()).expect("legacy params");
        lp.distinguished_name.push(DnType::CommonName, "localhost");
        lp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let legacy_pem = lp.self_signed(&legacy_key).expect("legacy cert").pem();
        TestCerts {
            ca: write(&dir, "ca.pem", &ca_pem),
            server_cert: write(&dir, "server.pem", &server_pem),
            server_key: write(&dir, "server.key", &server_key),
            client_cert: write(&dir, "client.pem", &client_pem),
            client_key: write(&dir, "client.key", &client_key),
            other_ca: write(&dir, "other-ca.pem", &other_pem),
            legacy_cert: write(&dir, "legacy.pem", &legacy_pem),
            legacy_key: write(&dir, "legacy.key", &legacy_key.serialize_pem()),
            dir,
        }
    }
}
