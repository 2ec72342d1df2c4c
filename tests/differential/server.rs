//! A job server for one differential run: any gearmand binary (the reference
//! `/usr/sbin/gearmand` or the server under test) on a free loopback port, killed by its pid
//! when dropped.
//!
//! The shared harness starts only the server under test; these tests need the reference
//! server as well, in the same test process. The port is checked to belong to the child
//! (admin `getpid`), because another test may start a server on the same free port.
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Server {
    /// Starts `bin` with `-p PORT -L 127.0.0.1 --log-file=stderr --pid-file=...`.
    pub fn start(bin: &Path) -> Server {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        for _attempt in 0..10 {
            let port = crate::common::free_port();
            let n = STARTS.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "gearman-differential-{}-{port}-{n}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let log = std::fs::File::create(dir.join("server.log")).expect("log file");
            let child = Command::new(bin)
                .arg("-p")
                .arg(port.to_string())
                .args(["-L", "127.0.0.1", "--log-file=stderr"])
                .arg(format!("--pid-file={}", dir.join("gearmand.pid").display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut server = Server { port, child, dir };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) {
                    match answered_pid(stream) {
                        Some(pid) if pid == server.child.id() => return server,
                        Some(_) => break, // someone else's server on that port: try another
                        None => {
                            // No `getpid` answer: the port is ours if our child is still
                            // running (a child that lost the port exits at once).
                            std::thread::sleep(Duration::from_millis(200));
                            if let Ok(None) = server.child.try_wait() {
                                return server;
                            }
                        }
                    }
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    let log = server.log();
                    if !log.contains("in use") && !log.contains("Address already") {
                        panic!("server {} did not start: {log}", bin.display());
                    }
                    break; // lost a race for the port
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("server {} did not start after 10 attempts", bin.display());
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The pid a server reports for the admin command `getpid`.
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
    String::from_utf8_lossy(&reply)
        .strip_prefix("OK ")?
        .trim()
        .parse()
        .ok()
}
