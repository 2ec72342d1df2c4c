//! Helpers of the TLS tests (tests/tls_*.rs): certificates made at run time, our server started
//! with `--ssl`, a blocking TLS client for admin lines, Rust workers over TLS, the Python `gear`
//! peers, and a TCP relay that records what a client sends.
#![allow(dead_code)]

#[path = "../../src/net/tls/test_certs.rs"]
pub mod certs;

use crate::common::procs::ChildGuard;
use crate::common::{compat_required, free_port, server_bin};
use gearman::net::tls::{TlsConfig, Verify};
use gearman::worker::{GrabMode, WorkResult, Worker};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use certs::TestCerts;

/// The client settings that trust the test CA (and offer the client certificate).
pub fn client_tls(c: &TestCerts) -> TlsConfig {
    TlsConfig::new()
        .ca_file(&c.ca)
        .certificate(&c.client_cert)
        .key_file(&c.client_key)
        .verify(Verify::Full)
}

/// Our gearmand serving TLS on a free port, killed by its pid when dropped.
pub struct TlsServer {
    pub port: u16,
    pub child: Child,
    pub dir: PathBuf,
}

impl TlsServer {
    /// Starts our server with `--ssl` and the test certificates (plus `extra`), and waits
    /// until it answers `getpid` over TLS.
    pub fn start(c: &TestCerts, extra: &[&str]) -> TlsServer {
        let args = [
            "--ssl".to_string(),
            format!("--ssl-ca-file={}", c.ca.display()),
            format!("--ssl-certificate={}", c.server_cert.display()),
            format!("--ssl-key={}", c.server_key.display()),
        ];
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend_from_slice(extra);
        TlsServer::start_raw(c, &all, &[], true)
    }

    /// Starts our server with exactly `args` (after -p/-L/log) and `env`. With `verified`, waits
    /// for a TLS `getpid` answer (test CA, client certificate); else until it accepts TCP.
    pub fn start_raw(
        c: &TestCerts,
        args: &[&str],
        env: &[(&str, &Path)],
        verified: bool,
    ) -> TlsServer {
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "gearman-tls-server-{}-{port}-{}",
                std::process::id(),
                Instant::now().elapsed().as_nanos()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let log = std::fs::File::create(dir.join("server.log")).expect("log file");
            let mut cmd = Command::new(server_bin());
            cmd.arg("-p")
                .arg(port.to_string())
                .args(["-L", "127.0.0.1", "--log-file=stderr", "--verbose=INFO"])
                .args(args)
                .env_remove("GEARMAND_CA_CERTIFICATE")
                .env_remove("GEARMAND_SERVER_PEM")
                .env_remove("GEARMAND_SERVER_KEY")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log);
            for (k, v) in env {
                cmd.env(k, v);
            }
            let child = cmd.spawn().expect("start gearmand");
            let mut s = TlsServer { port, child, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = s.child.try_wait() {
                    break;
                }
                if !verified && TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return s;
                }
                if let Ok(mut a) = TlsAdmin::connect(port, c) {
                    if a.line("getpid").trim() == format!("OK {}", s.child.id()) {
                        return s;
                    }
                }
                std::thread::sleep(Duration::from_millis(30));
            }
            let log = s.log();
            if !log.contains("in use") {
                panic!("TLS server did not start: {log}");
            }
        }
        panic!("TLS server did not start after 5 attempts");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by pid.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} failed");
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs our server binary with `args` and returns (exit code, stderr) when it exits within 10 s.
pub fn run_server_expecting_exit(args: &[&str], env: &[(&str, &Path)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(server_bin());
    cmd.args(["-p", &free_port().to_string(), "-L", "127.0.0.1"])
        .args(args)
        .env_remove("GEARMAND_CA_CERTIFICATE")
        .env_remove("GEARMAND_SERVER_PEM")
        .env_remove("GEARMAND_SERVER_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = crate::common::procs::run_with_timeout(&mut cmd, b"", Duration::from_secs(10));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A blocking TLS connection (rustls) to our server, for admin lines and raw packets.
pub struct TlsAdmin {
    stream: rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
}

impl TlsAdmin {
    /// Connects to 127.0.0.1:`port`, verifying the server against the test CA and offering
    /// the client certificate.
    pub fn connect(port: u16, c: &TestCerts) -> std::io::Result<TlsAdmin> {
        let tls = client_tls(c).build().map_err(std::io::Error::other)?;
        let sock = TcpStream::connect(("127.0.0.1", port))?;
        sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        let conn = tls
            .connect("localhost", sock.peer_addr()?.ip())
            .map_err(std::io::Error::other)?;
        Ok(TlsAdmin {
            stream: rustls::StreamOwned::new(conn, sock),
        })
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("TLS write");
        self.stream.flush().expect("TLS flush");
    }

    /// Sends one admin command and reads one reply line; a TLS failure is an error.
    pub fn try_line(&mut self, cmd: &str) -> std::io::Result<String> {
        self.stream.write_all(format!("{cmd}\n").as_bytes())?;
        self.stream.flush()?;
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while out.last() != Some(&b'\n') {
            if self.stream.read(&mut b)? == 0 {
                break;
            }
            out.push(b[0]);
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Sends one admin command and reads one reply line.
    pub fn line(&mut self, cmd: &str) -> String {
        self.send(format!("{cmd}\n").as_bytes());
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        while out.last() != Some(&b'\n') {
            match self.stream.read(&mut b) {
                Ok(1) => out.push(b[0]),
                _ => break,
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Sends one admin command and reads its listing up to the "." line.
    pub fn list(&mut self, cmd: &str) -> String {
        self.send(format!("{cmd}\n").as_bytes());
        let mut out = String::new();
        let mut reader = BufReader::new(&mut self.stream);
        loop {
            let mut l = String::new();
            if reader.read_line(&mut l).unwrap_or(0) == 0 {
                return out;
            }
            if l == ".\n" {
                return out;
            }
            out.push_str(&l);
        }
    }

    /// Reads exactly `n` bytes.
    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.stream.read_exact(&mut v).expect("TLS read");
        v
    }

    /// Sends one request packet.
    pub fn send_packet(&mut self, kind: u32, args: &[&[u8]]) {
        self.send(&crate::common::packet(crate::common::REQ, kind, args));
    }

    /// Reads one response packet: its type and payload (the magic is checked).
    pub fn recv_packet(&mut self) -> (u32, Vec<u8>) {
        let h = self.read_exact(12);
        assert_eq!(&h[..4], b"\0RES", "magic");
        let kind = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let len = u32::from_be_bytes([h[8], h[9], h[10], h[11]]) as usize;
        (kind, self.read_exact(len))
    }
}

/// A Rust worker for "reverse" (or another function) on its own thread, stopped and joined
/// when dropped.
pub struct ReverseWorker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    pub errors: Arc<Mutex<Vec<String>>>,
}

impl ReverseWorker {
    pub fn start(servers: &[u16], tls: Option<TlsConfig>, grab: GrabMode) -> ReverseWorker {
        ReverseWorker::start_with(servers, tls, grab, "reverse", |w| {
            let mut out = w.to_vec();
            out.reverse();
            out
        })
    }

    /// A worker for `function`, whose result is `f(workload)`.
    pub fn start_with(
        servers: &[u16],
        tls: Option<TlsConfig>,
        grab: GrabMode,
        function: &str,
        f: fn(&[u8]) -> Vec<u8>,
    ) -> ReverseWorker {
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let mut w = Worker::new().expect("worker");
        w.set_tls(tls);
        for p in servers {
            w.add_server("127.0.0.1", *p).expect("add server");
        }
        w.set_grab_mode(grab);
        w.add_function(function, 0, move |job| {
            WorkResult::Complete(f(job.workload()))
        })
        .expect("add function");
        w.set_timeout(100);
        let (s, e) = (stop.clone(), errors.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                if let Err(err) = w.work() {
                    if err.code() != gearman::ReturnCode::Timeout {
                        e.lock().expect("errors").push(err.to_string());
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        });
        ReverseWorker {
            stop,
            thread: Some(thread),
            errors,
        }
    }
}

impl Drop for ReverseWorker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// True when `python3` can import `gear`; otherwise says why the caller skips (or panics
/// under GEARMAN_COMPAT_REQUIRED=1).
pub fn have_gear() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import gear"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            !compat_required(),
            "python3 cannot import gear (pip install gear) and GEARMAN_COMPAT_REQUIRED=1"
        );
        eprintln!("SKIPPED: python3 cannot import gear (pip install gear)");
    }
    ok
}

/// `python3 tests/tls/gear_peer.py MODE PORT CA CERT KEY`.
pub fn gear_cmd(mode: &str, port: u16, c: &TestCerts, cert: &Path, key: &Path) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tls/gear_peer.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(mode)
        .arg(port.to_string())
        .arg(&c.ca)
        .arg(cert)
        .arg(key);
    cmd
}

/// Starts a gear server or worker and waits for its "ready".
pub fn gear_peer(mode: &str, port: u16, c: &TestCerts, cert: &Path, key: &Path) -> ChildGuard {
    let mut g = ChildGuard::spawn(&mut gear_cmd(mode, port, c, cert, key));
    g.wait_for_line("ready", Duration::from_secs(20));
    g
}

/// A TCP relay from a local port to `upstream` that records every byte the client sends.
pub struct Recorder {
    pub port: u16,
    pub sent: Arc<Mutex<Vec<u8>>>,
}

impl Recorder {
    /// Relays connections (one at a time) until the process ends; threads are detached and
    /// stop when their sockets close.
    pub fn start(upstream: u16) -> Recorder {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let rec = sent.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(client) = conn else { return };
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    return;
                };
                let (mut c_in, mut s_out) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let (mut s_in, mut c_out) = (server, client);
                let rec = rec.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    loop {
                        match c_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                rec.lock().expect("record").extend_from_slice(&buf[..n]);
                                if s_out.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Recorder { port, sent }
    }

    pub fn recorded(&self) -> Vec<u8> {
        self.sent.lock().expect("record").clone()
    }
}

/// True if `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
