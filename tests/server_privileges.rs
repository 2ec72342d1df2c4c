//! Running as a system service: `-u/--user` (started as root, serving as another user),
//! `--syslog`, and readiness notification for systemd (`$NOTIFY_SOCKET`, ours only).
//! The `-u` and `--syslog` tests run against Debian's gearmand too (`GEARMAND_BIN`).

mod common;

use common::procs::ChildGuard;
use common::{free_port, is_ours, server_bin};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn skip(why: &str) {
    if common::compat_required() {
        panic!("{why} and GEARMAN_COMPAT_REQUIRED=1");
    }
    eprintln!("SKIPPED: {why}");
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gearman-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Sends `version` and returns the reply line, retrying until the server listens.
fn version(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            s.write_all(b"version\n").expect("send version");
            let mut line = String::new();
            BufReader::new(s)
                .read_line(&mut line)
                .expect("version reply");
            return line;
        }
        assert!(Instant::now() < deadline, "server on {port} never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `Uid:` line of /proc/PID/status: real, effective, saved, filesystem ids.
fn ids(pid: u32, key: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| {
            v.split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn user_option_switches_to_nobody_and_still_serves() {
    if !is_root() {
        return skip("-u needs the tests to run as root");
    }
    let port = free_port();
    let mut server = ChildGuard::spawn(
        Command::new(server_bin())
            .args([
                "-p",
                &port.to_string(),
                "-L",
                "127.0.0.1",
                "--log-file=stderr",
            ])
            .args(["-u", "nobody"]),
    );
    assert_eq!(version(port), "OK 1.1.20+ds\n");
    let nobody = 65534;
    let deadline = Instant::now() + Duration::from_secs(5);
    while ids(server.pid(), "Uid:") != [nobody; 4] && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(ids(server.pid(), "Uid:"), [nobody; 4]);
    assert_eq!(ids(server.pid(), "Gid:"), [nobody; 4]);
    if is_ours() {
        // Root's supplementary groups are dropped as well (1.1.20 keeps them).
        assert!(!ids(server.pid(), "Groups:").contains(&0));
    }
    // Still serving after the switch: a job round trip on the raw protocol.
    let mut admin = TcpStream::connect(("127.0.0.1", port)).unwrap();
    admin.write_all(b"status\n").unwrap();
    let mut line = String::new();
    BufReader::new(&admin).read_line(&mut line).unwrap();
    assert_eq!(line, ".\n");
    assert!(server.child.try_wait().unwrap().is_none());
}

#[test]
fn user_option_errors_match_gearmand() {
    let port = free_port().to_string();
    let out = Command::new(server_bin())
        .args(["-p", &port, "-L", "127.0.0.1", "--log-file=none"])
        .args(["-u", "no-such-user-gearman-rs"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("Could not find user : no-such-user-gearman-rs"),
        "{out:?}"
    );
    if !is_root() {
        return;
    }
    // As a user other than root, -u is refused with gearmand's message.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(server_bin())
        .args([
            "-p",
            &port,
            "-L",
            "127.0.0.1",
            "--log-file=none",
            "-u",
            "nobody",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Must be root to switch users."),
        "{out:?}"
    );
}

/// Runs `bin args` in a private mount namespace whose /dev holds only `null` and a `log`
/// socket the test reads (syslog(3) writes to /dev/log).
fn spawn_with_dev_log(dir: &Path, args: &[String]) -> ChildGuard {
    let script = r#"set -e
d=$1; shift
mkdir -p "$d/dev"; touch "$d/dev/null" "$d/dev/log"
mount --bind /dev/null "$d/dev/null"
mount --bind "$d/log.sock" "$d/dev/log"
mount --rbind "$d/dev" /dev
exec "$@""#;
    ChildGuard::spawn(
        Command::new("unshare")
            .args([
                "--mount",
                "--propagation",
                "private",
                "sh",
                "-c",
                script,
                "sh",
            ])
            .arg(dir)
            .arg(server_bin())
            .args(args),
    )
}

#[test]
fn syslog_option_logs_to_syslog() {
    if !is_root() || Command::new("unshare").arg("--version").output().is_err() {
        return skip("--syslog test needs root and unshare(1) for a private /dev/log");
    }
    let dir = scratch("syslog");
    let rx = UnixDatagram::bind(dir.join("log.sock")).expect("bind log socket");
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = free_port();
    let args: Vec<String> = ["-p", &port.to_string(), "-L", "127.0.0.1"]
        .iter()
        .map(|s| s.to_string())
        .chain(["--syslog", "--verbose=INFO", "--log-file=none"].map(String::from))
        .collect();
    let server = spawn_with_dev_log(&dir, &args);
    assert_eq!(version(port), "OK 1.1.20+ds\n");
    let mut buf = vec![0u8; 4096];
    let n = rx.recv(&mut buf).expect("a syslog datagram");
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    // <PRI>: facility LOG_USER (1 << 3) plus a level; the ident is gearmand with its pid.
    let pri: u32 = msg[1..msg.find('>').unwrap()].parse().unwrap();
    assert_eq!(pri >> 3, 1, "{msg}");
    assert!(
        msg.contains(&format!("gearmand[{}]:", server.pid())),
        "{msg}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readiness_is_notified_once_the_port_listens() {
    if !is_ours() {
        return; // gearmand 1.1.20 has no systemd notification
    }
    let dir = scratch("notify");
    let sock = dir.join("notify.sock");
    let rx = UnixDatagram::bind(&sock).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let port = free_port();
    // -d is ignored under a service manager: the process we started keeps serving.
    let mut server = ChildGuard::spawn(
        Command::new(server_bin())
            .args([
                "-p",
                &port.to_string(),
                "-L",
                "127.0.0.1",
                "--log-file=none",
                "-d",
            ])
            .env("NOTIFY_SOCKET", &sock),
    );
    let mut buf = [0u8; 512];
    let n = rx.recv(&mut buf).expect("READY notification");
    let ready = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(ready.lines().any(|l| l == "READY=1"), "{ready}");
    assert!(
        ready
            .lines()
            .any(|l| l == format!("MAINPID={}", server.pid())),
        "{ready}"
    );
    // Ready means listening: a connection made right now is accepted.
    TcpStream::connect(("127.0.0.1", port)).expect("listening when READY=1 arrives");
    assert_eq!(version(port), "OK 1.1.20+ds\n");
    assert!(server.child.try_wait().unwrap().is_none(), "-d detached");
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(server.pid() as i32, libc::SIGTERM) };
    let n = rx.recv(&mut buf).expect("STOPPING notification");
    assert_eq!(&buf[..n], b"STOPPING=1");
    assert!(server.child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}
