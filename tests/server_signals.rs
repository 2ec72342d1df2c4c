//! Signals and shutdown (spec §3.17, §5): SIGTERM/SIGINT exit 0 and remove the pid file,
//! SIGUSR1 closes the listener and keeps serving existing connections.
mod common;

use common::proto::{cmd::*, server};
use std::net::TcpStream;
use std::time::Duration;

fn assert_clean_exit(sig: &str) {
    let mut s = server(&[]);
    let pid_file = s.pid_file();
    let written = std::fs::read_to_string(&pid_file).expect("pid file written at startup");
    assert_eq!(written.trim(), s.pid().to_string());
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"queued");
    s.signal(sig);
    let code = s.wait_exit(Duration::from_secs(5));
    assert_eq!(code, Some(Some(0)), "exit status after SIG{sig}");
    assert!(!pid_file.exists(), "pid file removed on exit");
}

#[test]
fn sigterm_exits_zero_and_removes_the_pid_file() {
    assert_clean_exit("TERM");
}

#[test]
fn sigint_exits_zero_and_removes_the_pid_file() {
    assert_clean_exit("INT");
}

#[test]
fn sigusr1_closes_the_listener_and_keeps_connections() {
    let mut s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"queued");
    s.signal("USR1");
    assert!(
        common::proto::eventually(Duration::from_secs(3), || TcpStream::connect((
            "127.0.0.1",
            s.port
        ))
        .is_err()),
        "new connections are refused after SIGUSR1"
    );
    // The existing connection still works, and so does the job.
    c.sync();
    c.can_do(&["f"]);
    let (handle, _, data) = c.grab_job();
    assert_eq!(data, b"queued");
    c.work(WORK_COMPLETE, &handle, b"");
    // A second signal ends it for good.
    s.signal("TERM");
    assert_eq!(s.wait_exit(Duration::from_secs(5)), Some(Some(0)));
}
