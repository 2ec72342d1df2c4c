//! Differential test of the exports that need no server: tests/c/pure_api.c, compiled against
//! Debian's headers, must print the same with `LD_LIBRARY_PATH` = our library as with Debian's
//! libgearman.so.8; compiled against our headers and linked with our library, the same again.

mod capi_support;
mod common;

use capi_support::*;

#[test]
fn same_output_as_libgearman_1_1_20() {
    let (Some(_), Some(_), Some(dev_link)) = (
        common::reference_tool(DEBIAN_HEADER),
        common::reference_tool(DEBIAN_LIB),
        common::reference_tool(DEBIAN_DEV_LINK),
    ) else {
        return;
    };
    let scratch = Scratch::new("pure-api-diff");
    let ours = our_lib_dir(&scratch);
    let bin = scratch.path("pure_api");
    // Built exactly as an existing program is: Debian's headers, Debian's -lgearman.
    build_c("pure_api.c", "c99", None, dev_link.parent(), &bin);
    let debian = run(&bin, &[], None);
    let with_ours = run(&bin, &[], Some(&ours));
    assert!(
        debian.contains("strerror(52)=GEARMAN_JOB_NOT_FOUND"),
        "unexpected output:\n{debian}"
    );
    assert_same_output("Debian libgearman.so.8", &debian, "ours", &with_ours);
    // The run really used our library: only ours answers the deliberate deviations.
    let deviations = run(&bin, &["ours-only"], Some(&ours));
    assert_eq!(
        deviations,
        "verbose_name(-1)=UNKNOWN\nparse_servers(NULL callback)=GEARMAN_INVALID_ARGUMENT\n"
    );
}

#[test]
fn compiles_and_runs_against_our_headers_and_library() {
    let scratch = Scratch::new("pure-api-ours");
    let ours = our_lib_dir(&scratch);
    let bin = scratch.path("pure_api");
    build_c("pure_api.c", "c99", Some(&our_include()), Some(&ours), &bin);
    let out = run(&bin, &[], Some(&ours));
    for expected in [
        "strerror(-1)=GEARMAN_MAX_RETURN",
        "strerror(0)=GEARMAN_SUCCESS",
        "strerror(52)=GEARMAN_JOB_NOT_FOUND",
        "strerror(53)=GEARMAN_MAX_RETURN",
        "strerror(1000)=GEARMAN_MAX_RETURN",
        "strerror(FAIL,FATAL,ERROR)=GEARMAN_WORK_FAIL GEARMAN_WORK_FAIL GEARMAN_WORK_ERROR",
        "verbose_name(5)=CRAZY",
        "verbose_name(6)=UNKNOWN",
        "version=1.1.20+ds",
        "bugreport=https://github.com/gearman/gearmand/issues",
        "  host='h' port=4464",
        "  rc=GEARMAN_TIMEOUT calls=2",
        "  host=<1024 bytes> port=0",
        "function_create_partition kind=3 v1=0 v2=1 part=1 agg=1 zero_tail=0",
        "task_attr_init_epoch(1234567890, NORMAL) kind=2 priority=1 epoch=1234567890",
        "status return=GEARMAN_JOB_EXISTS known=1 running=0 3/9",
        "kill(pipe, INTERRUPT)=GEARMAN_SUCCESS read=1 byte=1 kill(pipe, KILL)=GEARMAN_SUCCESS read_after_kill=0",
        "client_do_status(NULL) 0/0",
        "result_store_value(NULL)=GEARMAN_INVALID_ARGUMENT",
    ] {
        assert!(out.lines().any(|l| l == expected), "missing line {expected:?} in:\n{out}");
    }
}

#[test]
fn clean_under_address_and_undefined_behaviour_sanitizers() {
    let scratch = Scratch::new("pure-api-asan");
    let ours = our_lib_dir(&scratch);
    let plain = scratch.path("pure_api");
    build_c(
        "pure_api.c",
        "c99",
        Some(&our_include()),
        Some(&ours),
        &plain,
    );
    let sanitized = scratch.path("pure_api_asan");
    let inc = format!("-I{}", our_include().display());
    let lib = format!("-L{}", ours.display());
    let src = c_source("pure_api.c");
    compile(
        &cc(),
        &[
            "-std=c99",
            "-g",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
            inc.as_str(),
            "-o",
            sanitized.to_str().expect("utf-8 path"),
            src.to_str().expect("utf-8 path"),
            lib.as_str(),
            "-lgearman",
        ],
    );
    // `run` fails on a sanitizer report (non-zero exit) and the output must not change.
    let expected = run(&plain, &[], Some(&ours));
    let checked = run(&sanitized, &[], Some(&ours));
    assert_same_output("plain build", &expected, "sanitized build", &checked);
}
