//! Job handles, submissions and unique coalescing (spec §3.1, §3.3).
mod common;

use common::proto::{cmd::*, function_line, h, server, show, sorted_lines, QUIET};
use common::TestServer;

fn with_handle(handle: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = handle.to_vec();
    v.push(0);
    v.extend_from_slice(data);
    v
}

#[test]
fn default_handles_are_h_hostname_counter() {
    let s = TestServer::start(&[]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string();
    let mut c = s.connect();
    assert_eq!(
        show(&c.submit(SUBMIT_JOB_BG, "f", b"", b"")),
        format!("H:{host}:1")
    );
    assert_eq!(
        show(&c.submit(SUBMIT_JOB, "f", b"", b"")),
        format!("H:{host}:2")
    );
}

#[test]
fn handle_prefix_and_counter_per_created_job() {
    let s = TestServer::start(&["--job-handle-prefix=pfx-x"]);
    let mut c = s.connect();
    // Every submission type that creates a job takes the next number.
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"", b""), b"pfx-x:1");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b""), b"pfx-x:2");
    assert_eq!(c.submit(SUBMIT_JOB_HIGH, "f", b"", b""), b"pfx-x:3");
    assert_eq!(c.submit(SUBMIT_JOB_HIGH_BG, "f", b"", b""), b"pfx-x:4");
    assert_eq!(c.submit(SUBMIT_JOB_LOW, "f", b"", b""), b"pfx-x:5");
    assert_eq!(c.submit(SUBMIT_JOB_LOW_BG, "f", b"", b""), b"pfx-x:6");
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"", b"0", b""]);
    assert_eq!(c.expect(JOB_CREATED).payload, b"pfx-x:7");
    c.send(SUBMIT_REDUCE_JOB, &[b"f", b"", b"r", b"", b""]);
    assert_eq!(c.expect(JOB_CREATED).payload, b"pfx-x:8");
    c.send(SUBMIT_REDUCE_JOB_BACKGROUND, &[b"f", b"", b"r", b"", b""]);
    assert_eq!(c.expect(JOB_CREATED).payload, b"pfx-x:9");
    // A coalescing submission reuses the handle and does not use up a number.
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"u", b""), b"pfx-x:10");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"u", b""), b"pfx-x:10");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"v", b""), b"pfx-x:11");
    // Refused submissions do not use one either.
    c.send(SUBMIT_JOB_BG, &[b"f", &[b'u'; 65], b""]);
    c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b""), b"pfx-x:12");
    // Handles are counted per server, across connections.
    let mut c2 = s.connect();
    assert_eq!(c2.submit(SUBMIT_JOB_BG, "g", b"", b""), b"pfx-x:13");
}

#[test]
fn submissions_are_answered_in_order_when_pipelined() {
    let s = server(&[]);
    let mut c = s.connect();
    let mut bytes = Vec::new();
    for i in 0..20u8 {
        let unique = if i == 10 {
            vec![b'x'; 70]
        } else {
            vec![b'a' + i]
        };
        bytes.extend(common::packet(
            common::REQ,
            SUBMIT_JOB_BG,
            &[b"f", &unique, b"d"],
        ));
    }
    c.send_raw(&bytes);
    let mut n = 0;
    for i in 0..20 {
        if i == 10 {
            c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
        } else {
            n += 1;
            c.expect_pkt(JOB_CREATED, &h(n));
        }
    }
}

#[test]
fn empty_unique_never_coalesces() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b"same"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"", b"same"), h(2));
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"", b"same"), h(3));
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"", b"same"), h(4));
    assert_eq!(
        function_line(&s.connect().admin_list("status"), "f").as_deref(),
        Some("f\t4\t0\t0")
    );
}

#[test]
fn dash_unique_means_the_payload() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"-", b"samedata"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"-", b"samedata"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"-", b"samedata"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"-", b"other"), h(2));
    // Same payload under another function is another job.
    assert_eq!(c.submit(SUBMIT_JOB_BG, "g", b"-", b"samedata"), h(3));
    // With empty data there is no coalescing.
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"-", b""), h(4));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"-", b""), h(5));
    let mut a = s.connect();
    assert_eq!(
        sorted_lines(&a.admin_list("show unique jobs")),
        vec!["-"; 5]
    );
    // GET_STATUS_UNIQUE("-") finds none of them.
    assert_eq!(c.get_status_unique(b"-"), "-\x000\x000\x000\x000\x000");
}

#[test]
fn same_unique_other_function_is_another_job() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", b"u", b"1"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB_BG, "g", b"u", b"2"), h(2));
    assert_eq!(
        c.submit(SUBMIT_JOB_BG, "F", b"u", b"3"),
        h(3),
        "function names are case-sensitive"
    );
    assert_eq!(c.submit(SUBMIT_JOB_BG, "g", b"u", b"4"), h(2));
    assert_eq!(
        c.submit(SUBMIT_JOB_BG, "f", b"U", b"5"),
        h(4),
        "uniques are case-sensitive"
    );
}

#[test]
fn unique_length_limits() {
    let s = server(&[]);
    let mut c = s.connect();
    let u63 = [b'a'; 63];
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", &u63, b""), h(1));
    assert_eq!(
        c.submit(SUBMIT_JOB, "f", &u63, b""),
        h(1),
        "63 bytes coalesce"
    );
    // 64 bytes are accepted (whether they coalesce is in server_fixed_bugs.rs).
    assert_eq!(c.submit(SUBMIT_JOB_BG, "f", &[b'b'; 64], b""), h(2));
    for kind in [
        SUBMIT_JOB,
        SUBMIT_JOB_BG,
        SUBMIT_JOB_HIGH,
        SUBMIT_JOB_LOW_BG,
    ] {
        c.send(kind, &[b"f", &[b'c'; 65], b""]);
        c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
    }
    c.send(SUBMIT_JOB_EPOCH, &[b"f", &[b'c'; 65], b"0", b""]);
    c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
    c.send(SUBMIT_JOB_BG, &[b"f", &[b'c'; 1000], b""]);
    c.expect_error("ARGUMENT_TOO_LARGE", "Unique value too large");
    // Nothing was created by the refused ones.
    assert_eq!(
        function_line(&s.connect().admin_list("status"), "f").as_deref(),
        Some("f\t2\t0\t0")
    );
}

#[test]
fn long_function_names_are_accepted() {
    let s = server(&[]);
    let mut c = s.connect();
    let name = "n".repeat(1000);
    assert_eq!(c.submit(SUBMIT_JOB_BG, &name, b"", b"d"), h(1));
    let mut w = s.connect();
    w.can_do(&[&name]);
    let (handle, func, data) = w.grab_job();
    assert_eq!(
        (handle, func, data),
        (h(1), name.into_bytes(), b"d".to_vec())
    );
}

#[test]
fn first_submission_data_and_priority_win() {
    let s = server(&[]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    assert_eq!(c1.submit(SUBMIT_JOB, "co", b"same", b"p1"), h(1));
    assert_eq!(
        c2.submit(SUBMIT_JOB_HIGH, "co", b"same", b"p2-different"),
        h(1)
    );
    let mut a = s.connect();
    // Still one normal job.
    assert_eq!(
        function_line(&a.admin_list("prioritystatus"), "co").as_deref(),
        Some("co\t0\t1\t0\t0")
    );
    let mut w = s.connect();
    w.can_do(&["co"]);
    w.send(GRAB_JOB_UNIQ, &[]);
    w.expect_pkt(JOB_ASSIGN_UNIQ, b"P:1\0co\0same\0p1");
}

#[test]
fn coalesced_foreground_clients_all_get_every_result() {
    let s = server(&["--exceptions"]);
    let mut c1 = s.connect();
    let mut c2 = s.connect();
    let mut bg = s.connect();
    assert_eq!(c1.submit(SUBMIT_JOB, "co", b"same", b"p1"), h(1));
    assert_eq!(c2.submit(SUBMIT_JOB_LOW, "co", b"same", b"p2"), h(1));
    assert_eq!(bg.submit(SUBMIT_JOB_BG, "co", b"same", b"p3"), h(1));
    let mut w = s.connect();
    w.can_do(&["co"]);
    let (handle, _, data) = w.grab_job();
    assert_eq!((handle.clone(), data), (h(1), b"p1".to_vec()));
    // Coalescing onto a running job still works.
    let mut c3 = s.connect();
    assert_eq!(c3.submit(SUBMIT_JOB_HIGH, "co", b"same", b"p4"), h(1));
    w.work(WORK_DATA, &handle, b"d");
    w.work(WORK_WARNING, &handle, b"w");
    w.send(WORK_STATUS, &[&handle, b"1", b"2"]);
    w.work(WORK_COMPLETE, &handle, b"done");
    for c in [&mut c1, &mut c2, &mut c3] {
        c.expect_pkt(WORK_DATA, &with_handle(&handle, b"d"));
        c.expect_pkt(WORK_WARNING, &with_handle(&handle, b"w"));
        c.expect_pkt(WORK_STATUS, b"P:1\x001\x002");
        c.expect_pkt(WORK_COMPLETE, &with_handle(&handle, b"done"));
    }
    bg.expect_silence(QUIET);
    // Finished: a new submission with that unique is a new job.
    assert_eq!(c1.submit(SUBMIT_JOB_BG, "co", b"same", b""), h(2));
}

#[test]
fn same_connection_attached_twice_gets_packets_twice() {
    let s = server(&[]);
    let mut c = s.connect();
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"u", b"x"), h(1));
    assert_eq!(c.submit(SUBMIT_JOB, "f", b"u", b"x"), h(1));
    assert_eq!(c.get_status_unique(b"u"), "u\x001\x000\x000\x000\x002");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, _) = w.grab_job();
    w.work(WORK_DATA, &handle, b"d");
    w.work(WORK_COMPLETE, &handle, b"r");
    c.expect_pkt(WORK_DATA, b"P:1\0d");
    c.expect_pkt(WORK_DATA, b"P:1\0d");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0r");
    c.expect_pkt(WORK_COMPLETE, b"P:1\0r");
    c.expect_silence(QUIET);
}

#[test]
fn background_onto_foreground_gets_only_the_handle() {
    let s = server(&[]);
    let mut fg = s.connect();
    let mut bg = s.connect();
    assert_eq!(fg.submit(SUBMIT_JOB, "f", b"u", b"fgdata"), h(1));
    assert_eq!(bg.submit(SUBMIT_JOB_BG, "f", b"u", b"bgdata"), h(1));
    // Not persisted: the job was created by a foreground submission.
    assert_eq!(s.connect().admin_list("show jobs"), "P:1\t0\t0\t0\n.\n");
    assert_eq!(bg.get_status_unique(b"u"), "u\x001\x000\x000\x000\x001");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, data) = w.grab_job();
    assert_eq!(data, b"fgdata");
    w.work(WORK_COMPLETE, &handle, b"r");
    fg.expect_pkt(WORK_COMPLETE, b"P:1\0r");
    bg.expect_silence(QUIET);
}

#[test]
fn foreground_onto_background_gets_the_results() {
    let s = server(&[]);
    let mut bg = s.connect();
    let mut fg = s.connect();
    assert_eq!(bg.submit(SUBMIT_JOB_BG, "f", b"u", b"bgdata"), h(1));
    assert_eq!(fg.submit(SUBMIT_JOB, "f", b"u", b"fgdata"), h(1));
    // Persisted: created by the background submission.
    assert_eq!(s.connect().admin_list("show jobs"), "P:1\t0\t0\t1\n.\n");
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (handle, _, data) = w.grab_job();
    assert_eq!(data, b"bgdata");
    w.work(WORK_COMPLETE, &handle, b"r");
    fg.expect_pkt(WORK_COMPLETE, b"P:1\0r");
    bg.expect_silence(QUIET);
}

#[test]
fn large_payloads_reach_the_worker_and_back() {
    let s = server(&[]);
    let mut c = s.connect();
    let data: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 251) as u8).collect();
    assert_eq!(c.submit(SUBMIT_JOB, "big", b"", &data), h(1));
    let mut w = s.connect();
    w.can_do(&["big"]);
    let (handle, _, got) = w.grab_job();
    assert!(got == data, "1 MiB job payload with NULs arrives intact");
    w.work(WORK_COMPLETE, &handle, &data);
    let p = c.expect(WORK_COMPLETE);
    assert!(p.payload == with_handle(&handle, &data));
}

#[test]
fn a_large_payload_shared_by_coalesced_clients_reaches_each_intact() {
    let s = server(&[]);
    // Larger than a read, with NULs, and not a multiple of anything the server reads in.
    let data: Vec<u8> = (0..(1usize << 20) + 77)
        .map(|i| (i * 7 % 253) as u8)
        .collect();
    let partial: Vec<u8> = data[..300_001].iter().rev().copied().collect();
    let result: Vec<u8> = data.iter().map(|b| b ^ 0x5a).collect();
    let mut w = s.connect();
    w.can_do(&["big"]);
    // The same unique, then the unique "-" (coalescing on the payload itself).
    for (round, unique) in [(1, &b"same"[..]), (2, b"-")] {
        let mut clients: Vec<_> = (0..4).map(|_| s.connect()).collect();
        for c in clients.iter_mut() {
            assert_eq!(c.submit(SUBMIT_JOB, "big", unique, &data), h(round));
        }
        let (handle, _, got) = w.grab_job();
        assert_eq!(handle, h(round));
        assert!(
            got == data,
            "round {round}: the worker's payload is damaged"
        );
        w.work(WORK_DATA, &handle, &partial);
        w.work(WORK_WARNING, &handle, &data);
        w.work(WORK_COMPLETE, &handle, &result);
        for (i, c) in clients.iter_mut().enumerate() {
            for (kind, want) in [
                (WORK_DATA, &partial),
                (WORK_WARNING, &data),
                (WORK_COMPLETE, &result),
            ] {
                let p = c.expect(kind);
                assert!(
                    p.payload == with_handle(&handle, want),
                    "round {round}, client {i}: packet type {kind} damaged"
                );
            }
        }
        w.grab_none();
    }
}
