//! Child processes of the interop tests: reference tools run with a deadline, and long-lived
//! workers killed by their pid when the test ends (even when it panics).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A spawned process that is killed (by its pid) and reaped when dropped.
pub struct ChildGuard {
    pub child: Child,
}

impl ChildGuard {
    pub fn spawn(cmd: &mut Command) -> ChildGuard {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
        ChildGuard { child }
    }

    /// Reads stdout lines until one equals `want` (the child's "I am ready" signal).
    pub fn wait_for_line(&mut self, want: &str, timeout: Duration) {
        let out = self.child.stdout.take().expect("stdout piped");
        let want = want.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if line == want {
                    let _ = tx.send(());
                }
            }
        });
        if rx.recv_timeout(timeout).is_err() {
            let mut err = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                let _ = self.child.kill();
                let _ = e.read_to_string(&mut err);
            }
            panic!("child did not print its ready line: {err}");
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion with stdin `input`, killing it after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, input: &[u8], timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin piped");
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let pid = child.id();
    let deadline = Instant::now() + timeout;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // Kill just this child by its pid, then report.
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
    };
    let _ = feeder.join();
    out
}

/// stdout of a command that must succeed within `timeout`.
pub fn stdout_of(cmd: &mut Command, input: &[u8], timeout: Duration) -> String {
    let out = run_with_timeout(cmd, input, timeout);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A `Command` for a tool found by `reference_tool`.
pub fn tool(path: &Path) -> Command {
    Command::new(path)
}
