//! Debian's `gearman` command-line tool (it links `libgearman.so.8`) under both libraries.
use super::*;
use crate::server::Server;
use common::free_port;
use std::process::Stdio;

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
        let server = Server::start(server_bin);
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
            // Still waiting 10 s after its client ended: killed, and the report shows it.
            let w = wait_output_within(w, "gearman worker", Duration::from_secs(10))
                .unwrap_or_else(|o| o);
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
fn reference_runs_are_deterministic() {
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
fn our_library_matches_reference() {
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

#[test]
fn system_library_on_server_under_test() {
    if reference_setup().is_none() {
        return;
    }
    let Some(gearman) = reference_tool("/usr/bin/gearman") else {
        return;
    };
    if server_under_test_is_reference() {
        eprintln!("server under test is the reference gearmand: the reference test covers it");
        return;
    }
    let reference = run_cli(&gearman, &system_libdir(), Path::new(REFERENCE_SERVER));
    let what = format!("system library, server {}", common::server_bin().display());
    let got = run_cli(&gearman, &system_libdir(), &common::server_bin());
    assert!(
        got == reference,
        "gearman tool, {what}: differs from the reference\n{}",
        unified_diff(&reference, &got, "system library, Debian gearmand", &what)
    );
}
