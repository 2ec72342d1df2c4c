//! Real database engines for the PostgreSQL and Redis store tests: each test starts its own
//! server on a free 127.0.0.1 port in a temporary directory and stops it by its pid (also when
//! the test fails: the guards stop them when dropped).
//!
//! PostgreSQL comes from Debian's `postgresql` package (`/usr/lib/postgresql/<version>/bin`, or
//! the directory in `GEARMAN_PG_BIN`). It refuses to run as root, so when the tests run as root
//! (CI does) the cluster belongs to the `postgres` user (or `nobody`) and the server runs as
//! that user. Redis is `redis-server` from the PATH. A missing engine skips the test, unless
//! `GEARMAN_COMPAT_REQUIRED=1`, which makes it fail.
#![allow(dead_code)]

use crate::common::{compat_required, free_port};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Says why the caller skips, or panics when `GEARMAN_COMPAT_REQUIRED=1`.
fn skip_or_fail(what: &str) {
    if compat_required() {
        panic!(
            "{what} is missing and GEARMAN_COMPAT_REQUIRED=1 (install postgresql and redis-server)"
        );
    }
    eprintln!("SKIPPED: {what} is not installed (set GEARMAN_COMPAT_REQUIRED=1 to make this fail)");
}

fn temp_dir(kind: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gearman-{kind}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) with the pid of a child we spawned and have not reaped yet.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// Sends `sig`, waits up to `grace` for the exit, then SIGKILLs; reaps the child.
fn stop_child(child: &mut Child, sig: libc::c_int, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    signal(child.id(), sig);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The PostgreSQL binaries directory (highest installed version).
fn pg_bin() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GEARMAN_PG_BIN") {
        return Some(PathBuf::from(d));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

/// The unprivileged user (uid, gid) the cluster runs as when we are root.
fn pg_user() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in ["postgres", "nobody"] {
        let c = CString::new(name).expect("no NUL");
        // SAFETY: getpwnam with a NUL-terminated name; the record is read at once.
        let pw = unsafe { libc::getpwnam(c.as_ptr()) };
        if !pw.is_null() {
            // SAFETY: pw is a valid record returned just above.
            return Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) });
        }
    }
    panic!("running as root and neither a 'postgres' nor a 'nobody' user exists");
}

fn chown_all(path: &Path, owner: Option<(u32, u32)>) {
    let Some((uid, gid)) = owner else { return };
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).expect("chown");
    if path.is_dir() {
        for e in std::fs::read_dir(path).expect("read_dir").flatten() {
            chown_all(&e.path(), owner);
        }
    }
}

/// The database user the tests connect as (created by initdb, trusted on loopback).
pub const PG_USER: &str = "gearman";

/// A PostgreSQL cluster of its own, stopped (fast shutdown) and removed when dropped.
pub struct Postgres {
    bin: PathBuf,
    dir: PathBuf,
    owner: Option<(u32, u32)>,
    pub port: u16,
    child: Option<Child>,
}

impl Postgres {
    /// initdb + start; `None` when PostgreSQL is not installed (and not required).
    pub fn start() -> Option<Postgres> {
        let Some(bin) = pg_bin() else {
            skip_or_fail("PostgreSQL (/usr/lib/postgresql/*/bin/postgres)");
            return None;
        };
        let dir = temp_dir("pg");
        let owner = pg_user();
        chown_all(&dir, owner);
        let data = dir.join("data");
        let mut initdb = Command::new(bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", PG_USER, "--auth=trust", "--no-locale", "-E", "UTF8"])
            .args(["--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .current_dir(&dir);
        if let Some((uid, gid)) = owner {
            initdb.uid(uid).gid(gid);
        }
        let out = initdb.output().expect("run initdb");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut pg = Postgres {
            bin,
            dir,
            owner,
            port: 0,
            child: None,
        };
        for _ in 0..5 {
            pg.port = free_port();
            if pg.launch() {
                return Some(pg);
            }
        }
        panic!("PostgreSQL did not start: {}", pg.log());
    }

    /// Starts the server on `self.port`; false when the port was taken meanwhile.
    fn launch(&mut self) -> bool {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("postgres.log"))
            .expect("log file");
        let mut cmd = Command::new(self.bin.join("postgres"));
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            // Commits reach the kernel before they are acknowledged, which is what the tests
            // stop and kill; flushing the kernel's cache to disk only costs time here.
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=30", "-c", "shared_buffers=16MB"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .current_dir(&self.dir);
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let mut child = cmd.spawn().expect("start postgres");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false; // port taken (or worse: the caller reports the log)
            }
            if postgres::Client::connect(&self.conninfo_on(self.port), postgres::NoTls).is_ok() {
                self.child = Some(child);
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        stop_child(&mut child, libc::SIGQUIT, Duration::from_secs(5));
        panic!("PostgreSQL did not accept connections: {}", self.log());
    }

    fn conninfo_on(&self, port: u16) -> String {
        format!("host=127.0.0.1 port={port} user={PG_USER} dbname=postgres connect_timeout=5")
    }

    /// The `--libpq-conninfo` of this cluster.
    pub fn conninfo(&self) -> String {
        self.conninfo_on(self.port)
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.conninfo(), postgres::NoTls)
            .expect("connect to the test cluster")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Fast shutdown (SIGINT: sessions ended, committed work kept), as an operator restarts it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, libc::SIGINT, Duration::from_secs(20));
        }
    }

    /// Immediate shutdown (SIGQUIT: no checkpoint, crash recovery at the next start).
    pub fn crash(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, libc::SIGQUIT, Duration::from_secs(20));
        }
    }

    /// Starts the stopped cluster again on the same port.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.launch() {
            assert!(
                Instant::now() < deadline,
                "PostgreSQL did not restart: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis server of its own, stopped and removed when dropped.
pub struct Redis {
    dir: PathBuf,
    pub port: u16,
    appendonly: bool,
    child: Option<Child>,
}

fn redis_bin() -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join("redis-server"))
        .find(|p| p.exists())
}

impl Redis {
    /// Starts `redis-server`; with `appendonly` every acknowledged write is in its append-only
    /// file (what a durable queue needs), without it nothing is persisted. `None` when Redis is
    /// not installed (and not required).
    pub fn start(appendonly: bool) -> Option<Redis> {
        if redis_bin().is_none() {
            skip_or_fail("redis-server");
            return None;
        }
        let mut r = Redis {
            dir: temp_dir("redis"),
            port: 0,
            appendonly,
            child: None,
        };
        for _ in 0..5 {
            r.port = free_port();
            if r.launch() {
                return Some(r);
            }
        }
        panic!("redis-server did not start: {}", r.log());
    }

    fn launch(&mut self) -> bool {
        let bin = redis_bin().expect("checked at start");
        let mut child = Command::new(bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--daemonize", "no"])
            .args(["--appendonly", if self.appendonly { "yes" } else { "no" }])
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return false;
            }
            if let Ok(mut c) = self.try_connection() {
                // A server that is still loading its append-only file answers LOADING.
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    self.child = Some(child);
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        stop_child(&mut child, libc::SIGKILL, Duration::from_secs(1));
        panic!("redis-server did not answer: {}", self.log());
    }

    fn try_connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?
            .get_connection_with_timeout(Duration::from_secs(2))
    }

    pub fn connection(&self) -> redis::Connection {
        self.try_connection().expect("connect to the test redis")
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM: Redis writes what it must and exits, as an operator restarts it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, libc::SIGTERM, Duration::from_secs(20));
        }
    }

    /// SIGKILL: what was written to the append-only file before is all that survives.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            stop_child(&mut c, libc::SIGKILL, Duration::from_secs(1));
        }
    }

    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.launch() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not restart: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
