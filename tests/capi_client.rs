//! The client side of the C ABI (`gearman_client_*`, `gearman_task_*`, `gearman_execute`) from C:
//! tests/c/client_api.c, compiled against Debian's headers (ours when libgearman-dev is absent) and
//! linked by soname, runs with `LD_LIBRARY_PATH` = our library against the server under test; the
//! jobs are served by a worker of the Rust core. When Debian's libgearman.so.8 is installed the same
//! program runs with it too and the outputs must be identical, except the lines marked
//! "deviation:", which are checked for our value.

mod capi_support;
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use capi_support::*;
use common::TestServer;
use gearman::worker::WorkResult;
use gearman::Worker;

fn build(scratch: &Scratch) -> PathBuf {
    let bin = scratch.path("client_api");
    match (
        common::reference_tool(DEBIAN_HEADER),
        common::reference_tool(DEBIAN_DEV_LINK),
    ) {
        (Some(_), Some(link)) => build_c("client_api.c", "c99", None, link.parent(), &bin),
        _ => {
            let ours = our_lib_dir(scratch);
            build_c(
                "client_api.c",
                "c99",
                Some(&our_include()),
                Some(&ours),
                &bin,
            );
        }
    }
    bin
}

/// A Rust-core worker serving reverse, chunks (data, status, warning, data, complete) and fail
/// until `stop` is set.
fn spawn_worker(port: u16, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    let mut w = Worker::new().expect("worker");
    w.add_server("127.0.0.1", port).expect("worker add_server");
    w.set_timeout(100);
    w.add_function("reverse", 0, |ctx| {
        let mut v = ctx.workload().to_vec();
        v.reverse();
        WorkResult::Complete(v)
    })
    .expect("reverse");
    w.add_function("chunks", 0, |ctx| {
        let _ = ctx.send_data(b"d1");
        let _ = ctx.send_status(1, 2);
        let _ = ctx.send_warning(b"w1");
        let _ = ctx.send_data(b"d2");
        WorkResult::Complete(b"done".to_vec())
    })
    .expect("chunks");
    w.add_function("fail", 0, |_| WorkResult::Fail)
        .expect("fail");
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            let _ = w.work();
        }
    })
}

fn run_program(bin: &PathBuf, lib: Option<PathBuf>) -> String {
    let ours = lib.is_some();
    let server = TestServer::start(&[]);
    let stop = Arc::new(AtomicBool::new(false));
    let worker = spawn_worker(server.port, stop.clone());
    let mut cmd = Command::new(bin);
    cmd.args(["127.0.0.1", &server.port.to_string()])
        .args(ours.then_some("ours"))
        .env_remove("LD_LIBRARY_PATH")
        .env_remove("GEARMAN_SERVERS");
    if let Some(dir) = &lib {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let out = cmd.output().expect("run client_api");
    stop.store(true, Ordering::SeqCst);
    worker.join().expect("worker thread");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "client_api failed ({:?}) with {:?}:\n{text}\n{}",
        out.status,
        lib,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("== end"), "client_api stopped early:\n{text}");
    text
}

fn without_deviations(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("deviation:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn client_api_matches_libgearman_1_1_20() {
    let scratch = Scratch::new("capi_client");
    let bin = build(&scratch);
    let ours = run_program(&bin, Some(our_lib_dir(&scratch)));
    // Checks that hold whatever the reference says.
    for expected in [
        "caller storage: same=1 allocated=0 options=0",
        "do: rc=GEARMAN_SUCCESS result=\"olleh\" size=5",
        "do_high chunks: rc=GEARMAN_SUCCESS result=\"d1d2done\" size=8",
        "do fail: rc=GEARMAN_WORK_FAIL",
        "run 2: GEARMAN_SUCCESS",
        "deviation: is_finished=1",
        "deviation: compare without servers: 0",
        "deviation: unbuffered: data=(nil) size=2 chunks: \"d1\" rc=GEARMAN_SUCCESS",
        "deviation: unbuffered: data=(nil) size=4 chunks: \"do\" \"ne\" rc=GEARMAN_SUCCESS",
        "deviation: unbuffered run_tasks: GEARMAN_SUCCESS",
        "deviation: complete of \"retuo\": nested do rc=GEARMAN_SUCCESS result=\"renni\"",
        "deviation: do inside a callback, run_tasks: GEARMAN_SUCCESS",
        "deviation: do_job_handle of a detached shell: (nil)",
        "deviation: job_status NULL handle: GEARMAN_INVALID_ARGUMENT",
        "deviation: take_data outside a callback: (nil) size=0",
        "after client_free: frees=3",
        "execute: return=GEARMAN_SUCCESS null=0 size=3 value=exe bool=1",
        "namespace: fn=ns_reverse unique=634628250",
        "do with no worker, 200 ms: GEARMAN_TIMEOUT",
    ] {
        assert!(ours.contains(expected), "missing {expected:?} in:\n{ours}");
    }
    if common::reference_tool(DEBIAN_LIB).is_some() {
        let reference = run_program(&bin, None);
        assert_same_output(
            "Debian libgearman.so.8",
            &without_deviations(&reference),
            "ours",
            &without_deviations(&ours),
        );
    }
}
