//! The admin text protocol, byte for byte as gearmand 1.1.20 answers it.
mod common;

use common::proto::{assert_listing, cmd::*, function_line, listing_lines, server, QUIET};
use std::time::Duration;

const INCOMPLETE: &str =
    "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+";

/// The `workers` lines as (fd, ip, "CLIENTID : FUNCS") after checking the fixed parts.
/// (gearmand shows a connection that is being closed with fd -1 for a moment.)
fn worker_lines(listing: &str) -> Vec<(i64, String, String)> {
    assert!(listing.ends_with(".\n"), "{listing:?}");
    listing
        .strip_suffix(".\n")
        .expect("list reply")
        .lines()
        .map(|l| {
            let mut it = l.splitn(3, ' ');
            let fd = it
                .next()
                .expect("fd field")
                .parse::<i64>()
                .unwrap_or_else(|_| panic!("fd in {l:?}"));
            let ip = it.next().expect("ip field").to_string();
            (
                fd,
                ip,
                it.next()
                    .unwrap_or_else(|| panic!("line {l:?}"))
                    .to_string(),
            )
        })
        .collect()
}

#[test]
fn fresh_server_lists_are_empty() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_list("status"), ".\n");
    assert_eq!(a.admin_list("prioritystatus"), ".\n");
    assert_eq!(a.admin_list("show jobs"), ".\n");
    assert_eq!(a.admin_list("show unique jobs"), ".\n");
    // The admin connection itself is listed.
    let w = worker_lines(&a.admin_list("workers"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!((w[0].1.as_str(), w[0].2.as_str()), ("127.0.0.1", "- :"));
}

#[test]
fn version_getpid_verbose() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_line("version"), "OK 1.1.20+ds\n");
    assert_eq!(a.admin_line("getpid"), format!("OK {}\n", s.pid()));
    assert_eq!(a.admin_line("verbose"), "OK ERROR\n");
    // Extra arguments are ignored.
    assert_eq!(a.admin_line("version x"), "OK 1.1.20+ds\n");
    assert_eq!(a.admin_line("getpid x"), format!("OK {}\n", s.pid()));
    assert_eq!(a.admin_line("verbose INFO"), "OK ERROR\n");

    let s2 = server(&["--verbose=INFO"]);
    let mut a2 = s2.connect();
    assert_eq!(a2.admin_line("verbose"), "OK INFO\n");
    let s3 = server(&["--verbose=WARNING"]);
    assert_eq!(s3.connect().admin_line("verbose"), "OK WARNING\n");
}

#[test]
fn unknown_commands_and_show_variants() {
    let s = server(&[]);
    let mut a = s.connect();
    let unknown = "ERR UNKNOWN_COMMAND Unknown+server+command";
    assert_eq!(a.admin_line("foo"), format!("{unknown}foo\r\n"));
    assert_eq!(a.admin_line("shutdown"), format!("{unknown}shutdown\r\n"));
    assert_eq!(
        a.admin_line("shutdown graceful"),
        format!("{unknown}shutdown\r\n")
    );
    assert_eq!(a.admin_line(""), format!("{unknown}\r\n"));
    assert_eq!(a.admin_line(" status"), format!("{unknown}\r\n"));
    assert_eq!(a.admin_line("  "), format!("{unknown}\r\n"));
    assert_eq!(a.admin_line("show"), format!("{unknown}show\r\n"));
    assert_eq!(a.admin_line("show foo"), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
    assert_eq!(
        a.admin_line("show unique"),
        "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"
    );
    assert_eq!(
        a.admin_line("show unique foo"),
        "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"
    );
    // Unlike the other list commands, `show` refuses extra tokens.
    assert_eq!(
        a.admin_line("show jobs extra"),
        "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"
    );
    assert_eq!(
        a.admin_line("show unique jobs extra"),
        "ERR UNKNOWN_SHOW_ARGUMENTS\r\n"
    );
    // Runs of spaces between tokens are one separator; the words are case-insensitive.
    assert_eq!(a.admin_list("show  jobs"), ".\n");
    assert_eq!(a.admin_list("SHOW JOBS"), ".\n");
    assert_eq!(a.admin_list("Show Unique Jobs"), ".\n");
    // The connection survived all of it.
    assert_eq!(a.admin_line("version"), "OK 1.1.20+ds\n");
}

#[test]
fn trailing_space_adds_an_empty_last_token() {
    // gearmand 1.1.20 turns trailing spaces into one empty final token: harmless for commands
    // that ignore extra arguments, but not for those that count them.
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_list("status   "), ".\n");
    assert_eq!(a.admin_line("show jobs "), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
    assert_eq!(a.admin_line("cancel job P:1 "), "ERR UNKNOWN_ERROR\r\n");
    assert_eq!(
        a.admin_line("create function ab "),
        format!("{INCOMPLETE}create\r\n")
    );
    // Five words and a trailing space make six tokens: the connection is closed.
    a.send_raw(b"a b c d e \n");
    assert!(a.is_closed(Duration::from_secs(3)));
}

#[test]
fn status_word_is_case_insensitive_and_ignores_extra_args() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "fn1", b"", b"x");
    let mut a = s.connect();
    let want = "fn1\t1\t0\t0\n.\n";
    assert_eq!(a.admin_list("status"), want);
    assert_eq!(a.admin_list("STATUS"), want);
    assert_eq!(a.admin_list("Status extra args here"), want);
    assert_eq!(a.admin_list("prioritystatus x"), "fn1\t0\t1\t0\t0\n.\n");
    let w = worker_lines(&a.admin_list("workers x y z"));
    assert_eq!(w.len(), 2, "{w:?}");
}

#[test]
fn six_tokens_close_the_connection_five_do_not() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(a.admin_line("maxqueue f 1 2 3"), "OK\r\n");
    assert_eq!(a.admin_list("workers a b c d"), a.admin_list("workers"));
    a.send_raw(b"maxqueue a b c d e f\n");
    assert!(a.is_closed(Duration::from_secs(3)));
    let mut b = s.connect();
    b.send_raw(b"maxqueue f 1 2 3 4\n");
    assert!(b.is_closed(Duration::from_secs(3)));
}

#[test]
fn status_counts_queued_running_and_workers() {
    let s = server(&[]);
    let mut w = s.connect();
    w.can_do(&["f", "f", "g"]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"1");
    c.submit(SUBMIT_JOB, "f", b"", b"2");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"", b"3");
    c.submit(SUBMIT_JOB_HIGH, "h", b"", b"4");
    let mut a = s.connect();
    let st = a.admin_list("status");
    assert_eq!(function_line(&st, "f").as_deref(), Some("f\t3\t0\t2"));
    assert_eq!(function_line(&st, "g").as_deref(), Some("g\t0\t0\t1"));
    assert_eq!(function_line(&st, "h").as_deref(), Some("h\t1\t0\t0"));
    assert_listing(
        &listing_lines(&st),
        &["f\t3\t0\t2", "g\t0\t0\t1", "h\t1\t0\t0"],
        "status",
    );
    let ps = a.admin_list("prioritystatus");
    assert_eq!(function_line(&ps, "f").as_deref(), Some("f\t0\t2\t1\t2"));
    assert_eq!(function_line(&ps, "g").as_deref(), Some("g\t0\t0\t0\t1"));
    assert_eq!(function_line(&ps, "h").as_deref(), Some("h\t1\t0\t0\t0"));

    // One running: TOTAL stays, RUNNING goes up, prioritystatus counts only the queue.
    let (handle, _, _) = w.grab_job();
    let st = a.admin_list("status");
    assert_eq!(function_line(&st, "f").as_deref(), Some("f\t3\t1\t2"));
    let ps = a.admin_list("prioritystatus");
    assert_eq!(function_line(&ps, "f").as_deref(), Some("f\t0\t1\t1\t2"));

    // Completed: gone from TOTAL; the function stays listed.
    w.work(WORK_COMPLETE, &handle, b"");
    w.sync();
    let st = a.admin_list("status");
    assert_eq!(function_line(&st, "f").as_deref(), Some("f\t2\t0\t2"));
    // CANT_DO removes every registration of the function.
    w.send(CANT_DO, &[b"f"]);
    w.sync();
    let st = a.admin_list("status");
    assert_eq!(function_line(&st, "f").as_deref(), Some("f\t2\t0\t0"));
    assert_eq!(function_line(&st, "g").as_deref(), Some("g\t0\t0\t1"));
    // RESET_ABILITIES removes the rest; functions never disappear on their own.
    w.send(RESET_ABILITIES, &[]);
    w.sync();
    let st = a.admin_list("status");
    assert_eq!(function_line(&st, "g").as_deref(), Some("g\t0\t0\t0"));
}

#[test]
fn workers_lists_every_connection_with_id_and_abilities() {
    let s = server(&[]);
    let mut w = s.connect();
    w.send(SET_CLIENT_ID, &[b"my id with spaces"]);
    w.send(CAN_DO, &[b"first"]);
    w.send(CAN_DO_TIMEOUT, &[b"second", b"5000"]);
    w.send(CAN_DO, &[b"third"]);
    w.send(CAN_DO, &[b"first"]);
    w.sync();
    let mut empty = s.connect();
    empty.send(SET_CLIENT_ID, &[b""]);
    empty.sync();
    let mut long = s.connect();
    long.send(SET_CLIENT_ID, &[&[b'x'; 300]]);
    long.sync();
    let mut plain = s.connect();
    plain.sync();

    let mut a = s.connect();
    let rest: Vec<String> = worker_lines(&a.admin_list("workers"))
        .into_iter()
        .map(|(_, ip, rest)| {
            assert_eq!(ip, "127.0.0.1");
            rest
        })
        .collect();
    // Newest connection first (ours); the descriptors differ per server, so only the rest of
    // each line is compared.
    let want = vec![
        // The admin connection and `plain`.
        "- :".to_string(),
        "- :".to_string(),
        // Truncated to 127 bytes.
        format!("{} :", "x".repeat(127)),
        // An empty id is printed as nothing.
        " :".to_string(),
        // Abilities in reverse registration order, duplicates kept.
        "my id with spaces : first third second first".to_string(),
    ];
    assert_listing(&rest, &want, "workers");

    // Distinct connections have distinct descriptors.
    let fds: std::collections::HashSet<i64> = worker_lines(&a.admin_list("workers"))
        .into_iter()
        .map(|(fd, _, _)| fd)
        .collect();
    assert_eq!(fds.len(), 5);

    // A closed connection disappears from the list.
    drop(long);
    assert!(common::proto::eventually(Duration::from_secs(3), || {
        worker_lines(&a.admin_list("workers")).len() == 4
    }));
}

#[test]
fn show_jobs_and_show_unique_jobs() {
    let s = server(&[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"u1", b"d");
    c.submit(SUBMIT_JOB, "f", b"", b"d");
    c.submit(SUBMIT_JOB_LOW, "g", b"-", b"payload");
    c.submit(SUBMIT_JOB_HIGH_BG, "g", b"hh", b"x");
    let mut a = s.connect();
    // HANDLE RETRIES IGNORE PERSISTED: background jobs are persisted (builtin queue).
    assert_listing(
        &listing_lines(&a.admin_list("show jobs")),
        &[
            "P:1\t0\t0\t1",
            "P:2\t0\t0\t0",
            "P:3\t0\t0\t0",
            "P:4\t0\t0\t1",
        ],
        "show jobs",
    );
    // An empty unique shows as an empty line, `-` as itself; ours lists by handle.
    assert_listing(
        &listing_lines(&a.admin_list("show unique jobs")),
        &["u1", "", "-", "hh"],
        "show unique jobs",
    );
}

#[test]
fn cancel_job_replies() {
    let s = server(&[]);
    let mut c = s.connect();
    let handle = c.submit(SUBMIT_JOB, "f", b"u", b"d");
    let mut a = s.connect();
    assert_eq!(a.admin_line("cancel job P:99"), "ERR UNKNOWN_JOB\r\n");
    assert_eq!(
        a.admin_line("cancel job"),
        "ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n"
    );
    assert_eq!(
        a.admin_line("cancel"),
        "ERR UNKNOWN_COMMAND Unknown+server+commandcancel\r\n"
    );
    assert_eq!(
        a.admin_line("cancel job P:1 extra"),
        "ERR UNKNOWN_ERROR\r\n"
    );
    assert_eq!(a.admin_line("cancel job a b c"), "ERR UNKNOWN_ERROR\r\n");
    assert_eq!(a.admin_line("cancel foo P:1"), "ERR UNKNOWN_ERROR\r\n");
    // Nothing was cancelled so far.
    c.expect_silence(QUIET);
    assert_eq!(a.admin_line("Cancel Job P:1"), "OK\r\n");
    c.expect_pkt(WORK_FAIL, &handle);
    // The cancelled job is never handed out.
    let mut w = s.connect();
    w.can_do(&["f"]);
    w.grab_none();
    assert_eq!(
        common::proto::status_of(&s, "f").as_deref(),
        Some("f\t0\t0\t1")
    );
}

#[test]
fn create_function_replies() {
    let s = server(&[]);
    let mut a = s.connect();
    // With CRLF the name is kept whole (the LF-only case is in server_fixed_bugs.rs).
    assert_eq!(a.admin_line("create function abcd\r"), "OK\r\n");
    assert_eq!(a.admin_line("create"), format!("{INCOMPLETE}create\r\n"));
    assert_eq!(
        a.admin_line("create function\r"),
        format!("{INCOMPLETE}create\r\n")
    );
    assert_eq!(
        a.admin_line("create foo\r"),
        format!("{INCOMPLETE}create\r\n")
    );
    assert_eq!(
        a.admin_line("create foo bar\r"),
        format!("{INCOMPLETE}create\r\n")
    );
    assert_eq!(
        a.admin_line("create function a b\r"),
        format!("{INCOMPLETE}create\r\n")
    );
    assert_eq!(a.admin_list("status"), "abcd\t0\t0\t0\n.\n");
    // Creating an existing function is fine and changes nothing.
    assert_eq!(a.admin_line("CREATE FUNCTION abcd\r"), "OK\r\n");
    assert_eq!(a.admin_list("status"), "abcd\t0\t0\t0\n.\n");
}

#[test]
fn drop_function_replies() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(
        a.admin_line("drop function nope"),
        "ERR function not found\r\n"
    );
    assert_eq!(a.admin_line("drop"), format!("{INCOMPLETE}drop\r\n"));
    assert_eq!(
        a.admin_line("drop function"),
        format!("{INCOMPLETE}drop\r\n")
    );
    assert_eq!(
        a.admin_line("drop foo bar"),
        format!("{INCOMPLETE}drop\r\n")
    );

    // A function with a worker cannot be dropped.
    let mut w = s.connect();
    w.can_do(&["busy"]);
    let busy = "ERR there are still connected workers or executing clients\r\n";
    assert_eq!(a.admin_line("drop function busy"), busy);
    // Unregistering makes it droppable.
    w.send(CANT_DO, &[b"busy"]);
    w.sync();
    assert_eq!(a.admin_line("drop function busy"), "OK\r\n");

    // An idle function is dropped, matching the name case-insensitively.
    assert_eq!(a.admin_line("create function Idle\r"), "OK\r\n");
    assert!(function_line(&a.admin_list("status"), "Idle").is_some());
    assert_eq!(a.admin_line("drop function IDLE"), "OK\r\n");
    assert!(function_line(&a.admin_list("status"), "Idle").is_none());
    assert_eq!(
        a.admin_line("drop function idle"),
        "ERR function not found\r\n"
    );
}

#[test]
fn maxqueue_replies_and_does_not_create_functions() {
    let s = server(&[]);
    let mut a = s.connect();
    assert_eq!(
        a.admin_line("maxqueue"),
        format!("{INCOMPLETE}maxqueue\r\n")
    );
    assert_eq!(a.admin_line("maxqueue foo"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue foo 10"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue foo 1 2"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue foo 1 2 3"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue foo -1"), "OK\r\n");
    assert_eq!(a.admin_line("maxqueue foo abc"), "OK\r\n");
    assert_eq!(a.admin_line("MAXQUEUE foo 0"), "OK\r\n");
    assert_eq!(a.admin_list("status"), ".\n");
}
