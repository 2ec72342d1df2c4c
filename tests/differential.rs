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

use common::{free_port, reference_tool, TestServer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
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

/// The directory of our `libgearman.so.8`, if there is one to test.
/// `GEARMAN_LIBDIR_UNDER_TEST` must hold it when set; otherwise `target/<profile>/` is used
/// when it holds one.
fn our_libdir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("GEARMAN_LIBDIR_UNDER_TEST").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("libgearman.so.8").exists(),
            "GEARMAN_LIBDIR_UNDER_TEST={} holds no libgearman.so.8",
            dir.display()
        );
        return Some(dir);
    }
    let profile_dir = Path::new(env!("CARGO_BIN_EXE_gearmand"))
        .parent()
        .expect("target dir")
        .to_path_buf();
    if profile_dir.join("libgearman.so.8").exists() {
        return Some(profile_dir);
    }
    eprintln!(
        "SKIPPED (our library): no libgearman.so.8 in {} and GEARMAN_LIBDIR_UNDER_TEST is not set",
        profile_dir.display()
    );
    None
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

// ------------------------------------------------------------------ C test programs ----

/// `tests/cprog/*.c`, each compiled against Debian's headers and linked to the library by
/// its soname (`libgearman.so.8`), so `LD_LIBRARY_PATH` decides which one is loaded.
fn programs() -> &'static BTreeMap<String, PathBuf> {
    static BUILT: OnceLock<BTreeMap<String, PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let src = repo().join("tests/cprog");
        let out = scratch_dir("cprog");
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
                ])
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
    })
}

#[derive(Clone, Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn ok(&self) -> bool {
        self.code == Some(0)
    }
}

/// Waits for a child with a deadline, killing it when it is exceeded.
fn wait_output(mut child: Child, what: &str) -> Output {
    let deadline = Instant::now() + PROGRAM_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("output"),
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("output");
                panic!(
                    "{what} ran longer than {PROGRAM_TIMEOUT:?}; stdout so far:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("{what}: wait failed: {e}"),
        }
    }
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
    let server = TestServer::start_bin(server_bin, &[]);
    let dead_port = free_port();
    let child = Command::new(exe)
        .arg("127.0.0.1")
        .arg(server.port.to_string())
        .arg(dead_port.to_string())
        .env("LD_LIBRARY_PATH", libdir)
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

/// Compares each program's run with `libdir` + the server under test to its reference run;
/// panics with a report naming every program that differs.
fn compare_with_reference(libdir: &Path, what: &str) {
    let reference = reference_outputs();
    let mut report = String::new();
    let mut differing = Vec::new();
    for (name, exe) in programs() {
        let expected = &reference[name];
        assert!(
            expected.ok(),
            "reference run of {name} failed: {expected:?}"
        );
        let got = run_program(exe, libdir, &common::server_bin());
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

#[test]
fn cprog_reference_runs_are_deterministic() {
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
fn cprog_system_library_on_server_under_test() {
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
    compare_with_reference(&system_libdir(), "system library, our gearmand");
}

#[test]
fn cprog_our_library_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(dir) = our_libdir() else { return };
    let server = common::server_bin();
    compare_with_reference(
        &dir,
        &format!("our library {}, server {}", dir.display(), server.display()),
    );
}

// ---------------------------------------------------------------------- c-examples ----

/// The c-examples built by their own Makefile in a scratch copy (`make`, then `make asan`).
fn examples() -> Option<&'static PathBuf> {
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let make = reference_tool("/usr/bin/make")?;
            let dir = scratch_dir("c-examples");
            for entry in std::fs::read_dir(repo().join("c-examples")).expect("c-examples") {
                let path = entry.expect("entry").path();
                let name = path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                if name == "Makefile" || name.ends_with(".c") {
                    std::fs::copy(&path, dir.join(&name)).expect("copy example");
                }
            }
            for target in ["all", "asan"] {
                let out = Command::new(&make)
                    .arg("-C")
                    .arg(&dir)
                    .arg(target)
                    .output()
                    .expect("make");
                assert!(
                    out.status.success(),
                    "make {target} in c-examples failed:\n{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            Some(dir)
        })
        .as_ref()
}

/// One worker + one client of the examples; returns "client stdout / worker stdout / exit
/// codes" with the background job handle masked.
fn run_example_pair(
    bin_dir: &Path,
    libdir: &Path,
    server_bin: &Path,
    worker: &[&str],
    client: &[&str],
) -> String {
    let server = TestServer::start_bin(server_bin, &[]);
    let port = server.port.to_string();
    let spawn = |args: &[&str]| {
        Command::new(bin_dir.join(args[0]))
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(&args[1..])
            .env("LD_LIBRARY_PATH", libdir)
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", args[0]))
    };
    let w = spawn(worker);
    let c = wait_output(spawn(client), client[0]);
    let w = wait_output(w, worker[0]);
    let mask = |s: &[u8]| {
        String::from_utf8_lossy(s)
            .lines()
            .map(|l| match l.strip_prefix("Background job queued: ") {
                Some(_) => "Background job queued: <handle>".to_string(),
                None => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let stderr_note = |s: &[u8]| {
        let t = String::from_utf8_lossy(s);
        if t.contains("Sanitizer") {
            format!("\nSANITIZER REPORT:\n{t}")
        } else {
            String::new()
        }
    };
    format!(
        "client exit {:?}:\n{}\nworker exit {:?}:\n{}{}{}",
        c.status.code(),
        mask(&c.stdout),
        w.status.code(),
        mask(&w.stdout),
        stderr_note(&c.stderr),
        stderr_note(&w.stderr)
    )
}

type Scenario = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

/// (name, worker argv, client argv, lines the client + worker output must contain)
const SCENARIOS: &[Scenario] = &[
    (
        "reverse",
        &["reverse_worker", "-c", "1"],
        &["reverse_client", "Hello World!"],
        &[
            "client exit Some(0)",
            "Result: !dlroW olleH",
            "worker exit Some(0)",
            "Job reverse: 12 bytes",
        ],
    ),
    (
        "background",
        &["reverse_worker", "-c", "1"],
        &["background_client", "-i", "20", "bg"],
        &[
            "client exit Some(0)",
            "Background job queued: <handle>",
            "Job finished",
        ],
    ),
    (
        "callbacks",
        &["function_worker", "-c", "2"],
        &["callback_client", "abc", "fail"],
        // A failed task makes the client exit 2.
        &[
            "client exit Some(2)",
            "[0] created\n[0] status: 0/1\n[0] complete: cba\n[1] created\n[1] fail",
            "work: GEARMAN_WORK_FAIL",
        ],
    ),
    (
        "nonblocking",
        &["reverse_worker", "-c", "3"],
        &["nonblocking_client", "one", "two", "three"],
        &[
            "client exit Some(0)",
            "[0] complete: eno\n[1] complete: owt\n[2] complete: eerht\nAll 3 task(s) completed",
        ],
    ),
];

/// Runs every example scenario from `bin_dir` with the given library and server.
fn run_examples(
    bin_dir: &Path,
    libdir: &Path,
    server_bin: &Path,
) -> BTreeMap<&'static str, String> {
    SCENARIOS
        .iter()
        .map(|(name, worker, client, _)| {
            (
                *name,
                run_example_pair(bin_dir, libdir, server_bin, worker, client),
            )
        })
        .collect()
}

fn check_expected(outputs: &BTreeMap<&'static str, String>, what: &str) {
    for (name, _, _, expected) in SCENARIOS {
        let out = &comparable(&outputs[name]);
        for line in *expected {
            assert!(
                out.contains(line),
                "{what}, example {name}: expected {line:?} in\n{out}"
            );
        }
        assert!(
            !out.contains("SANITIZER REPORT"),
            "{what}, example {name}:\n{out}"
        );
    }
}

/// An example's output reduced to what does not depend on timing: the background client's
/// status polls are dropped (how many depends on the worker's speed), and each run of
/// per-task lines ("[n] ...") is grouped by task, keeping each task's own order (how the
/// tasks' callbacks interleave depends on when the server reads each submission).
fn comparable(out: &str) -> String {
    let mut result: Vec<&str> = Vec::new();
    let mut block: Vec<&str> = Vec::new();
    let task_of = |l: &str| l.split(']').next().unwrap_or("").to_string();
    for line in out.lines().filter(|l| !l.starts_with("Status: ")) {
        if line.starts_with('[') {
            block.push(line);
            continue;
        }
        block.sort_by_key(|l| task_of(l)); // stable: each task keeps its order
        result.append(&mut block);
        result.push(line);
    }
    block.sort_by_key(|l| task_of(l));
    result.append(&mut block);
    result.join("\n")
}

#[test]
fn c_examples_system_library() {
    if reference_setup().is_none() {
        return;
    }
    let Some(dir) = examples() else { return };
    let outputs = run_examples(dir, &system_libdir(), Path::new(REFERENCE_SERVER));
    check_expected(&outputs, "system library");
    let asan = run_examples(
        &dir.join("asan"),
        &system_libdir(),
        Path::new(REFERENCE_SERVER),
    );
    check_expected(&asan, "system library, ASan build");
    if !server_under_test_is_reference() {
        let server = common::server_bin();
        let what = format!("system library, server {}", server.display());
        let on_ours = run_examples(dir, &system_libdir(), &server);
        compare_examples(&outputs, &on_ours, &what);
    }
}

/// Panics naming every example whose output under `what` differs from the reference.
fn compare_examples(
    reference: &BTreeMap<&'static str, String>,
    outputs: &BTreeMap<&'static str, String>,
    what: &str,
) {
    let mut differing = Vec::new();
    for (name, out) in outputs {
        if comparable(out) != comparable(&reference[name]) {
            eprintln!(
                "example {name} differs:\n{}",
                unified_diff(
                    &reference[name],
                    out,
                    "system library, Debian gearmand",
                    what
                )
            );
            differing.push(*name);
        }
    }
    assert!(
        differing.is_empty(),
        "{what}: examples differ: {differing:?}"
    );
    check_expected(outputs, what);
}

#[test]
fn c_examples_our_library() {
    if reference_setup().is_none() {
        return;
    }
    let Some(dir) = examples() else { return };
    let Some(ours) = our_libdir() else { return };
    let server = common::server_bin();
    let reference = run_examples(dir, &system_libdir(), Path::new(REFERENCE_SERVER));
    let what = format!(
        "our library {}, server {}",
        ours.display(),
        server.display()
    );
    let outputs = run_examples(dir, &ours, &server);
    compare_examples(&reference, &outputs, &what);
    let asan = run_examples(&dir.join("asan"), &ours, &server);
    check_expected(&asan, &format!("{what}, ASan build"));
}

// ------------------------------------------------------------------------------ PHP ----

/// Debian's PHP with the gearman extension, or `None` (skip) after a note.
fn php_with_gearman() -> Option<PathBuf> {
    let php = reference_tool("/usr/bin/php")?;
    let loaded = Command::new(&php)
        .args(["-r", "exit(extension_loaded('gearman') ? 0 : 1);"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if loaded {
        return Some(php);
    }
    if common::compat_required() {
        panic!(
            "php has no gearman extension and GEARMAN_COMPAT_REQUIRED=1 (install php8.2-gearman)"
        );
    }
    eprintln!("SKIPPED: php has no gearman extension (install php8.2-gearman)");
    None
}

/// The libgearman.so.8 PHP's extension maps under `libdir`.
fn php_resolved_library(php: &Path, libdir: &Path) -> String {
    let code = r#"foreach (file("/proc/self/maps") as $l) { if (strpos($l, "libgearman.so") !== false) { echo trim(substr($l, strrpos($l, " ") + 1)); break; } }"#;
    let out = Command::new(php)
        .args(["-r", code])
        .env("LD_LIBRARY_PATH", libdir)
        .output()
        .expect("php");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `tests/php_client/worker.php` and `client.php` against a fresh server, with the library
/// of `libdir`; returns both outputs (client first) and whether both exited 0.
fn run_php(php: &Path, libdir: &Path, server_bin: &Path) -> (String, bool) {
    let resolved = php_resolved_library(php, libdir);
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    assert!(
        canonical(Path::new(&resolved)).and_then(|p| p.parent().map(Path::to_path_buf))
            == canonical(libdir),
        "php would map {resolved:?}, not the library of {}",
        libdir.display()
    );
    let server = TestServer::start_bin(server_bin, &[]);
    let scripts = repo().join("tests/php_client");
    let spawn = |script: &str| {
        Command::new(php)
            .arg(scripts.join(script))
            .arg("127.0.0.1")
            .arg(server.port.to_string())
            .env("LD_LIBRARY_PATH", libdir)
            .env_remove("GEARMAN_SERVERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run php {script}: {e}"))
    };
    let worker = spawn("worker.php");
    let client = wait_output(spawn("client.php"), "client.php");
    if !client.status.success() {
        // Without the quit job the worker would wait for ever.
        let _ = Command::new("kill").arg(worker.id().to_string()).status();
    }
    let worker = wait_output(worker, "worker.php");
    let ok = client.status.success() && worker.status.success();
    let text = format!(
        "=== client.php (exit {:?})\n{}{}=== worker.php (exit {:?})\n{}{}",
        client.status.code(),
        String::from_utf8_lossy(&client.stdout),
        String::from_utf8_lossy(&client.stderr),
        worker.status.code(),
        String::from_utf8_lossy(&worker.stdout),
        String::from_utf8_lossy(&worker.stderr),
    );
    if !ok {
        eprintln!("server log of the failed PHP run:\n{}", server.log());
    }
    (text, ok)
}

fn php_reference(php: &Path) -> &'static (String, bool) {
    static REF: OnceLock<(String, bool)> = OnceLock::new();
    REF.get_or_init(|| run_php(php, &system_libdir(), Path::new(REFERENCE_SERVER)))
}

#[test]
fn php_reference_runs_are_deterministic() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    let (first, ok) = php_reference(&php);
    assert!(ok, "reference PHP run failed:\n{first}");
    if let Err(e) = check_golden("tests/php_client/expected.out", first) {
        panic!("{e}");
    }
    let (second, ok) = run_php(&php, &system_libdir(), Path::new(REFERENCE_SERVER));
    assert!(
        ok && &second == first,
        "{}",
        unified_diff(first, &second, "first run", "second run")
    );
}

#[test]
fn php_system_library_on_server_under_test() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    if server_under_test_is_reference() {
        eprintln!(
            "server under test is {}: the reference test covers it",
            common::server_bin().display()
        );
        return;
    }
    let (expected, _) = php_reference(&php);
    let (got, ok) = run_php(&php, &system_libdir(), &common::server_bin());
    assert!(
        ok && &got == expected,
        "PHP, system library, our gearmand: differs from the reference\n{}",
        unified_diff(
            expected,
            &got,
            "system library, Debian gearmand",
            "system library, our gearmand"
        )
    );
}

#[test]
fn php_our_library_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    let Some(ours) = our_libdir() else { return };
    let (expected, _) = php_reference(&php);
    let (got, ok) = run_php(&php, &ours, &common::server_bin());
    let what = format!(
        "our library {}, server {}",
        ours.display(),
        common::server_bin().display()
    );
    assert!(
        ok && &got == expected,
        "PHP, {what}: differs from the reference\n{}",
        unified_diff(expected, &got, "system library, Debian gearmand", &what)
    );
}

// ------------------------------------------------------------------------ pkg-config ----

/// `pkgconfig/*.pc.in` filled in as `make install` does are valid for pkg-config, and
/// `gearmand.pc` says what Debian's says (same name, description, flags; version 1.1.20).
#[test]
fn pkgconfig_templates_match_debian() {
    let Some(debian) = reference_tool("/usr/lib/x86_64-linux-gnu/pkgconfig/gearmand.pc") else {
        return;
    };
    let Some(pkg_config) = reference_tool("/usr/bin/pkg-config") else {
        return;
    };
    let dir = scratch_dir("pkgconfig");
    for name in ["gearman", "gearmand"] {
        let template = std::fs::read_to_string(repo().join(format!("pkgconfig/{name}.pc.in")))
            .expect("template");
        let filled = template
            .replace("@PREFIX@", "/usr")
            .replace("@LIBDIR@", "${prefix}/lib/x86_64-linux-gnu")
            .replace("@INCLUDEDIR@", "${prefix}/include")
            .replace("@VERSION@", "1.1.20");
        assert!(
            !filled.contains('@'),
            "{name}.pc.in has an unknown placeholder:\n{filled}"
        );
        std::fs::write(dir.join(format!("{name}.pc")), &filled).expect("write .pc");
        let query = |args: &[&str], path: &Path| {
            let out = Command::new(&pkg_config)
                .args(args)
                .arg(name)
                .env("PKG_CONFIG_PATH", path)
                .env("PKG_CONFIG_LIBDIR", path)
                .output()
                .expect("pkg-config");
            assert!(
                out.status.success(),
                "pkg-config {args:?} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        query(&["--validate"], &dir);
        assert_eq!(query(&["--modversion"], &dir), "1.1.20");
        if name == "gearmand" {
            let debian_dir = debian.parent().expect("dir");
            for args in [
                &["--libs"][..],
                &["--cflags"][..],
                &["--variable=libdir"][..],
                &["--variable=includedir"][..],
            ] {
                assert_eq!(
                    query(args, &dir),
                    query(args, debian_dir),
                    "pkg-config {args:?} gearmand"
                );
            }
            let field = |text: &str, key: &str| {
                text.lines()
                    .find(|l| l.starts_with(key))
                    .map(str::to_string)
            };
            let debian_text = std::fs::read_to_string(&debian).expect("gearmand.pc");
            for key in ["Name:", "Description:", "Libs:", "Cflags:"] {
                assert_eq!(
                    field(&filled, key),
                    field(&debian_text, key),
                    "{key} of gearmand.pc"
                );
            }
        }
    }
}

// ------------------------------------------------------------- Debian's gearman tool ----

/// `gearman`'s error lines embed libgearman's message (file:line, pid); keep the calling
/// function and the GEARMAN_* code.
fn mask_cli_stderr(text: &str) -> String {
    text.lines()
        .map(
            |line| match (line.split(" : ").next(), line.find("GEARMAN_")) {
                (Some(prefix), Some(at)) => {
                    let code: String = line[at..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                        .collect();
                    format!("{prefix} : {code}")
                }
                _ => line.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("\n")
}

/// (name, optional worker argv, client argv, client stdin). `DEAD` stands for a port where
/// nothing listens. The worker commands are coreutils (`tr`, `cat`).
type CliScenario = (
    &'static str,
    Option<&'static [&'static str]>,
    &'static [&'static str],
    &'static str,
);

const CLI_SCENARIOS: &[CliScenario] = &[
    (
        "client + worker",
        Some(&["-w", "-f", "up", "-c", "1", "--", "tr", "a-z", "A-Z"]),
        &["-f", "up", "hello"],
        "",
    ),
    (
        "high priority",
        Some(&["-w", "-f", "up", "-c", "1", "--", "tr", "a-z", "A-Z"]),
        &["-I", "-f", "up", "high"],
        "",
    ),
    (
        "low priority, stdin",
        Some(&["-w", "-f", "cat", "-c", "1", "--", "cat"]),
        &["-L", "-f", "cat"],
        "from stdin\n",
    ),
    (
        "one job per line",
        Some(&["-w", "-f", "up", "-c", "2", "--", "tr", "a-z", "A-Z"]),
        &["-n", "-f", "up"],
        "ab\ncd\n",
    ),
    ("background", None, &["-b", "-f", "nobody", "bgdata"], ""),
    ("timeout", None, &["-t", "300", "-f", "nobody", "x"], ""),
    (
        "server down",
        None,
        &["-p", "DEAD", "-f", "nobody", "x"],
        "",
    ),
    (
        "worker, server down",
        None,
        &["-p", "DEAD", "-w", "-f", "x", "-c", "1", "--", "cat"],
        "",
    ),
];

/// Runs every scenario of Debian's `gearman` tool with the library of `libdir`.
fn run_cli(gearman: &Path, libdir: &Path, server_bin: &Path) -> String {
    use std::io::Write;
    let mut report = String::new();
    for (name, worker, client, stdin) in CLI_SCENARIOS {
        let server = TestServer::start_bin(server_bin, &[]);
        let port = server.port.to_string();
        let dead = free_port().to_string();
        let command = |args: &[&str]| {
            let mut cmd = Command::new(gearman);
            cmd.args(["-h", "127.0.0.1"]);
            if !args.contains(&"DEAD") {
                cmd.args(["-p", &port]);
            }
            cmd.args(
                args.iter()
                    .map(|a| if *a == "DEAD" { dead.as_str() } else { a }),
            )
            .env("LD_LIBRARY_PATH", libdir)
            .env_remove("GEARMAN_SERVERS")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            cmd
        };
        let worker = worker.map(|w| {
            command(w)
                .stdin(Stdio::null())
                .spawn()
                .expect("gearman worker")
        });
        let mut child = command(client)
            .stdin(Stdio::piped())
            .spawn()
            .expect("gearman client");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("client stdin");
        let out = wait_output(child, name);
        report.push_str(&format!(
            "== {name}\nexit {:?}\nstdout: {:?}\nstderr: {:?}\n",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            mask_cli_stderr(&String::from_utf8_lossy(&out.stderr))
        ));
        if let Some(w) = worker {
            let w = wait_output(w, "gearman worker");
            report.push_str(&format!(
                "worker exit {:?} stdout {:?} stderr {:?}\n",
                w.status.code(),
                String::from_utf8_lossy(&w.stdout),
                mask_cli_stderr(&String::from_utf8_lossy(&w.stderr))
            ));
        }
    }
    report
}

#[test]
fn gearman_tool_reference_runs_are_deterministic() {
    if reference_setup().is_none() {
        return;
    }
    let Some(gearman) = reference_tool("/usr/bin/gearman") else {
        return;
    };
    let first = run_cli(&gearman, &system_libdir(), Path::new(REFERENCE_SERVER));
    if let Err(e) = check_golden("tests/cprog/expected/gearman_tool.out", &first) {
        panic!("{e}");
    }
    let second = run_cli(&gearman, &system_libdir(), Path::new(REFERENCE_SERVER));
    assert_eq!(
        first,
        second,
        "{}",
        unified_diff(&first, &second, "first run", "second run")
    );
}

#[test]
fn gearman_tool_our_library_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(gearman) = reference_tool("/usr/bin/gearman") else {
        return;
    };
    let Some(ours) = our_libdir() else { return };
    let reference = run_cli(&gearman, &system_libdir(), Path::new(REFERENCE_SERVER));
    let what = format!(
        "our library {}, server {}",
        ours.display(),
        common::server_bin().display()
    );
    let got = run_cli(&gearman, &ours, &common::server_bin());
    assert!(
        got == reference,
        "gearman tool, {what}: differs from the reference\n{}",
        unified_diff(&reference, &got, "system library, Debian gearmand", &what)
    );
}
