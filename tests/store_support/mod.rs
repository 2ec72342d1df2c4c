//! Helpers of the durable-queue tests: a store location per test, servers started on it,
//! small file systems that fill up or turn read-only.
#![allow(dead_code)]

use crate::common::proto::cmd::*;
use crate::common::{free_port, Conn, TestServer};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The durable backends of our server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Wal,
    Sqlite,
}

pub const KINDS: [Kind; 2] = [Kind::Wal, Kind::Sqlite];

/// A directory removed (with everything in it) when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("gearman-store-{}-{name}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The `-q` options that put a store of `kind` under `dir`.
pub fn queue_args(kind: Kind, dir: &Path) -> Vec<String> {
    match kind {
        Kind::Wal => vec![
            "-q".into(),
            "wal".into(),
            format!("--wal-dir={}", dir.join("wal").display()),
        ],
        Kind::Sqlite => vec![
            "-q".into(),
            "libsqlite3".into(),
            format!("--libsqlite3-db={}", dir.join("queue.db").display()),
        ],
    }
}

/// Starts our server (handle prefix `P`) with a store of `kind` under `dir`.
pub fn start(kind: Kind, dir: &Path, extra: &[&str]) -> TestServer {
    start_queue(&queue_args(kind, dir), extra)
}

/// Starts our server (handle prefix `P`) with the store the `-q` options `queue` name.
pub fn start_queue(queue: &[String], extra: &[&str]) -> TestServer {
    let mut args: Vec<String> = vec!["--job-handle-prefix=P".into()];
    args.extend(queue.iter().cloned());
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    TestServer::start_bin(Path::new(env!("CARGO_BIN_EXE_gearmand")), &refs)
}

/// Runs our binary with `args` (plus a free port) expecting it to exit by itself; returns its
/// exit code and stderr.
pub fn run_to_exit(args: &[String]) -> (Option<i32>, String) {
    let port = free_port().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gearmand"))
        .args(["-p", &port, "-L", "127.0.0.1", "--log-file=stderr"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn gearmand");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gearmand {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout),
    )
}

/// `gearmand --queue-dump` of a store of `kind` under `dir`.
pub fn dump(kind: Kind, dir: &Path) -> String {
    let mut args = queue_args(kind, dir);
    args.push("--queue-dump".into());
    let out = Command::new(env!("CARGO_BIN_EXE_gearmand"))
        .args(&args)
        .output()
        .expect("run --queue-dump");
    assert!(
        out.status.success(),
        "--queue-dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The job count the dump's last line reports.
pub fn dumped_total(kind: Kind, dir: &Path) -> usize {
    let text = dump(kind, dir);
    text.lines()
        .last()
        .and_then(|l| l.strip_prefix("# total\t"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no total in dump: {text}"))
}

/// Submits a background job and returns the reply packet's type and payload.
pub fn submit_bg(c: &mut Conn, func: &str, unique: &[u8], data: &[u8]) -> (u32, Vec<u8>) {
    c.send(SUBMIT_JOB_BG, &[func.as_bytes(), unique, data]);
    let p = c.recv();
    (p.kind, p.payload)
}

/// Grabs jobs of `func` (GRAB_JOB_UNIQ) and completes them until NO_JOB; returns the data of
/// each job in the order they came.
pub fn run_all(server: &TestServer, func: &str) -> Vec<Vec<u8>> {
    let mut w = server.connect();
    w.can_do(&[func]);
    let mut ran = Vec::new();
    loop {
        w.send(GRAB_JOB_UNIQ, &[]);
        let p = w.recv();
        if p.kind == NO_JOB {
            break;
        }
        assert_eq!(p.kind, JOB_ASSIGN_UNIQ, "{:?}", p);
        let f = p.fields(4);
        w.send(WORK_COMPLETE, &[&f[0], b""]);
        ran.push(f[3].clone());
    }
    w.sync();
    ran
}

/// A small tmpfs mounted for one test and unmounted when dropped (needs root).
pub struct SmallFs {
    pub path: PathBuf,
    _dir: TempDir,
}

impl SmallFs {
    /// Mounts a tmpfs of `kib` KiB, or `None` when this process may not mount (or when
    /// `GEARMAN_TEST_NO_MOUNT=1` asks for the unprivileged fallbacks).
    pub fn mount(kib: u32) -> Option<SmallFs> {
        if std::env::var_os("GEARMAN_TEST_NO_MOUNT").is_some_and(|v| v == "1") {
            return None;
        }
        let dir = TempDir::new("tmpfs");
        let path = dir.path.join("fs");
        std::fs::create_dir_all(&path).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok && crate::common::compat_required() {
            panic!("cannot mount a tmpfs and GEARMAN_COMPAT_REQUIRED=1 (the CI runs as root)");
        }
        ok.then_some(SmallFs { path, _dir: dir })
    }

    /// `mount -o remount,OPTS`.
    pub fn remount(&self, opts: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{opts}")])
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "remount {opts} failed");
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}
