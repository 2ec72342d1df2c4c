//! Forwarding of work results to clients (spec §3.6) and status queries (spec §3.7).
mod common;

use common::proto::{cmd::*, h, server, QUIET};
use common::Conn;

const NOT_FOUND_RESULT: &str = "Job given in work result not found";
const NOT_FOUND_DATA: &str = "Job does not exist on server";
const NOT_FOUND_EXCEPTION: &str = "An exception was received for a job that does not exist";

fn hd(n: u32, data: &[u8]) -> Vec<u8> {
    let mut v = h(n);
    v.push(0);
    v.extend_from_slice(data);
    v
}

/// A worker registered for `f` holding the job it grabbed.
fn worker_with_job(s: &common::TestServer) -> (Conn, Vec<u8>) {
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    (w, handle)
}

#[test]
fn every_result_type_reaches_the_client_unchanged() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_DATA, &handle, b"d\0with nul");
    w.work(WORK_WARNING, &handle, b"");
    w.send(WORK_STATUS, &[&handle, b"1", b"3"]);
    w.work(WORK_DATA, &handle, b"again");
    w.work(WORK_COMPLETE, &handle, b"result\0bytes");
    c.expect_pkt(WORK_DATA, &hd(1, b"d\0with nul"));
    c.expect_pkt(WORK_WARNING, &hd(1, b""));
    c.expect_pkt(WORK_STATUS, b"P:1\x001\x003");
    c.expect_pkt(WORK_DATA, &hd(1, b"again"));
    c.expect_pkt(WORK_COMPLETE, &hd(1, b"result\0bytes"));
    c.expect_silence(QUIET);
    // The worker got no acknowledgement for any of it.
    w.expect_silence(std::time::Duration::from_millis(10));
}

#[test]
fn work_fail_is_forwarded_and_ends_the_job() {
    let s = server(&[]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    c1.submit(SUBMIT_JOB, "f", b"u", b"x");
    c2.submit(SUBMIT_JOB_HIGH, "f", b"u", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_FAIL, &handle, b"");
    c1.expect_pkt(WORK_FAIL, &h(1));
    c2.expect_pkt(WORK_FAIL, &h(1));
    assert_eq!(c1.get_status(&h(1)), "P:1\x000\x000\x000\x000");
    w.work(WORK_FAIL, &handle, b"");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
}

#[test]
fn exception_goes_to_clients_with_the_option() {
    let s = server(&[]);
    let mut with = s.connect();
    with.send(OPTION_REQ, &[b"exceptions"]);
    with.expect_pkt(OPTION_RES, b"exceptions");
    with.submit(SUBMIT_JOB, "f", b"u", b"x");
    let mut bg = s.connect();
    bg.submit(SUBMIT_JOB_BG, "f", b"u", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_DATA, &handle, b"d");
    w.work(WORK_EXCEPTION, &handle, b"boom");
    with.expect_pkt(WORK_DATA, &hd(1, b"d"));
    with.expect_pkt(WORK_EXCEPTION, &hd(1, b"boom"));
    bg.expect_silence(QUIET);
    // The exception ended the job.
    assert_eq!(with.get_status(&h(1)), "P:1\x000\x000\x000\x000");
    w.work(WORK_COMPLETE, &handle, b"late");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
}

#[test]
fn exceptions_server_option_applies_to_every_connection() {
    let s = server(&["--exceptions"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_EXCEPTION, &handle, b"boom");
    c.expect_pkt(WORK_EXCEPTION, &hd(1, b"boom"));
}

#[test]
fn client_without_exceptions_gets_a_work_fail() {
    // The exact payload of that WORK_FAIL is a 1.1.20 bug (server_fixed_bugs.rs).
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_EXCEPTION, &handle, b"boom");
    let p = c.expect(WORK_FAIL);
    assert!(p.payload.starts_with(&h(1)), "{p:?}");
    assert!(
        !p.payload.ends_with(b"boom"),
        "the exception data is dropped"
    );
    c.expect_silence(QUIET);
}

#[test]
fn option_req_replies() {
    let s = server(&[]);
    let mut c = s.connect();
    c.send(OPTION_REQ, &[b"EXCEPTIONS"]);
    c.expect_pkt(OPTION_RES, b"EXCEPTIONS");
    c.send(OPTION_REQ, &[b"Exceptions"]);
    c.expect_pkt(OPTION_RES, b"Exceptions");
    for bad in [&b"foo"[..], b"", b"exceptionsx", b"exception"] {
        c.send(OPTION_REQ, &[bad]);
        c.expect_error("UNKNOWN_OPTION", "Server does not recognize given option");
    }
    // The flag set with any spelling is in effect.
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_EXCEPTION, &handle, b"e");
    c.expect_pkt(WORK_EXCEPTION, &hd(1, b"e"));
}

#[test]
fn results_from_a_connection_not_holding_the_job_are_refused() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut holder, handle) = worker_with_job(&s);
    let mut other = s.connect();
    other.can_do(&["f"]);
    for (kind, text) in [
        (WORK_STATUS, NOT_FOUND_RESULT),
        (WORK_COMPLETE, NOT_FOUND_RESULT),
        (WORK_FAIL, NOT_FOUND_RESULT),
        (WORK_DATA, NOT_FOUND_DATA),
        (WORK_WARNING, NOT_FOUND_DATA),
        (WORK_EXCEPTION, NOT_FOUND_EXCEPTION),
    ] {
        if kind == WORK_STATUS {
            other.send(kind, &[&handle, b"1", b"2"]);
        } else {
            other.work(kind, &handle, b"x");
        }
        other.expect_error("JOB_NOT_FOUND", text);
    }
    // Nothing reached the client and the job is intact.
    c.expect_silence(QUIET);
    holder.work(WORK_COMPLETE, &handle, b"ok");
    c.expect_pkt(WORK_COMPLETE, &hd(1, b"ok"));
}

#[test]
fn results_for_unknown_handles_are_refused() {
    let s = server(&[]);
    let mut w = s.connect();
    for (kind, text) in [
        (WORK_STATUS, NOT_FOUND_RESULT),
        (WORK_COMPLETE, NOT_FOUND_RESULT),
        (WORK_FAIL, NOT_FOUND_RESULT),
        (WORK_DATA, NOT_FOUND_DATA),
        (WORK_WARNING, NOT_FOUND_DATA),
        (WORK_EXCEPTION, NOT_FOUND_EXCEPTION),
    ] {
        for handle in [&b"P:12345"[..], b"garbage", b""] {
            if kind == WORK_STATUS {
                w.send(kind, &[handle, b"1", b"2"]);
            } else {
                w.work(kind, handle, b"x");
            }
            w.expect_error("JOB_NOT_FOUND", text);
        }
    }
    w.sync();
}

#[test]
fn work_fail_with_an_oversized_handle() {
    let s = server(&[]);
    let mut w = s.connect();
    w.work(WORK_FAIL, &[b'x'; 63], b"");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
    w.work(WORK_FAIL, &[b'x'; 64], b"");
    w.expect_error(
        "ARGUMENT_TOO_LARGE",
        "Error occurred due to GEARMAND_JOB_HANDLE_SIZE being too small from snprintf",
    );
    w.sync();
}

#[test]
fn duplicate_completion_is_refused() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_COMPLETE, &handle, b"1");
    c.expect_pkt(WORK_COMPLETE, &hd(1, b"1"));
    w.work(WORK_COMPLETE, &handle, b"2");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_RESULT);
    w.work(WORK_DATA, &handle, b"3");
    w.expect_error("JOB_NOT_FOUND", NOT_FOUND_DATA);
    c.expect_silence(QUIET);
}

#[test]
fn handle_field_with_its_nul_is_accepted() {
    // libgearman workers copy the handle field with its NUL terminator.
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB, "f", b"", b"x");
    let (mut w, _) = worker_with_job(&s);
    w.send(WORK_FAIL, &[b"P:1\0"]);
    c.expect_pkt(WORK_FAIL, b"P:1\0");
    w.expect_silence(QUIET);
}

#[test]
fn background_job_results_are_dropped_but_status_is_kept() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"bgu", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.work(WORK_DATA, &handle, b"d");
    w.send(WORK_STATUS, &[&handle, b"2", b"5"]);
    w.sync();
    assert_eq!(c.get_status(&handle), "P:1\x001\x001\x002\x005");
    assert_eq!(c.get_status_unique(b"bgu"), "bgu\x001\x001\x002\x005\x000");
    w.work(WORK_COMPLETE, &handle, b"r");
    w.sync();
    c.expect_silence(QUIET);
    assert_eq!(c.get_status(&handle), "P:1\x000\x000\x000\x000");
    assert_eq!(s.connect().admin_list("show jobs"), ".\n");
}

#[test]
fn get_status_queued_running_and_finished() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x000\x000\x000");
    let (mut w, handle) = worker_with_job(&s);
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x001\x000\x000");
    w.send(WORK_STATUS, &[&handle, b"1", b"3"]);
    w.sync();
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x001\x001\x003");
    w.send(WORK_STATUS, &[&handle, b"7x", b"abc"]);
    w.sync();
    assert_eq!(
        c.get_status(&h(1)),
        "P:1\x001\x001\x007\x000",
        "numbers are read like atoi"
    );
    w.work(WORK_COMPLETE, &handle, b"");
    w.sync();
    assert_eq!(c.get_status(&h(1)), "P:1\x000\x000\x000\x000");
    // Unknown handles are echoed back.
    assert_eq!(c.get_status(b"P:12345"), "P:12345\x000\x000\x000\x000");
    assert_eq!(c.get_status(b"whatever"), "whatever\x000\x000\x000\x000");
    assert_eq!(
        c.get_status(&[b'z'; 63]),
        format!("{}\x000\x000\x000\x000", "z".repeat(63))
    );
}

#[test]
fn requeue_resets_the_status_numbers() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    let (mut w, handle) = worker_with_job(&s);
    w.send(WORK_STATUS, &[&handle, b"4", b"9"]);
    w.sync();
    assert_eq!(c.get_status(&h(1)), "P:1\x001\x001\x004\x009");
    drop(w);
    assert!(common::proto::eventually(
        std::time::Duration::from_secs(3),
        || { c.get_status(&h(1)) == "P:1\x001\x000\x000\x000" }
    ));
}

#[test]
fn get_status_unique_counts_attached_clients() {
    let s = server(&[]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    assert_eq!(
        c1.get_status_unique(b"same"),
        "same\x000\x000\x000\x000\x000"
    );
    c1.submit(SUBMIT_JOB, "f", b"same", b"x");
    assert_eq!(
        c1.get_status_unique(b"same"),
        "same\x001\x000\x000\x000\x001"
    );
    c2.submit(SUBMIT_JOB, "f", b"same", b"x");
    assert_eq!(
        c2.get_status_unique(b"same"),
        "same\x001\x000\x000\x000\x002"
    );
    // A background submission does not count.
    let mut bg = s.connect();
    bg.submit(SUBMIT_JOB_BG, "f", b"same", b"x");
    assert_eq!(
        bg.get_status_unique(b"same"),
        "same\x001\x000\x000\x000\x002"
    );
    let (mut w, handle) = worker_with_job(&s);
    w.send(WORK_STATUS, &[&handle, b"1", b"2"]);
    w.sync();
    assert_eq!(
        bg.get_status_unique(b"same"),
        "same\x001\x001\x001\x002\x002"
    );
    // A disconnected client is detached.
    drop(c2);
    assert!(common::proto::eventually(
        std::time::Duration::from_secs(3),
        || { bg.get_status_unique(b"same") == "same\x001\x001\x001\x002\x001" }
    ));
    w.work(WORK_COMPLETE, &handle, b"");
    c1.expect_pkt(WORK_STATUS, b"P:1\x001\x002");
    c1.expect_pkt(WORK_COMPLETE, &hd(1, b""));
    assert_eq!(
        bg.get_status_unique(b"same"),
        "same\x000\x000\x000\x000\x000"
    );
    // A purely background job counts 0 clients; matching ignores the function.
    bg.submit(SUBMIT_JOB_BG, "g", b"bgonly", b"");
    assert_eq!(
        bg.get_status_unique(b"bgonly"),
        "bgonly\x001\x000\x000\x000\x000"
    );
    assert_eq!(
        bg.get_status_unique(&[b'q'; 63]),
        format!("{}\x000\x000\x000\x000\x000", "q".repeat(63))
    );
}

#[test]
fn get_status_unique_reports_the_newest_job_with_that_unique() {
    // The unique is matched across functions; with several jobs the newest one answers.
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "g", b"u1", b"x");
    assert_eq!(c.get_status_unique(b"u1"), "u1\x001\x000\x000\x000\x000");
    for (n, func) in ["f", "h", "a"].iter().enumerate() {
        for _ in 0..=n {
            c.submit(SUBMIT_JOB, func, b"u1", b"x");
        }
        assert_eq!(
            c.get_status_unique(b"u1"),
            format!("u1\x001\x000\x000\x000\x00{}", n + 1)
        );
    }
}
