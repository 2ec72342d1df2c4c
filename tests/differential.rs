//! Differential tests of the C library: the same C programs, compiled once against Debian's
//! libgearman 1.1.20 headers, run with the system `libgearman.so.8` and with ours (chosen by
//! `LD_LIBRARY_PATH`), and their outputs compared byte for byte.
//!
//! * The reference output of each program in `tests/cprog/` is its run with the system library
//!   against Debian's `/usr/sbin/gearmand`. The programs print only deterministic things
//!   (return-code names, payloads, masked handles), so two reference runs must be identical.
//! * The system library against the server under test (ours, unless `GEARMAND_BIN` names
//!   another) must give the reference output: that is a differential test of the server.
//! * Our library (directory `GEARMAN_LIBDIR_UNDER_TEST`, else `target/<profile>/` when it holds
//!   a `libgearman.so.8`) against the server under test must give the reference output: each
//!   program that differs is named and its `diff -u` shown.
//! * The `c-examples/` build with their Makefile and run in pairs (worker + client) with both
//!   libraries; an AddressSanitizer build of them runs too.
//! * `tests/php_client/{worker,client}.php` on Debian's php8.2-gearman (its extension links
//!   `libgearman.so.8`, so `LD_LIBRARY_PATH` switches it), and Debian's `gearman` tool, compared
//!   the same way.
//! * The reference outputs are also stored (`tests/cprog/expected/`, `tests/php_client/
//!   expected.out`); `GEARMAN_BLESS=1` rewrites them.
//!
//! Debian's headers, library, server and `make` are reference tools: a missing one skips the
//! test with a note, or fails it under `GEARMAN_COMPAT_REQUIRED=1`.
mod common;
#[path = "differential/cprog.rs"]
mod cprog;
#[path = "differential/examples.rs"]
mod examples;
#[path = "differential/gearman_tool.rs"]
mod gearman_tool;
#[path = "differential/php.rs"]
mod php;
#[path = "differential/pkgconfig.rs"]
mod pkgconfig;
#[path = "differential/server.rs"]
mod server;

use common::reference_tool;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const SYSTEM_LIB: &str = "/usr/lib/x86_64-linux-gnu/libgearman.so.8";
const SYSTEM_HEADER: &str = "/usr/include/libgearman-1.0/gearman.h";
const REFERENCE_SERVER: &str = "/usr/sbin/gearmand";
/// A program that runs longer than this is killed and reported (each also has its own alarm).
const PROGRAM_TIMEOUT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn system_libdir() -> PathBuf {
    Path::new(SYSTEM_LIB)
        .parent()
        .expect("libdir")
        .to_path_buf()
}

/// The directory of our `libgearman.so.8`: `GEARMAN_LIBDIR_UNDER_TEST` when set, else a
/// directory made for this run with `libgearman.so.8` linked to the cdylib cargo just built.
fn our_libdir() -> Option<PathBuf> {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(dir) = std::env::var_os("GEARMAN_LIBDIR_UNDER_TEST").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("libgearman.so.8").exists(),
            "GEARMAN_LIBDIR_UNDER_TEST={} holds no libgearman.so.8",
            dir.display()
        );
        return Some(dir);
    }
    Some(DIR.get_or_init(link_our_cdylib).clone())
}

/// Copies `target/<profile>/libgearman.so` (the cdylib) as `libgearman.so.8` into a fresh
/// directory (a copy, not a link, so the loaded path shows which library ran).
fn link_our_cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir");
    let profile = deps.parent().expect("profile dir");
    let lib = [deps, profile]
        .iter()
        .map(|d| d.join("libgearman.so"))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("our cdylib libgearman.so is not in {}", profile.display()));
    let dir = profile.join(format!("libgearman-under-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create lib dir");
    let link = dir.join("libgearman.so.8");
    std::fs::copy(&lib, &link).expect("copy our library");
    dir
}

/// True when the server under test is the reference gearmand itself (`GEARMAND_BIN` names it):
/// the reference runs then already cover "system library on the server under test".
fn server_under_test_is_reference() -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    canonical(&common::server_bin()) == canonical(Path::new(REFERENCE_SERVER))
}

/// The Debian reference files every test here needs, or `None` (skip) after a note.
fn reference_setup() -> Option<()> {
    reference_tool(SYSTEM_HEADER)?;
    reference_tool(SYSTEM_LIB)?;
    reference_tool(REFERENCE_SERVER)?;
    Some(())
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Waits for a child with a deadline, killing it when it is exceeded. Its piped stdout and
/// stderr are drained by threads meanwhile, so a chatty child cannot block on a full pipe.
fn wait_output(child: Child, what: &str) -> Output {
    wait_output_within(child, what, PROGRAM_TIMEOUT).unwrap_or_else(|out| {
        panic!(
            "{what} ran longer than {PROGRAM_TIMEOUT:?}; stdout so far:\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// As `wait_output` with a given deadline; a child still running then is killed and its
/// output returned as the error.
fn wait_output_within(mut child: Child, what: &str, limit: Duration) -> Result<Output, Output> {
    fn drain<R: std::io::Read + Send + 'static>(
        pipe: Option<R>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() > deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().expect("wait after kill");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{what}: wait failed: {e}"),
        }
    };
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    if timed_out {
        Err(out)
    } else {
        Ok(out)
    }
}

/// `diff -u` of two texts (labelled), for the report.
fn unified_diff(a: &str, b: &str, label_a: &str, label_b: &str) -> String {
    let dir = scratch_dir("diff");
    let tag = format!("{}-{:?}", std::process::id(), std::thread::current().id());
    let fa = dir.join(format!("{tag}-a"));
    let fb = dir.join(format!("{tag}-b"));
    std::fs::write(&fa, a).expect("write");
    std::fs::write(&fb, b).expect("write");
    let out = Command::new("diff")
        .arg("-u")
        .arg("--label")
        .arg(label_a)
        .arg("--label")
        .arg(label_b)
        .arg(&fa)
        .arg(&fb)
        .output();
    let _ = std::fs::remove_file(&fa);
    let _ = std::fs::remove_file(&fb);
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout).into_owned(),
        Err(_) => format!("--- {label_a}\n{a}\n+++ {label_b}\n{b}"),
    }
}

/// Checks a reference output against its stored copy (`expected` path, relative to the
/// repository); `GEARMAN_BLESS=1` rewrites the copy instead. The stored copies document what
/// 1.1.20 prints and flag a change of the reference packages.
fn check_golden(expected: &str, actual: &str) -> Result<(), String> {
    let path = repo().join(expected);
    if std::env::var("GEARMAN_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write golden file");
        return Ok(());
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    if stored == actual {
        return Ok(());
    }
    Err(format!(
        "{expected} differs from the reference run (GEARMAN_BLESS=1 rewrites it):\n{}",
        unified_diff(&stored, actual, expected, "reference run")
    ))
}
