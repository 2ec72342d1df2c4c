//! The `c-examples/`: built with their Makefile (plain and ASan), run in worker/client pairs,
//! also under valgrind when it is installed.
use super::*;
use crate::server::Server;
use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::OnceLock;

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
    wrapper: &[&str],
    libdir: &Path,
    server_bin: &Path,
    worker: &[&str],
    client: &[&str],
) -> String {
    let server = Server::start(server_bin);
    let port = server.port.to_string();
    let spawn = |args: &[&str]| {
        let program = bin_dir.join(args[0]);
        let mut cmd = match wrapper.split_first() {
            Some((tool, tool_args)) => {
                let mut cmd = Command::new(tool);
                cmd.args(tool_args).arg(&program);
                cmd
            }
            None => Command::new(&program),
        };
        cmd.args(["-h", "127.0.0.1", "-p", &port])
            .args(&args[1..])
            .env("LD_LIBRARY_PATH", libdir)
            .env("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
            .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", args[0]))
    };
    let w = spawn(worker);
    let c = wait_output(spawn(client), client[0]);
    // A worker still waiting for jobs 10 s after its client ended is killed and shows as such.
    let w = wait_output_within(w, worker[0], Duration::from_secs(10)).unwrap_or_else(|o| o);
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
        // ASan/UBSan name themselves (a UBSan finding also reads "runtime error:"); valgrind's
        // report lines start with "==<pid>==".
        if t.contains("Sanitizer")
            || t.contains("runtime error:")
            || t.lines().any(|l| l.starts_with("=="))
        {
            format!("\nMEMORY CHECKER REPORT:\n{t}")
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
    run_examples_wrapped(bin_dir, &[], libdir, server_bin)
}

/// The same, each program run under `wrapper` (e.g. valgrind).
fn run_examples_wrapped(
    bin_dir: &Path,
    wrapper: &[&str],
    libdir: &Path,
    server_bin: &Path,
) -> BTreeMap<&'static str, String> {
    SCENARIOS
        .iter()
        .map(|(name, worker, client, _)| {
            (
                *name,
                run_example_pair(bin_dir, wrapper, libdir, server_bin, worker, client),
            )
        })
        .collect()
}

/// Valgrind's memcheck, reporting errors and definite leaks with exit code 99; `None` (after
/// a note) when valgrind is not installed.
fn valgrind() -> Option<Vec<&'static str>> {
    if !Path::new("/usr/bin/valgrind").exists() {
        eprintln!("SKIPPED (valgrind runs): /usr/bin/valgrind is not installed");
        return None;
    }
    Some(vec![
        "/usr/bin/valgrind",
        "-q",
        "--leak-check=full",
        "--errors-for-leak-kinds=definite",
        "--error-exitcode=99",
    ])
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
            !out.contains("MEMORY CHECKER REPORT"),
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
fn system_library() {
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
    if let Some(valgrind) = valgrind() {
        let checked = run_examples_wrapped(
            dir,
            &valgrind,
            &system_libdir(),
            Path::new(REFERENCE_SERVER),
        );
        check_expected(&checked, "system library, valgrind");
    }
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
fn our_library() {
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
    if let Some(valgrind) = valgrind() {
        let checked = run_examples_wrapped(dir, &valgrind, &ours, &server);
        check_expected(&checked, &format!("{what}, valgrind"));
    }
}
