//! The C test programs of `tests/cprog/`: reference determinism, the system library on the
//! server under test, and our library (plain and ASan/UBSan builds).
use super::*;
use crate::server::Server;
use common::free_port;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::OnceLock;

/// `tests/cprog/*.c`, each compiled against Debian's headers and linked to the library by
/// its soname (`libgearman.so.8`), so `LD_LIBRARY_PATH` decides which one is loaded.
fn programs() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| build_programs("cprog", &[]))
}

/// The same programs built with AddressSanitizer and UBSan: run with our library they check
/// its memory handling (double or foreign frees, overflows, leaks of the do() results the
/// programs free) on every path the programs take. Undefined behaviour is not recoverable in
/// these builds (`-fno-sanitize-recover`): a UBSan finding ends the program with an error
/// instead of a line on stderr the comparison would not see.
fn asan_programs() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        build_programs(
            "cprog-asan",
            &[
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
            ],
        )
    })
}

fn build_programs(out_name: &str, extra_flags: &[&str]) -> BTreeMap<String, PathBuf> {
    let src = repo().join("tests/cprog");
    let out = scratch_dir(out_name);
    let mut built = BTreeMap::new();
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("tests/cprog")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    sources.sort();
    for source in sources {
        let name = source
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let exe = out.join(&name);
        let output = Command::new("cc")
            .args([
                "-std=c99",
                "-D_DEFAULT_SOURCE",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-O1",
                "-g",
                "-pthread",
            ])
            .args(extra_flags)
            .arg("-o")
            .arg(&exe)
            .arg(&source)
            .arg(SYSTEM_LIB)
            .output()
            .expect("cannot run cc");
        assert!(
            output.status.success(),
            "cc {} failed:\n{}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        built.insert(name, exe);
    }
    assert!(!built.is_empty(), "no C programs in {}", src.display());
    built
}

#[derive(Clone, Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Exit 0 and no sanitizer report on stderr (a report that did not end the program, e.g.
    /// a recoverable UBSan finding, still fails the run).
    fn ok(&self) -> bool {
        self.code == Some(0) && !sanitizer_report(&self.stderr)
    }
}

/// Whether a program's stderr holds an ASan, LSan or UBSan report.
fn sanitizer_report(stderr: &str) -> bool {
    stderr.contains("runtime error:") || stderr.contains("Sanitizer")
}

/// Which `libgearman.so.8` the dynamic linker resolves for `exe` under `libdir`.
fn resolved_library(exe: &Path, libdir: &Path) -> String {
    let out = Command::new(exe)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .env("LD_LIBRARY_PATH", libdir)
        .output()
        .expect("trace loaded objects");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find(|l| l.contains("libgearman.so.8"))
        .and_then(|l| l.split("=>").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or("<not found>")
        .to_string()
}

/// Runs one C program against a fresh server (`server_bin`) with the library of `libdir`.
fn run_program(exe: &Path, libdir: &Path, server_bin: &Path) -> Run {
    let resolved = resolved_library(exe, libdir);
    assert!(
        Path::new(&resolved).parent() == Some(libdir)
            || std::fs::canonicalize(&resolved)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                == std::fs::canonicalize(libdir).ok(),
        "{} would load {resolved}, not the library of {}",
        exe.display(),
        libdir.display()
    );
    let server = Server::start(server_bin);
    let dead_port = free_port();
    let child = Command::new(exe)
        .arg("127.0.0.1")
        .arg(server.port.to_string())
        .arg(dead_port.to_string())
        .env("LD_LIBRARY_PATH", libdir)
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .env_remove("GEARMAN_SERVERS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let out = wait_output(child, &exe.display().to_string());
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    if !run.ok() {
        eprintln!("server log of the failed run:\n{}", server.log());
    }
    run
}

/// Each program's reference run: system library, Debian's gearmand.
fn reference_outputs() -> &'static BTreeMap<String, Run> {
    static REF: OnceLock<BTreeMap<String, Run>> = OnceLock::new();
    REF.get_or_init(|| {
        programs()
            .iter()
            .map(|(name, exe)| {
                (
                    name.clone(),
                    run_program(exe, &system_libdir(), Path::new(REFERENCE_SERVER)),
                )
            })
            .collect()
    })
}

/// Compares each program's run with `libdir` + `server_bin` to its reference run, byte for
/// byte; panics with a report naming every program that differs. (Where our library
/// deliberately differs from 1.1.20, the behaviour is tested by itself elsewhere, e.g.
/// tests/capi_compat.rs, not here against a stored copy of our own output.)
fn compare_with_reference(
    programs: &BTreeMap<String, PathBuf>,
    libdir: &Path,
    server_bin: &Path,
    what: &str,
) {
    let reference = reference_outputs();
    let mut report = String::new();
    let mut differing = Vec::new();
    for (name, exe) in programs {
        let expected = &reference[name];
        assert!(
            expected.ok(),
            "reference run of {name} failed: {expected:?}"
        );
        let got = run_program(exe, libdir, server_bin);
        if got.ok() && got.stdout == expected.stdout {
            report.push_str(&format!("  {name}: same\n"));
            continue;
        }
        differing.push(name.clone());
        report.push_str(&format!("  {name}: DIFFERS (exit {:?})\n", got.code));
        report.push_str(&unified_diff(
            &expected.stdout,
            &got.stdout,
            &format!("{name} (system library, Debian gearmand)"),
            &format!("{name} ({what})"),
        ));
        if !got.stderr.is_empty() {
            report.push_str(&format!("  stderr of {name}:\n{}\n", got.stderr));
        }
    }
    eprintln!("{what}:\n{report}");
    assert!(
        differing.is_empty(),
        "{what}: {} program(s) differ from the reference: {differing:?} (report above)",
        differing.len()
    );
}

#[test]
fn reference_runs_are_deterministic() {
    if reference_setup().is_none() {
        return;
    }
    let mut problems = Vec::new();
    for (name, exe) in programs() {
        let first = &reference_outputs()[name];
        if !first.ok() || first.stdout.is_empty() {
            problems.push(format!(
                "{name}: exit {:?}\n{}\n{}",
                first.code, first.stdout, first.stderr
            ));
            continue;
        }
        if let Err(e) = check_golden(&format!("tests/cprog/expected/{name}.out"), &first.stdout) {
            problems.push(e);
        }
        let second = run_program(exe, &system_libdir(), Path::new(REFERENCE_SERVER));
        if !second.ok() || second.stdout != first.stdout {
            problems.push(format!(
                "{name}: second run differs (exit {:?})\n{}",
                second.code,
                unified_diff(&first.stdout, &second.stdout, "first run", "second run")
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "reference runs:\n{}",
        problems.join("\n")
    );
}

#[test]
fn system_library_on_server_under_test() {
    if reference_setup().is_none() {
        return;
    }
    if server_under_test_is_reference() {
        eprintln!(
            "server under test is {}: the reference test covers it",
            common::server_bin().display()
        );
        return;
    }
    compare_with_reference(
        programs(),
        &system_libdir(),
        &common::server_bin(),
        "system library, our gearmand",
    );
}

#[test]
fn our_library_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(dir) = our_libdir() else { return };
    let server = common::server_bin();
    compare_with_reference(
        programs(),
        &dir,
        &server,
        &format!("our library {}, server {}", dir.display(), server.display()),
    );
}

/// The ASan builds with the system library and Debian's gearmand print the reference output
/// (so the check below blames only the library under test).
#[test]
fn asan_builds_match_reference() {
    if reference_setup().is_none() {
        return;
    }
    compare_with_reference(
        asan_programs(),
        &system_libdir(),
        Path::new(REFERENCE_SERVER),
        "ASan builds, system library, Debian gearmand",
    );
}

#[test]
fn our_library_under_asan_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(dir) = our_libdir() else { return };
    let server = common::server_bin();
    compare_with_reference(
        asan_programs(),
        &dir,
        &server,
        &format!(
            "ASan builds, our library {}, server {}",
            dir.display(),
            server.display()
        ),
    );
}

/// The ASan/UBSan builds fail a run on undefined behaviour: a program with a signed overflow,
/// built with the same flags, does not pass as `ok`.
#[test]
fn a_ubsan_finding_fails_the_run() {
    let dir = scratch_dir("ubsan-self-test");
    let src = dir.join("overflow.c");
    std::fs::write(
        &src,
        "#include <limits.h>\n#include <stdio.h>\n#include <stdlib.h>\n\
         int main(int argc, char **argv) {\n  (void)argv;\n  int x = INT_MAX - 1 + argc;\n  \
         x += argc; /* overflows */\n  printf(\"%d\\n\", x);\n  return 0;\n}\n",
    )
    .expect("write");
    let exe = dir.join("overflow");
    let out = Command::new("cc")
        .args([
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            "-o",
        ])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("cc");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&exe)
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .output()
        .expect("run");
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.ok(), "a UBSan finding passed: {run:?}");
    assert!(run.stderr.contains("runtime error:"), "{run:?}");
}
