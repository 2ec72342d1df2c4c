//! Bad input at the C boundary: tests/c/null_abi.c calls every one of the 172 exports with NULL
//! pointers, zeroed shells (`_impl == NULL`) and over-long function names, uniques and job handles,
//! one forked child per call, printing `function(case): result` (a crash prints the signal).
//!
//! * Under our library no call may crash, every export must be covered, and each line must equal
//!   libgearman 1.1.20's (tests/c/null_abi.baseline) unless tests/c/null_abi.deviations lists our
//!   line with its reason and docs/compat-symbols.md notes the deviation for that function.
//! * With Debian's library installed, the baseline is re-measured: its output must equal the
//!   committed file (so the baseline is 1.1.20's real behaviour, crashes included).
//! * The program, built with AddressSanitizer and UndefinedBehaviorSanitizer, prints the same
//!   under our library without a single sanitizer report.

mod capi_support;
mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use capi_support::*;

const SOURCE: &str = "null_abi.c";

/// Builds tests/c/null_abi.c against our headers and library, with extra compiler flags.
fn build(scratch: &Scratch, lib: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = scratch.path(name);
    let src = c_source(SOURCE);
    let (inc, lib_arg) = (
        format!("-I{}", our_include().display()),
        format!("-L{}", lib.display()),
    );
    let mut args = vec!["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-g"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[&inc, "-o", out.to_str().expect("utf-8 path")]);
    args.extend_from_slice(&[src.to_str().expect("utf-8 path"), &lib_arg, "-lgearman"]);
    compile(&cc(), &args);
    out
}

/// Runs the program with `LD_LIBRARY_PATH = lib_dir` (and `env`): (stdout, stderr).
fn run_with(program: &Path, lib_dir: &Path, env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new(program);
    cmd.env_remove("GEARMAN_SERVERS")
        .env("LD_LIBRARY_PATH", lib_dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} exited with {}:\n{stderr}",
        program.display(),
        out.status
    );
    (String::from_utf8(out.stdout).expect("utf-8 output"), stderr)
}

/// `function(case): result` → (`function(case)`, `result`).
fn split(line: &str) -> (&str, &str) {
    line.split_once(": ")
        .unwrap_or_else(|| panic!("malformed line {line:?}"))
}

/// The function name of a `function(case)` key.
fn function_of(key: &str) -> &str {
    key.split_once('(').map_or(key, |(f, _)| f)
}

/// A result that means the call crashed, hung, or returned an address computed from NULL.
fn is_crash(result: &str) -> bool {
    result.starts_with("SIG")
        || result.starts_with("signal ")
        || result.starts_with("exit ")
        || result == "hang"
        || result.starts_with("bad ptr")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(c_source(name)).unwrap_or_else(|e| panic!("read tests/c/{name}: {e}"))
}

/// tests/c/null_abi.deviations: `function(case)` → (our full line, reason).
fn deviations() -> BTreeMap<String, (String, String)> {
    let mut map = BTreeMap::new();
    for line in read("null_abi.deviations").lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (ours, reason) = line
            .split_once("  # ")
            .unwrap_or_else(|| panic!("deviation without a reason: {line:?}"));
        assert!(!reason.trim().is_empty(), "empty reason: {line:?}");
        let key = split(ours).0.to_string();
        let old = map.insert(key.clone(), (ours.to_string(), reason.to_string()));
        assert!(
            old.is_none(),
            "{key} is listed twice in null_abi.deviations"
        );
    }
    map
}

/// The notes column of a function's row in docs/compat-symbols.md.
fn compat_note(function: &str) -> String {
    let table = std::fs::read_to_string(root().join("docs/compat-symbols.md"))
        .expect("read docs/compat-symbols.md");
    let row = table
        .lines()
        .find(|l| l.starts_with(&format!("| `{function}` |")))
        .unwrap_or_else(|| panic!("docs/compat-symbols.md has no row for {function}"));
    row.trim_end_matches('|')
        .rsplit('|')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Checks our output against the 1.1.20 baseline and the listed deviations.
fn check_against_baseline(ours: &str) {
    let baseline = read("null_abi.baseline");
    let base_lines: Vec<&str> = baseline.lines().collect();
    let our_lines: Vec<&str> = ours.lines().collect();
    assert_eq!(
        our_lines.iter().map(|l| split(l).0).collect::<Vec<_>>(),
        base_lines.iter().map(|l| split(l).0).collect::<Vec<_>>(),
        "our run and the baseline do not cover the same cases in the same order"
    );
    let mut allowed = deviations();
    let mut problems = Vec::new();
    for (ours, base) in our_lines.iter().zip(&base_lines) {
        let (key, result) = split(ours);
        if is_crash(result) {
            problems.push(format!("{ours}   <- our library must not crash"));
            continue;
        }
        match allowed.remove(key) {
            None if ours == base => {}
            None => problems.push(format!(
                "{ours}   <- 1.1.20 answers `{}`; list it in tests/c/null_abi.deviations if deliberate",
                split(base).1
            )),
            Some((listed, _)) if ours == base => problems.push(format!(
                "{listed}   <- listed as a deviation but 1.1.20 answers the same"
            )),
            Some((listed, _)) if listed != *ours => problems.push(format!(
                "{ours}   <- null_abi.deviations expects `{listed}`"
            )),
            Some(_) => {
                let function = function_of(key);
                if !compat_note(function).contains("1.1.20") {
                    problems.push(format!(
                        "{ours}   <- docs/compat-symbols.md has no 1.1.20 note for {function}"
                    ));
                }
            }
        }
    }
    for (key, (line, _)) in allowed {
        problems.push(format!(
            "{line}   <- deviation for {key}, a case the program no longer runs"
        ));
    }
    assert!(
        problems.is_empty(),
        "the C boundary differs from libgearman 1.1.20:\n  {}",
        problems.join("\n  ")
    );
}

#[test]
fn every_export_survives_bad_input_like_or_better_than_1_1_20() {
    let scratch = Scratch::new("null-abi");
    let ours = our_lib_dir(&scratch);
    let bin = build(&scratch, &ours, "null_abi", &[]);
    let (out, _) = run_with(&bin, &ours, &[]);

    // Every export is called (the C++ one through dlsym).
    let called: BTreeSet<&str> = out.lines().map(|l| function_of(split(l).0)).collect();
    let exports: BTreeSet<String> = upstream_symbols().into_iter().collect();
    let exports: BTreeSet<&str> = exports.iter().map(String::as_str).collect();
    assert_eq!(called, exports, "null_abi.c must call every export");
    assert_eq!(called.len(), 172);
    assert!(
        out.contains("_Z21gearman_actions_pausev(plain): ptr"),
        "the C++ export was not reached through dlsym"
    );
    assert!(out.lines().count() > 400, "too few cases:\n{out}");

    check_against_baseline(&out);

    // The baseline is 1.1.20's real output (re-measured wherever Debian's library is installed).
    if let Some(debian) = common::reference_tool(DEBIAN_LIB) {
        let (theirs, _) = run_with(&bin, debian.parent().expect("lib dir"), &[]);
        assert_same_output(
            "tests/c/null_abi.baseline",
            &read("null_abi.baseline"),
            "Debian libgearman.so.8",
            &theirs,
        );
    }
}

#[test]
fn no_sanitizer_report_under_our_library() {
    let scratch = Scratch::new("null-abi-asan");
    let ours = our_lib_dir(&scratch);
    let plain = build(&scratch, &ours, "null_abi", &[]);
    let asan = build(
        &scratch,
        &ours,
        "null_abi_asan",
        &[
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=undefined",
            "-fno-omit-frame-pointer",
        ],
    );
    let (expected, _) = run_with(&plain, &ours, &[]);
    // Leak checking is item 6's soak; the children _exit() with objects alive on purpose.
    let (out, err) = run_with(
        &asan,
        &ours,
        &[
            ("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0"),
            ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        ],
    );
    for marker in [
        "AddressSanitizer",
        "runtime error",
        "UndefinedBehaviorSanitizer",
    ] {
        assert!(!err.contains(marker), "sanitizer report:\n{err}");
    }
    assert_same_output("plain build", &expected, "sanitized build", &out);
}
