//! Behaviours where programs written for libgearman 1.1.20 saw ours differ. Each test runs the
//! same C program (`tests/c/compat_*.c`, compiled against Debian's headers and linked by
//! soname) once with Debian's `libgearman.so.8` and once with ours, on the same server, and
//! checks both the behaviour itself (each run must show it) and that the two runs print the same.
//!
//! * a non-blocking client never waits: `run_tasks` answers IO_WAIT before reading replies, so
//!   a program counting its `gearman_client_wait` rounds counts as many as with 1.1.20;
//! * strings 1.1.20 hands out NUL-terminated (the exception text above all) are NUL-terminated;
//! * the workload allocator gets the same calls, with the same sizes, per operation;
//! * a job that runs longer than its CAN_DO_TIMEOUT still reaches its client, on gearmand 1.1.20
//!   and on our server;
//! * lengths are checked before the caller's buffer is read (a lying length is refused, not
//!   read), in 1.1.20's order.
//!
//! The programs need Debian's headers and library (`libgearman-dev`, `libgearman8`); the
//! CAN_DO_TIMEOUT test also Debian's gearmand. Without them the tests say so and pass, unless
//! `GEARMAN_COMPAT_REQUIRED=1`.

mod capi_support;
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use capi_support::*;
use common::TestServer;

const DEBIAN_SERVER: &str = "/usr/sbin/gearmand";

/// Builds `tests/c/<name>.c` against Debian's headers, linked by soname; None (after a note)
/// without Debian's headers and library.
fn build(scratch: &Scratch, name: &str) -> Option<PathBuf> {
    common::reference_tool(DEBIAN_HEADER)?;
    let link = common::reference_tool(DEBIAN_DEV_LINK)?;
    common::reference_tool(DEBIAN_LIB)?;
    let bin = scratch.path(name);
    let src = c_source(&format!("{name}.c"));
    compile(
        &cc(),
        &[
            "-std=c99",
            "-D_DEFAULT_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-o",
            &bin.display().to_string(),
            &src.display().to_string(),
            &format!("-L{}", link.parent().expect("libdir").display()),
            "-lgearman",
        ],
    );
    Some(bin)
}

/// Runs `bin HOST PORT args...` with Debian's library (`lib` None) or ours; returns stdout.
fn run_with(bin: &Path, port: u16, args: &[&str], lib: Option<&Path>) -> String {
    let port = port.to_string();
    let mut all = vec!["127.0.0.1", port.as_str()];
    all.extend_from_slice(args);
    run(bin, &all, lib)
}

/// The same program with both libraries against one server: (1.1.20's output, ours).
fn both(scratch: &Scratch, bin: &Path, server: &TestServer, args: &[&str]) -> (String, String) {
    let theirs = run_with(bin, server.port, args, None);
    let ours = run_with(bin, server.port, args, Some(&our_lib_dir(scratch)));
    (theirs, ours)
}

fn line<'a>(output: &'a str, prefix: &str) -> &'a str {
    output
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{output}"))
}

#[test]
fn a_non_blocking_client_never_waits() {
    let scratch = Scratch::new("compat-nonblocking");
    let Some(bin) = build(&scratch, "compat_nonblocking") else {
        return;
    };
    // No worker: the tasks are created, and that is all the program waits for.
    let server = TestServer::start(&[]);
    let (theirs, ours) = both(&scratch, &bin, &server, &[]);
    for (who, out) in [("1.1.20", &theirs), ("ours", &ours)] {
        // First round: submissions queued, nothing read. Second round (after wait() saw the
        // connection writable): submissions written, still nothing read.
        for round in ["round 0: run_tasks", "round 1: run_tasks"] {
            let l = line(out, round);
            assert!(
                l.contains("GEARMAN_IO_WAIT") && l.contains("known=0") && l.contains("created=0"),
                "{who}: {l}"
            );
        }
        assert!(
            line(out, "created=").starts_with("created=2 after at least two waits: yes"),
            "{who}:\n{out}"
        );
        assert!(
            line(out, "do on a non-blocking client").contains("GEARMAN_IO_WAIT result=NULL"),
            "{who}:\n{out}"
        );
    }
    assert_same_output("libgearman 1.1.20", &theirs, "ours", &ours);
}

#[test]
fn strings_are_nul_terminated_where_1_1_20_terminates_them() {
    let scratch = Scratch::new("compat-strings");
    let Some(bin) = build(&scratch, "compat_strings") else {
        return;
    };
    let server = TestServer::start(&[]);
    let (theirs, ours) = both(&scratch, &bin, &server, &[]);
    for (who, out) in [("1.1.20", &theirs), ("ours", &ours)] {
        assert!(
            line(out, "exception callback: data=")
                .contains("NUL-terminated strcmp(data, \"dog\")=0"),
            "{who}:\n{out}"
        );
        assert!(
            line(out, "after run_tasks: exception=").contains("=NUL-terminated size=3 strcmp=0"),
            "{who}:\n{out}"
        );
        assert!(
            !out.contains("NOT NUL-terminated") && !out.contains(": NULL"),
            "{who}: a string is not terminated:\n{out}"
        );
    }
    assert_same_output("libgearman 1.1.20", &theirs, "ours", &ours);
}

#[test]
fn the_workload_allocator_gets_1_1_20s_calls() {
    let scratch = Scratch::new("compat-allocators");
    let Some(bin) = build(&scratch, "compat_allocators") else {
        return;
    };
    let server = TestServer::start(&[]);
    for mode in ["workload", "allocators"] {
        let (theirs, ours) = both(&scratch, &bin, &server, &[mode]);
        for (who, out) in [("1.1.20", &theirs), ("ours", &ours)] {
            // One do(): the WORK_COMPLETE payload is received into a buffer of the client's
            // malloc (5 bytes, released) and the result copied into another (size + 1).
            assert_eq!(
                line(out, "do alloc_v1:"),
                "do alloc_v1: GEARMAN_SUCCESS size=5: malloc=2 free=1 realloc=0 calloc=0 sizes=[5,6]",
                "{who} ({mode})"
            );
            assert!(
                out.contains("--- worker exit 0 ---"),
                "{who} ({mode}):\n{out}"
            );
        }
        assert_same_output(
            &format!("libgearman 1.1.20 ({mode})"),
            &theirs,
            &format!("ours ({mode})"),
            &ours,
        );
    }
}

/// The CAN_DO_TIMEOUT program with one library against one server binary (`label` names the
/// pair, for the scratch directory).
fn can_do_timeout_with(label: &str, ours: bool, server_bin: &Path) {
    let scratch = Scratch::new(&format!("compat-timeout-{label}"));
    let Some(bin) = build(&scratch, "compat_can_do_timeout") else {
        return;
    };
    let server = TestServer::start_bin(server_bin, &[]);
    let lib = ours.then(|| our_lib_dir(&scratch));
    let out = run_with(&bin, server.port, &[], lib.as_deref());
    let who = format!(
        "library {}, server {}",
        if ours { "ours" } else { "1.1.20" },
        server_bin.display()
    );
    assert_eq!(
        out.lines().next(),
        Some("do: GEARMAN_SUCCESS result=\"slept\""),
        "{who}:\n{out}"
    );
    let runs = out.lines().filter(|l| *l == "worker: run").count();
    assert!(runs >= 2, "the first run timed out: {who}:\n{out}");
    // The late reports of the run that timed out get ERROR JOB_NOT_FOUND: 1.1.20's next
    // work() calls return them as GEARMAN_UNEXPECTED_PACKET (its bug); ours never does.
    let unexpected = out.contains("work=GEARMAN_UNEXPECTED_PACKET");
    assert_eq!(unexpected, !ours, "{who}:\n{out}");
    if ours {
        assert_eq!(runs, 2, "{who}: the second run carries the result:\n{out}");
        assert!(
            out.lines()
                .filter(|l| l.starts_with("worker: work="))
                .all(|l| l == "worker: work=GEARMAN_SUCCESS"),
            "{who}:\n{out}"
        );
    }
}

fn debian_server() -> Option<PathBuf> {
    common::reference_tool(DEBIAN_SERVER)
}

#[test]
fn a_job_past_its_can_do_timeout_reaches_its_client_on_gearmand_1_1_20() {
    let Some(gearmand) = debian_server() else {
        return;
    };
    can_do_timeout_with("ours-on-gearmand", true, &gearmand);
}

#[test]
fn a_job_past_its_can_do_timeout_reaches_its_client_on_our_server() {
    can_do_timeout_with("ours-on-ours", true, &common::server_bin());
}

/// What the scenario does with libgearman 1.1.20 (on gearmand 1.1.20): the same result.
#[test]
fn a_job_past_its_can_do_timeout_with_1_1_20_on_gearmand_1_1_20() {
    let Some(gearmand) = debian_server() else {
        return;
    };
    can_do_timeout_with("theirs-on-gearmand", false, &gearmand);
}

#[test]
fn lengths_are_checked_before_the_buffer_is_read() {
    let scratch = Scratch::new("compat-limits");
    let Some(bin) = build(&scratch, "compat_limits") else {
        return;
    };
    let server = TestServer::start(&[]);
    let (theirs, ours) = both(&scratch, &bin, &server, &["common"]);
    for (who, out) in [("1.1.20", &theirs), ("ours", &ours)] {
        assert_eq!(
            line(out, "server: worker echo over limit"),
            "server: worker echo over limit: GEARMAN_ARGUMENT_TOO_LARGE",
            "{who}"
        );
        assert_eq!(
            line(out, "server: client echo NULL over limit"),
            "server: client echo NULL over limit: GEARMAN_INVALID_ARGUMENT",
            "{who}: NULL is checked before the size"
        );
        assert_eq!(
            line(out, "no servers: client echo over limit"),
            "no servers: client echo over limit: GEARMAN_NO_SERVERS code=GEARMAN_NO_SERVERS",
            "{who}: the server list is checked first"
        );
        assert_eq!(
            line(out, "do_background over a packet"),
            "do_background over a packet: GEARMAN_ARGUMENT_TOO_LARGE",
            "{who}"
        );
    }
    assert_same_output("libgearman 1.1.20", &theirs, "ours", &ours);

    // Where 1.1.20 reads the whole length (and crashes), ours refuses it as well.
    let out = run_with(&bin, server.port, &["ours"], Some(&our_lib_dir(&scratch)));
    for l in out
        .lines()
        .filter(|l| l.contains("over a packet") || l.contains("over limit"))
    {
        assert!(
            l.contains("GEARMAN_ARGUMENT_TOO_LARGE") || l.contains("GEARMAN_INVALID_ARGUMENT"),
            "{l}"
        );
    }
    assert!(out.contains("job send_complete: GEARMAN_SUCCESS"), "{out}");
}

/// The programs compile with Debian's headers and run with Debian's library by soname only
/// (no rpath): `LD_LIBRARY_PATH` decides which library runs.
#[test]
fn the_programs_pick_the_library_by_soname() {
    let scratch = Scratch::new("compat-soname");
    let Some(bin) = build(&scratch, "compat_nonblocking") else {
        return;
    };
    let ours = our_lib_dir(&scratch);
    let out = Command::new(&bin)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .env("LD_LIBRARY_PATH", &ours)
        .output()
        .expect("trace loaded objects");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("libgearman.so.8") && l.contains(&*ours.display().to_string())),
        "{text}"
    );
}
