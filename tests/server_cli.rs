//! Command-line options of the server (spec §5): version text, argument checking, exit codes.
mod common;

use common::proto::{cmd::*, server};
use common::server_bin;
use std::process::{Command, Output};
use std::time::Duration;

fn run(args: &[&str]) -> Output {
    common::procs::run_with_timeout(
        Command::new(server_bin()).args(args),
        b"",
        Duration::from_secs(5),
    )
}

#[test]
fn version_text() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "\ngearmand 1.1.20+ds - https://github.com/gearman/gearmand/issues\n"
    );
}

#[test]
fn check_args_accepts_valid_options_and_exits() {
    for args in [
        &["--check-args"][..],
        &["--check-args", "-p", "4999", "-j", "3", "-w", "2", "-R"],
        &[
            "--check-args",
            "--job-handle-prefix=X",
            "--exceptions",
            "-t",
            "0",
        ],
        &["--check-args", "--verbose=DEBUG", "--log-file=none"],
        &[
            "--check-args",
            "-b",
            "64",
            "--keepalive",
            "--keepalive-idle=5",
        ],
        &[
            "--check-args",
            "--keepalive-interval=5",
            "--keepalive-count=3",
        ],
        &[
            "--check-args",
            "--hashtable-buckets=10",
            "-f",
            "1024",
            "--coredump",
        ],
        &[
            "--check-args",
            "-q",
            "builtin",
            "--threads=2",
            "--round-robin",
        ],
        &[
            "--check-args",
            "--worker-wakeup=1",
            "--job-retries=2",
            "-l",
            "stderr",
        ],
        &["--check-args", "--config-file=/dev/null"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {out:?}");
    }
}

#[test]
fn invalid_options_exit_with_status_1_and_say_why() {
    for (args, mentions) in [
        (&["--bogus", "--check-args"][..], "--bogus"),
        (&["-v", "--check-args"], "-v"),
        (&["--verbose=info", "--check-args"], "verbose"),
        (
            &["--hashtable-buckets=0", "--check-args"],
            "hashtable-buckets",
        ),
        (&["--job-retries=abc", "--check-args"], "job-retries"),
        (
            &["--config-file=/nonexistent/gearmand.conf", "--check-args"],
            "onfig",
        ),
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(mentions), "{args:?}: stderr {err:?}");
    }
}

#[test]
fn unwritable_pid_file_is_fatal() {
    let port = common::free_port().to_string();
    let out = run(&[
        "-p",
        &port,
        "-L",
        "127.0.0.1",
        "--log-file=stderr",
        "--pid-file=/nonexistent/dir/gearmand.pid",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir/gearmand.pid"));
}

#[test]
fn thread_counts_all_serve() {
    for t in ["0", "1", "8"] {
        let s = server(&["-t", t]);
        let mut c = s.connect();
        let handle = c.submit(SUBMIT_JOB, "f", b"", b"x");
        let mut w = s.connect();
        w.can_do(&["f"]);
        let (h, _, _) = w.grab_job();
        assert_eq!(h, handle);
        w.work(WORK_COMPLETE, &h, b"r");
        c.expect(WORK_COMPLETE);
    }
}

#[test]
fn handle_prefix_long_option_forms() {
    let s = common::TestServer::start(&["--job-handle-prefix", "spaced"]);
    assert_eq!(
        s.connect().submit(SUBMIT_JOB_BG, "f", b"", b""),
        b"spaced:1"
    );
}

#[test]
fn config_file_holds_command_line_tokens() {
    let dir = std::env::temp_dir().join(format!("gearman-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conf = dir.join("gearmand.conf");
    std::fs::write(&conf, "--job-handle-prefix=CF\n--exceptions\n").expect("write config");
    let s = common::TestServer::start(&[&format!("--config-file={}", conf.display())]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"", b""), b"CF:1");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (h, _, _) = w.grab_job();
    w.work(WORK_EXCEPTION, &h, b"e");
    c.expect_pkt(WORK_EXCEPTION, b"CF:1\0e");
    let _ = std::fs::remove_dir_all(&dir);
}
