//! Shared harness of the integration tests: start a job server on a free loopback port, talk
//! to it with raw sockets, stop it by its pid.
//!
//! The server under test is ours (`target/.../gearmand`) unless `GEARMAND_BIN` names another
//! binary, such as Debian's `/usr/sbin/gearmand`; the same tests then prove they encode the
//! real gearmand 1.1.20 behaviour.
#![allow(dead_code)]

pub mod http;
pub mod procs;
pub mod proto;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary under test.
pub fn server_bin() -> PathBuf {
    match std::env::var_os("GEARMAND_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_gearmand")),
    }
}

/// True when the tests run against our own server rather than another gearmand.
pub fn is_ours() -> bool {
    server_bin() == std::path::Path::new(env!("CARGO_BIN_EXE_gearmand"))
}

/// Whether missing reference tools must fail the run (CI sets `GEARMAN_COMPAT_REQUIRED=1`).
pub fn compat_required() -> bool {
    std::env::var("GEARMAN_COMPAT_REQUIRED")
        .map(|v| v == "1")
        .unwrap_or(false)
}

/// Returns the path of a reference tool, or `None` after saying why the caller skips.
/// Panics instead when `GEARMAN_COMPAT_REQUIRED=1`.
pub fn reference_tool(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        return Some(p);
    }
    if compat_required() {
        panic!(
            "{path} is missing and GEARMAN_COMPAT_REQUIRED=1 (install Debian's gearman packages)"
        );
    }
    eprintln!("SKIPPED: {path} is not installed (set GEARMAN_COMPAT_REQUIRED=1 to make this fail)");
    None
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind :0");
    l.local_addr().expect("local_addr").port()
}

/// A running job server, killed by its pid when dropped.
pub struct TestServer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl TestServer {
    /// Starts the server under test with `-p PORT -L 127.0.0.1` and the given extra arguments.
    pub fn start(extra: &[&str]) -> TestServer {
        TestServer::start_bin(&server_bin(), extra)
    }

    /// Starts the given server binary the same way (for tests that compare two servers).
    pub fn start_bin(bin: &std::path::Path, extra: &[&str]) -> TestServer {
        let bin = bin.to_path_buf();
        for _attempt in 0..5 {
            let port = free_port();
            // Unique per start: two servers of one test process never share a directory.
            static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("gearman-test-{}-{port}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let log = std::fs::File::create(dir.join("server.log")).expect("log file");
            let pid_file = dir.join("gearmand.pid");
            let child = Command::new(&bin)
                .arg("-p")
                .arg(port.to_string())
                .arg("-L")
                .arg("127.0.0.1")
                .arg("--log-file=stderr")
                .arg(format!("--pid-file={}", pid_file.display()))
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut server = TestServer { port, child, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut other_server = false;
            while Instant::now() < deadline {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    // Another test may have started its server on the same free port in the
                    // meantime: only a server answering `getpid` with our child's pid is ours.
                    let answered = answered_pid(stream);
                    if answered == Some(server.child.id()) {
                        return server;
                    }
                    if answered.is_none() {
                        // Nothing answered: a server not serving yet, or the connect met
                        // itself (a loopback connect whose ephemeral port is the port asked
                        // for, before our child bound it). Ask again.
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    // Ours cannot bind a port another server holds: it exits, and we retry.
                    let exit_by = Instant::now() + Duration::from_secs(2);
                    while Instant::now() < exit_by {
                        if let Ok(Some(_)) = server.child.try_wait() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    if let Ok(None) = server.child.try_wait() {
                        panic!(
                            "server {} (pid {}) answered getpid with {answered:?}",
                            bin.display(),
                            server.child.id()
                        );
                    }
                    other_server = true;
                    break;
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break; // lost a race for the port, or a bad option: retry or report below
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if other_server {
                continue; // dropping `server` kills our child, which could not bind anyway
            }
            let log = server.log();
            if !log.contains("in use") && !log.contains("Address already") {
                panic!("server {} did not start: {log}", bin.display());
            }
        }
        panic!("server {} did not start after 5 attempts", bin.display());
    }

    /// Starts the server under test on a given port (e.g. to restart a server that was
    /// stopped), retrying for a few seconds while the port is still taken.
    pub fn start_on_port(port: u16, extra: &[&str]) -> TestServer {
        let bin = server_bin();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let dir = std::env::temp_dir().join(format!(
                "gearman-test-{}-{port}-{}",
                std::process::id(),
                Instant::now().elapsed().as_nanos()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let log = std::fs::File::create(dir.join("server.log")).expect("log file");
            let child = Command::new(&bin)
                .arg("-p")
                .arg(port.to_string())
                .arg("-L")
                .arg("127.0.0.1")
                .arg("--log-file=stderr")
                .arg(format!("--pid-file={}", dir.join("gearmand.pid").display()))
                .args(extra)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut server = TestServer { port, child, dir };
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = server.child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                Instant::now() < deadline,
                "server {} did not start on port {port}: {}",
                bin.display(),
                server.log()
            );
            drop(server);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The `--pid-file` path the harness passed to the server.
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("gearmand.pid")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// A raw connection with a read timeout.
    pub fn connect(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// Sends a signal to the server process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status();
        assert!(
            status.map(|s| s.success()).unwrap_or(false),
            "kill -{sig} failed"
        );
    }

    /// Waits for the process to exit and returns its exit code (None if killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Option<i32>> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The pid a server reports with the admin command `getpid`, if it answers within 2 s.
fn answered_pid(mut stream: TcpStream) -> Option<u32> {
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"getpid\n").ok()?;
    let mut reply = Vec::new();
    let mut b = [0u8; 1];
    while reply.last() != Some(&b'\n') {
        match stream.read(&mut b) {
            Ok(1) => reply.push(b[0]),
            _ => return None,
        }
    }
    let text = String::from_utf8_lossy(&reply);
    text.strip_prefix("OK ")?.trim().parse().ok()
}

pub const REQ: &[u8; 4] = b"\0REQ";
pub const RES: &[u8; 4] = b"\0RES";

/// A decoded packet as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkt {
    pub magic: [u8; 4],
    pub kind: u32,
    pub payload: Vec<u8>,
}

impl Pkt {
    /// The payload split on NUL into exactly `n` parts (the last keeps any further NULs).
    pub fn fields(&self, n: usize) -> Vec<Vec<u8>> {
        self.payload
            .splitn(n, |&b| b == 0)
            .map(|s| s.to_vec())
            .collect()
    }
}

/// Encodes a packet whose arguments are joined with NUL.
pub fn packet(magic: &[u8; 4], kind: u32, args: &[&[u8]]) -> Vec<u8> {
    let payload: Vec<u8> = args.join(&0u8);
    let mut v = magic.to_vec();
    v.extend_from_slice(&kind.to_be_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(&payload);
    v
}

/// A raw socket to the server with a default read timeout of 5 s.
pub struct Conn {
    pub stream: TcpStream,
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn { stream }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a request packet.
    pub fn send(&mut self, kind: u32, args: &[&[u8]]) {
        self.send_raw(&packet(REQ, kind, args));
    }

    /// Reads one binary packet; panics on timeout or close.
    pub fn recv(&mut self) -> Pkt {
        self.try_recv(Duration::from_secs(5))
            .expect("expected a packet from the server")
    }

    /// Reads one binary packet, or `None` if nothing arrives within `wait`.
    pub fn try_recv(&mut self, wait: Duration) -> Option<Pkt> {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        let mut header = [0u8; 12];
        let r = read_exact_or_none(&mut self.stream, &mut header);
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        r?;
        let kind = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
        let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]) as usize;
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).expect("payload");
        Some(Pkt {
            magic: [header[0], header[1], header[2], header[3]],
            kind,
            payload,
        })
    }

    /// Asserts that nothing arrives within `wait`.
    pub fn expect_silence(&mut self, wait: Duration) {
        if let Some(p) = self.try_recv(wait) {
            panic!("expected no packet, got {p:?}");
        }
    }

    /// True when the server closed the connection (EOF) within `wait`.
    pub fn is_closed(&mut self, wait: Duration) -> bool {
        self.stream.set_read_timeout(Some(wait)).expect("timeout");
        let mut b = [0u8; 1];
        // One read: a reset (the server closed with our bytes unread) is reported once, and a
        // second read would then see a plain end of file.
        match self.stream.read(&mut b) {
            Ok(0) => true,
            Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    }

    /// Sends an admin line (adding `\n`) and reads the one-line reply.
    pub fn admin_line(&mut self, cmd: &str) -> String {
        self.send_raw(format!("{cmd}\n").as_bytes());
        self.read_until(|s| s.ends_with('\n'))
    }

    /// Sends an admin line and reads a list reply up to and including its `.\n`.
    pub fn admin_list(&mut self, cmd: &str) -> String {
        self.send_raw(format!("{cmd}\n").as_bytes());
        self.read_until(|s| s == ".\n" || s.ends_with("\n.\n"))
    }

    fn read_until(&mut self, done: impl Fn(&str) -> bool) -> String {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        loop {
            match self.stream.read(&mut b) {
                Ok(0) => panic!(
                    "connection closed after {:?}",
                    String::from_utf8_lossy(&out)
                ),
                Ok(_) => out.push(b[0]),
                Err(e) => panic!("read failed after {:?}: {e}", String::from_utf8_lossy(&out)),
            }
            let s = String::from_utf8_lossy(&out);
            if done(&s) {
                return s.into_owned();
            }
        }
    }
}

fn read_exact_or_none(s: &mut TcpStream, buf: &mut [u8]) -> Option<()> {
    let mut got = 0;
    while got < buf.len() {
        match s.read(&mut buf[got..]) {
            Ok(0) => panic!("connection closed by the server"),
            Ok(n) => got += n,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                if got == 0 {
                    return None;
                }
                panic!("timed out inside a packet");
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    Some(())
}

/// Resident set size of a process in KiB, from /proc/<pid>/status.
pub fn proc_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS")
}
