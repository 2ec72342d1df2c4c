//! TLS against peers written elsewhere, in each direction: Python's `gear` (PyPI) as a server
//! for our library and as a client and worker of our server; Perl's Gearman::Client
//! (IO::Socket::SSL, peer verification on) against our server; `openssl s_client` speaking the
//! admin protocol to our server; Debian's `gearman -S` and PHP's `addOptions(256)` running on
//! our library. Certificates are made by the tests.

mod capi_support;
mod common;
mod tls_support;

use common::procs::ChildGuard;
use gearman::client::Priority;
use gearman::worker::GrabMode;
use gearman::Client;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tls_support::*;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// gear's server (TLS 1.2, asks for client certificates) runs jobs from our client for our
/// worker. gear knows no GRAB_JOB_ALL, so the worker grabs with GRAB_JOB_UNIQ.
#[test]
fn gear_server_serves_our_client_and_worker() {
    if !have_gear() {
        return;
    }
    let c = TestCerts::generate();
    let port = common::free_port();
    let _server = gear_peer("server", port, &c, &c.server_cert, &c.server_key);
    let _worker = ReverseWorker::start(&[port], Some(client_tls(&c)), GrabMode::Uniq);
    let mut client = Client::new();
    client.set_tls(Some(client_tls(&c)));
    client.add_server("localhost", port).expect("server");
    assert_eq!(client.do_job("reverse", b"hello").expect("do"), b"olleh");
    let big = payload(1 << 20);
    let mut want = big.clone();
    want.reverse();
    assert_eq!(client.do_job("reverse", &big).expect("do 1 MB"), want);
    let handle = client
        .submit_background(Priority::Normal, b"reverse", None, b"in the background")
        .expect("background");
    assert!(!handle.is_empty());
}

/// gear's client (TLS 1.2, verifying our certificate) runs a 1 MB job through our server for
/// our worker, and gear's worker serves our client.
#[test]
fn gear_client_and_worker_use_our_server() {
    if !have_gear() {
        return;
    }
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    {
        let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
        let out = common::procs::stdout_of(
            gear_cmd("client", server.port, &c, &c.client_cert, &c.client_key).arg("1048576"),
            b"",
            Duration::from_secs(60),
        );
        assert!(out.contains("ok 1048576"), "gear client: {out}");
    }
    let _gear_worker = gear_peer("worker", server.port, &c, &c.client_cert, &c.client_key);
    let mut client = Client::new();
    client.set_tls(Some(client_tls(&c)));
    client.set_timeout(20_000);
    client.add_server("localhost", server.port).expect("server");
    assert_eq!(client.do_job("reverse", b"gear").expect("do"), b"raeg");
}

fn perl_peer(mode: &str, port: u16, c: &TestCerts) -> Command {
    let mut cmd = Command::new("perl");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/perl_peer.pl"))
        .arg(mode)
        .arg(port.to_string())
        .arg(&c.ca)
        .arg(&c.client_cert)
        .arg(&c.client_key);
    cmd
}

fn have_perl_gearman() -> bool {
    let ok = Command::new("perl")
        .args(["-MGearman::Client", "-MIO::Socket::SSL", "-e", "1"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !common::compat_required(),
            "Perl's Gearman::Client / IO::Socket::SSL missing and GEARMAN_COMPAT_REQUIRED=1"
        );
        eprintln!("SKIPPED: install libgearman-client-perl and libio-socket-ssl-perl");
    }
    ok
}

/// Perl's Gearman::Client and Gearman::Worker (IO::Socket::SSL, peer verification on)
/// against our server, each with our library on the other end.
#[test]
fn perl_client_and_worker_use_our_server() {
    if !have_perl_gearman() {
        return;
    }
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    {
        let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
        let out = common::procs::stdout_of(
            &mut perl_peer("client", server.port, &c),
            b"",
            Duration::from_secs(60),
        );
        assert_eq!(out.trim(), "ok");
    }
    let mut worker = ChildGuard::spawn(&mut perl_peer("worker", server.port, &c));
    worker.wait_for_line("ready", Duration::from_secs(20));
    let mut client = Client::new();
    client.set_tls(Some(client_tls(&c)));
    client.set_timeout(20_000);
    client.add_server("127.0.0.1", server.port).expect("server");
    let big = payload(1 << 20);
    let mut want = big.clone();
    want.reverse();
    assert_eq!(client.do_job("reverse", &big).expect("do 1 MB"), want);
}

/// `openssl s_client` (verifying the certificate and the name) speaks the admin protocol.
#[test]
fn openssl_s_client_speaks_the_admin_protocol() {
    let Some(openssl) = common::reference_tool("/usr/bin/openssl") else {
        return;
    };
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let mut admin = TlsAdmin::connect(server.port, &c).expect("admin");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !admin.list("status").contains("reverse\t") {
        assert!(Instant::now() < deadline, "the worker did not register");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut child = Command::new(openssl)
        .args(["s_client", "-quiet", "-verify_return_error"])
        .args(["-connect", &format!("127.0.0.1:{}", server.port)])
        .arg("-CAfile")
        .arg(&c.ca)
        .args(["-verify_hostname", "localhost"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let guard = KillOnDrop(child.id());
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"version\nstatus\n").expect("send");
    let out = read_until(child.stdout.take().expect("stdout"), "\n.\n");
    assert!(out.starts_with("OK 1.1.20+ds\n"), "{out}");
    assert!(out.contains("reverse\t0\t0\t1\n"), "{out}");
    drop(stdin);
    drop(guard);
    let _ = child.wait();
}

/// Kills a process by pid when dropped.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}

/// Reads `r` on a thread until the text contains `end` (or 20 s pass).
fn read_until(mut r: impl Read + Send + 'static, end: &str) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut out = Vec::new();
    while !String::from_utf8_lossy(&out).contains(end) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => out.extend(chunk),
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Debian's `gearman -S` (client and worker) running on our libgearman.so.8: the option bit
/// turns TLS on, the CA comes from GEARMAND_CA_CERTIFICATE.
#[test]
fn debian_gearman_tool_with_dash_s_on_our_library() {
    let Some(tool) = common::reference_tool("/usr/bin/gearman") else {
        return;
    };
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let scratch = capi_support::Scratch::new("tls-gearman-tool");
    let lib = capi_support::our_lib_dir(&scratch);
    let port = server.port.to_string();
    let run = |args: &[&str]| {
        let mut cmd = Command::new(&tool);
        cmd.env("LD_LIBRARY_PATH", &lib)
            .env("GEARMAND_CA_CERTIFICATE", &c.ca)
            .env_remove("GEARMAN_CLIENT_PEM")
            .env_remove("GEARMAN_CLIENT_KEY")
            .env_remove("GEARMAN_TLS_VERIFY")
            .args(["-S", "-h", "localhost", "-p", &port])
            .args(args);
        cmd
    };
    {
        let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
        let out = common::procs::stdout_of(
            &mut run(&["-f", "reverse", "hello"]),
            b"",
            Duration::from_secs(20),
        );
        assert_eq!(out.trim(), "olleh");
    }
    // The tool as a worker: `-w -f upper -- tr a-z A-Z`, one job.
    let mut worker = ChildGuard::spawn(&mut run(&[
        "-w", "-c", "1", "-f", "upper", "--", "tr", "a-z", "A-Z",
    ]));
    let mut admin = TlsAdmin::connect(server.port, &c).expect("admin");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !admin.list("status").contains("upper\t") {
        assert!(
            Instant::now() < deadline,
            "the tool's worker did not register"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut client = Client::new();
    client.set_tls(Some(client_tls(&c)));
    client.set_timeout(20_000);
    client.add_server("localhost", server.port).expect("server");
    assert_eq!(client.do_job("upper", b"tls").expect("do"), b"TLS");
    let _ = worker.child.wait();
}

/// PHP's gearman extension with `addOptions(256)` (GEARMAN_CLIENT_SSL) on our library.
#[test]
fn php_add_options_256_on_our_library() {
    let Some(php) = common::reference_tool("/usr/bin/php8.2") else {
        return;
    };
    let c = TestCerts::generate();
    let server = TlsServer::start(&c, &[]);
    let _worker = ReverseWorker::start(&[server.port], Some(client_tls(&c)), GrabMode::All);
    let scratch = capi_support::Scratch::new("tls-php");
    let lib = capi_support::our_lib_dir(&scratch);
    let script = format!(
        "$c = new GearmanClient(); $c->addOptions(256); $c->addServer('localhost', {}); \
         $r = $c->doNormal('reverse', str_repeat('ab', 1000)); \
         echo ($c->returnCode() == GEARMAN_SUCCESS && $r === str_repeat('ba', 1000)) ? 'ok' : 'bad: '.$c->error(), \"\\n\";",
        server.port
    );
    let out = common::procs::stdout_of(
        Command::new(php)
            .env("LD_LIBRARY_PATH", &lib)
            .env("GEARMAND_CA_CERTIFICATE", &c.ca)
            .args(["-r", &script]),
        b"",
        Duration::from_secs(30),
    );
    assert_eq!(out.trim(), "ok");
}

/// The README's openssl recipe makes certificates that our verification accepts (the block is
/// read from README.md, so the two cannot drift apart).
#[test]
fn readme_certificate_recipe_passes_verification() {
    let Some(_) = common::reference_tool("/usr/bin/openssl") else {
        return;
    };
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    let after = readme
        .split("**Certificates that pass**")
        .nth(1)
        .expect("recipe heading");
    let script = after
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("recipe block");
    let c = TestCerts::generate();
    let dir = c.dir.join("readme");
    std::fs::create_dir_all(&dir).expect("dir");
    let out = Command::new("bash")
        .args(["-e", "-c", script])
        .current_dir(&dir)
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mine = TestCerts {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
        dir: dir.clone(),
        other_ca: c.other_ca.clone(),
        legacy_cert: c.legacy_cert.clone(),
        legacy_key: c.legacy_key.clone(),
    };
    let server = TlsServer::start(&mine, &["--ssl-verify-clients"]);
    let mut admin = TlsAdmin::connect(server.port, &mine).expect("verified connection");
    assert_eq!(admin.line("version"), "OK 1.1.20+ds\n");
    drop(server);
}
