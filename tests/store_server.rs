//! The server with a durable queue (`-q wal`, `-q libsqlite3`): what survives a SIGKILL, what a
//! restart shows, the answers while a commit is pending or failing, shutdown, refusal to start
//! on a damaged store, the dump. Every test runs against both backends.

mod common;
mod store_support;

use common::proto::cmd::*;
use common::proto::{eventually, status_of, QUIET};
use common::TestServer;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store_support::{
    dump, dumped_total, run_all, run_to_exit, start, submit_bg, Kind, TempDir, KINDS,
};

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

fn kill9(mut s: TestServer) {
    s.signal("KILL");
    s.wait_exit(Duration::from_secs(5));
}

#[test]
fn every_kind_of_background_job_survives_sigkill() {
    for kind in KINDS {
        let dir = TempDir::new("kinds");
        let s = start(kind, &dir.path, &[]);
        let mut c = s.connect();
        let epoch = (unix_now() + 3600).to_string();
        c.submit(SUBMIT_JOB_BG, "f", b"", b"a");
        c.submit(SUBMIT_JOB_BG, "f", b"", b"b"); // an empty unique again: a second job
        c.submit(SUBMIT_JOB_HIGH_BG, "f", b"h", b"high");
        c.submit(SUBMIT_JOB_LOW_BG, "f", b"l", b"low");
        c.send(SUBMIT_JOB_EPOCH, &[b"f", b"e", epoch.as_bytes(), b"later"]);
        c.expect(JOB_CREATED);
        c.send(
            SUBMIT_REDUCE_JOB_BACKGROUND,
            &[b"r", b"ru", b"red", b"", b"mapdata"],
        );
        c.expect(JOB_CREATED);
        // A foreground job is not stored.
        let mut fg = s.connect();
        fg.submit(SUBMIT_JOB, "f", b"fg", b"foreground");
        let jobs = c.admin_list("show jobs");
        assert_eq!(jobs.matches("\t0\t0\t1\n").count(), 6, "{kind:?}: {jobs}");
        kill9(s);
        drop(fg);

        let s = start(kind, &dir.path, &[]);
        let mut c = s.connect();
        assert_eq!(
            status_of(&s, "f").as_deref(),
            Some("f\t5\t0\t0"),
            "{kind:?}"
        );
        assert_eq!(
            status_of(&s, "r").as_deref(),
            Some("r\t1\t0\t0"),
            "{kind:?}"
        );
        assert_eq!(
            c.admin_list("show jobs"),
            "P:1\t0\t0\t1\nP:2\t0\t0\t1\nP:3\t0\t0\t1\nP:4\t0\t0\t1\nP:5\t0\t0\t1\nP:6\t0\t0\t1\n.\n",
            "{kind:?}: replayed jobs get handles 1..n in store order"
        );
        // Priorities kept; the epoch job is not due.
        let ran = run_all(&s, "f");
        assert_eq!(
            ran,
            vec![
                b"high".to_vec(),
                b"a".to_vec(),
                b"b".to_vec(),
                b"low".to_vec()
            ]
        );
        // The reducer was stored too.
        let mut w = s.connect();
        w.can_do(&["r"]);
        w.send(GRAB_JOB_ALL, &[]);
        let p = w.expect(JOB_ASSIGN_ALL);
        assert_eq!(
            p.fields(5)[1..],
            [
                b"r".to_vec(),
                b"ru".to_vec(),
                b"red".to_vec(),
                b"mapdata".to_vec()
            ]
        );
        w.send(WORK_COMPLETE, &[&p.fields(5)[0], b""]);
        w.sync();
        let mut s = s;
        s.signal("TERM");
        assert_eq!(
            s.wait_exit(Duration::from_secs(10)),
            Some(Some(0)),
            "{kind:?}"
        );
        // Only the epoch job is left in the store.
        assert_eq!(
            dumped_total(kind, &dir.path),
            1,
            "{kind:?}: {}",
            dump(kind, &dir.path)
        );
        assert!(
            dump(kind, &dir.path).contains("\tf\te\tnormal\t"),
            "{kind:?}"
        );
    }
}

#[test]
fn a_replayed_epoch_job_runs_at_its_time() {
    for kind in KINDS {
        let dir = TempDir::new("epoch");
        let s = start(kind, &dir.path, &[]);
        let mut c = s.connect();
        let when = unix_now() + 2;
        c.send(
            SUBMIT_JOB_EPOCH,
            &[b"e", b"", when.to_string().as_bytes(), b"tick"],
        );
        c.expect(JOB_CREATED);
        kill9(s);
        let s = start(kind, &dir.path, &[]);
        let mut w = s.connect();
        w.can_do(&["e"]);
        if unix_now() < when {
            w.send(GRAB_JOB, &[]);
            w.expect(NO_JOB);
        }
        w.send(PRE_SLEEP, &[]);
        // Woken when the job falls due.
        w.expect(NOOP);
        assert!(unix_now() >= when, "{kind:?}: woken early");
        w.send(GRAB_JOB, &[]);
        let p = w.expect(JOB_ASSIGN);
        assert_eq!(p.fields(3)[2], b"tick");
    }
}

#[test]
fn a_slow_commit_does_not_stall_anyone_else() {
    // Hold SQLite's write lock from outside: the store thread waits for it (busy timeout), the
    // event loop must not.
    let dir = TempDir::new("slow");
    let s = start(Kind::Sqlite, &dir.path, &[]);
    let db = dir.path.join("queue.db");
    let lock = rusqlite::Connection::open(&db).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();

    let mut bg = s.connect();
    bg.send(SUBMIT_JOB_BG, &[b"slow", b"k", b"one"]);
    let mut bg2 = s.connect();
    bg2.send(SUBMIT_JOB_BG, &[b"slow", b"k", b"two"]); // coalesces onto the pending job
    let mut fgc = s.connect();
    fgc.send(SUBMIT_JOB, &[b"slow", b"k", b"three"]); // so does a foreground submission
                                                      // Meanwhile a foreground job runs from submission to result.
    let mut w = s.connect();
    w.can_do(&["fast", "slow"]);
    let mut client = s.connect();
    let handle = client.submit(SUBMIT_JOB, "fast", b"", b"ping");
    let (h, _, data) = w.grab_job();
    assert_eq!((h.clone(), data), (handle.clone(), b"ping".to_vec()));
    w.send(WORK_COMPLETE, &[&h, b"pong"]);
    let mut done = handle.clone();
    done.extend_from_slice(b"\0pong");
    client.expect_pkt(WORK_COMPLETE, &done);
    assert!(client.admin_list("status").contains("slow\t1\t0\t1"));
    // The pending job is not handed out, and nobody has been answered.
    w.send(GRAB_JOB, &[]);
    w.expect(NO_JOB);
    bg.expect_silence(QUIET);
    bg2.expect_silence(Duration::from_millis(1));

    lock.execute_batch("COMMIT").unwrap();
    let h1 = bg.expect(JOB_CREATED).payload;
    assert_eq!(bg2.expect(JOB_CREATED).payload, h1);
    assert_eq!(fgc.expect(JOB_CREATED).payload, h1);
    let (h, _, data) = w.grab_job();
    assert_eq!((h.clone(), data), (h1, b"one".to_vec()));
    w.send(WORK_COMPLETE, &[&h, b"r"]);
    let mut done = h.clone();
    done.extend_from_slice(b"\0r");
    fgc.expect_pkt(WORK_COMPLETE, &done);
    bg.expect_silence(QUIET);
}

#[test]
fn a_full_disk_answers_queue_error_and_loses_nothing_acknowledged() {
    for kind in KINDS {
        let Some(fs) = store_support::SmallFs::mount(512) else {
            eprintln!("SKIPPED: cannot mount a tmpfs (not root); the EFBIG case below still runs");
            full_disk_case(kind, None);
            continue;
        };
        full_disk_case(kind, Some(&fs));
    }
}

/// Fills the store's file system (or, without one, hits RLIMIT_FSIZE) with 4 KiB jobs.
fn full_disk_case(kind: Kind, fs: Option<&store_support::SmallFs>) {
    let tmp = TempDir::new("full");
    let root = fs.map_or(tmp.path.clone(), |f| f.path.clone());
    let s = match fs {
        Some(_) => start(kind, &root, &[]),
        None => start_with_fsize(kind, &root, 400 << 10),
    };
    let mut c = s.connect();
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0..2000 {
        let data = format!("{i:04}").repeat(1024);
        let (kind_, payload) = submit_bg(&mut c, "full", b"", data.as_bytes());
        match kind_ {
            JOB_CREATED => acked.push(data.into_bytes()),
            ERROR => {
                assert!(
                    payload.starts_with(b"QUEUE_ERROR\0"),
                    "{kind:?}: {payload:?}"
                );
                refused += 1;
                if refused == 3 {
                    break;
                }
            }
            k => panic!("{kind:?}: unexpected reply {k}"),
        }
    }
    assert_eq!(refused, 3, "{kind:?}: the store never filled up");
    assert!(!acked.is_empty(), "{kind:?}");
    // Refused submissions left nothing behind; everyone else is still served.
    assert_eq!(
        status_of(&s, "full"),
        Some(format!("full\t{}\t0\t0", acked.len())),
        "{kind:?}"
    );
    let mut w = s.connect();
    w.can_do(&["fg"]);
    let mut client = s.connect();
    let h = client.submit(SUBMIT_JOB, "fg", b"", b"still");
    assert_eq!(w.grab_job().0, h);
    w.send(WORK_COMPLETE, &[&h, b"ok"]);
    client.expect(WORK_COMPLETE);
    kill9(s);
    if let Some(fs) = fs {
        fs.remount("size=64m");
    }
    let s = start(kind, &root, &[]);
    let ran = run_all(&s, "full");
    assert_eq!(
        ran.len(),
        acked.len(),
        "{kind:?}: every acknowledged job, once"
    );
    assert_eq!(ran, acked, "{kind:?}");
}

fn start_with_fsize(kind: Kind, dir: &std::path::Path, bytes: u64) -> TestServer {
    // prlimit execs the server, so the test harness still stops it by its pid.
    let script = dir.join("limited.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec prlimit --fsize={bytes} -- {} \"$@\"\n",
            env!("CARGO_BIN_EXE_gearmand")
        ),
    )
    .expect("write the wrapper script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
        .expect("make the wrapper executable");
    let mut args: Vec<String> = vec!["--job-handle-prefix=P".into()];
    args.extend(store_support::queue_args(kind, dir));
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    TestServer::start_bin(&script, &refs)
}

#[test]
fn a_store_that_has_room_again_accepts_jobs_again() {
    // The same server, without a restart: full, then grown.
    for kind in KINDS {
        let Some(fs) = store_support::SmallFs::mount(256) else {
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return;
        };
        let s = start(kind, &fs.path, &[]);
        let mut c = s.connect();
        let mut acked = 0;
        let data = vec![b'x'; 8192];
        loop {
            match submit_bg(&mut c, "grow", b"", &data).0 {
                JOB_CREATED => acked += 1,
                ERROR => break,
                k => panic!("{kind:?}: reply {k}"),
            }
            assert!(acked < 1000, "{kind:?}: never full");
        }
        fs.remount("size=16m");
        assert!(
            eventually(Duration::from_secs(5), || submit_bg(
                &mut c, "grow", b"", b"after"
            )
            .0 == JOB_CREATED),
            "{kind:?}"
        );
        kill9(s);
        let s = start(kind, &fs.path, &[]);
        let ran = run_all(&s, "grow");
        assert_eq!(ran.len(), acked + 1, "{kind:?}");
        assert_eq!(ran.last().map(|d| &d[..]), Some(&b"after"[..]), "{kind:?}");
    }
}

#[test]
fn a_read_only_store_refuses_to_start() {
    // A file system cannot be made read-only under a server that holds the store open for
    // writing (the kernel refuses the remount), so this is the read-only store at start.
    for kind in KINDS {
        let Some(fs) = store_support::SmallFs::mount(1024) else {
            eprintln!("SKIPPED: mounting a tmpfs needs root");
            return;
        };
        let s = start(kind, &fs.path, &[]);
        s.connect().submit(SUBMIT_JOB_BG, "f", b"", b"kept");
        kill9(s);
        fs.remount("ro");
        let args = store_support::queue_args(kind, &fs.path);
        let (code, err) = run_to_exit(&args);
        assert_eq!(code, Some(1), "{kind:?}: {err}");
        assert!(
            err.contains(&fs.path.display().to_string()),
            "{kind:?}: {err}"
        );
        fs.remount("rw");
        let s = start(kind, &fs.path, &[]);
        assert_eq!(run_all(&s, "f"), vec![b"kept".to_vec()], "{kind:?}");
    }
}

#[test]
fn cancel_and_the_retry_limit_remove_the_record() {
    for kind in KINDS {
        let dir = TempDir::new("cancel");
        let s = start(kind, &dir.path, &["-j", "1"]);
        let mut c = s.connect();
        let h1 = c.submit(SUBMIT_JOB_BG, "f", b"", b"cancelled");
        c.submit(SUBMIT_JOB_BG, "f", b"", b"dropped");
        assert_eq!(
            c.admin_line(&format!("cancel job {}", String::from_utf8_lossy(&h1))),
            "OK\r\n"
        );
        let mut w = s.connect();
        w.can_do(&["f"]);
        let (_, _, data) = w.grab_job();
        assert_eq!(data, b"dropped");
        drop(w); // the worker dies: with -j 1 the job is dropped
        assert!(eventually(Duration::from_secs(5), || status_of(&s, "f")
            .as_deref()
            == Some("f\t0\t0\t0")));
        let mut s = s;
        s.signal("TERM");
        assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(Some(0)));
        assert_eq!(
            dumped_total(kind, &dir.path),
            0,
            "{kind:?}: {}",
            dump(kind, &dir.path)
        );
    }
}

#[test]
fn a_background_submission_makes_a_foreground_job_durable() {
    for kind in KINDS {
        let dir = TempDir::new("upgrade");
        let s = start(kind, &dir.path, &[]);
        let mut fg = s.connect();
        let h = fg.submit(SUBMIT_JOB, "f", b"same", b"payload");
        let mut bg = s.connect();
        assert_eq!(bg.submit(SUBMIT_JOB_BG, "f", b"same", b"other"), h);
        drop(fg); // the foreground client leaves: the background owner keeps the job
        kill9(s);
        let s = start(kind, &dir.path, &[]);
        assert_eq!(run_all(&s, "f"), vec![b"payload".to_vec()], "{kind:?}");
    }
}

#[test]
fn sigusr1_drains_and_leaves_an_empty_store() {
    for kind in KINDS {
        let dir = TempDir::new("drain");
        let mut s = start(kind, &dir.path, &[]);
        let mut c = s.connect();
        c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
        let mut w = s.connect();
        w.can_do(&["f"]);
        s.signal("USR1");
        let (h, _, _) = w.grab_job();
        w.send(WORK_COMPLETE, &[&h, b""]);
        assert_eq!(
            s.wait_exit(Duration::from_secs(10)),
            Some(Some(0)),
            "{kind:?}"
        );
        assert_eq!(dumped_total(kind, &dir.path), 0, "{kind:?}");
    }
}

#[test]
fn a_damaged_store_refuses_to_start_and_names_the_record() {
    // Our log: a flipped byte inside the first of two frames.
    let dir = TempDir::new("damaged");
    let s = start(Kind::Wal, &dir.path, &[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"first job");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"second job");
    kill9(s);
    let log = dir.path.join("wal/queue.log");
    let mut bytes = std::fs::read(&log).unwrap();
    bytes[8 + 12 + 20] ^= 0x01;
    std::fs::write(&log, &bytes).unwrap();
    let args = store_support::queue_args(Kind::Wal, &dir.path);
    let (code, err) = run_to_exit(&args);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&log.display().to_string()), "{err}");
    assert!(err.contains("frame 1 (byte offset 8)"), "{err}");
    assert_eq!(
        std::fs::read(&log).unwrap(),
        bytes,
        "the damaged file is left as it was"
    );

    // SQLite: a row with a priority gearmand never writes.
    let dir = TempDir::new("badrow");
    let s = start(Kind::Sqlite, &dir.path, &[]);
    let mut c = s.connect();
    c.submit(SUBMIT_JOB_BG, "f", b"", b"x");
    kill9(s);
    let db = dir.path.join("queue.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("UPDATE gearman_queue SET priority = 9")
        .unwrap();
    let args = store_support::queue_args(Kind::Sqlite, &dir.path);
    let (code, err) = run_to_exit(&args);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("rowid 1"), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");

    // Not a database at all.
    std::fs::write(&db, vec![b'z'; 4096]).unwrap();
    let _ = std::fs::remove_file(dir.path.join("queue.db-wal"));
    let (code, err) = run_to_exit(&args);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&db.display().to_string()), "{err}");
}

#[test]
fn queue_dump_reads_a_running_servers_store() {
    for kind in KINDS {
        let dir = TempDir::new("dump");
        let s = start(kind, &dir.path, &[]);
        let mut c = s.connect();
        c.submit(SUBMIT_JOB_HIGH_BG, "mail", b"m1", b"12345");
        c.submit(SUBMIT_JOB_BG, "mail", b"", b"");
        c.submit(SUBMIT_JOB_LOW_BG, "resize", b"r1", b"1");
        let text = dump(kind, &dir.path);
        assert!(
            text.contains("\tmail\tm1\thigh\t0\t-\t5\n"),
            "{kind:?}: {text}"
        );
        assert!(text.contains("# mail\t1\t1\t0\t2\n"), "{kind:?}: {text}");
        assert!(text.contains("# resize\t0\t0\t1\t1\n"), "{kind:?}: {text}");
        assert!(text.ends_with("# total\t3\n"), "{kind:?}: {text}");
        // The server is untouched by the dump.
        c.submit(SUBMIT_JOB_BG, "mail", b"", b"more");
        assert_eq!(dumped_total(kind, &dir.path), 4);
    }
    // A store that is not there is an error, not an empty listing (a mistyped path).
    let dir = TempDir::new("nodump");
    for kind in KINDS {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gearmand"))
            .args(store_support::queue_args(kind, &dir.path.join("missing")))
            .arg("--queue-dump")
            .output()
            .expect("run --queue-dump");
        assert_eq!(out.status.code(), Some(1), "{kind:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("missing"),
            "{kind:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn store_queue_on_shutdown_writes_at_a_clean_stop_only() {
    let dir = TempDir::new("onshutdown");
    let mut s = start(Kind::Sqlite, &dir.path, &["--store-queue-on-shutdown"]);
    let mut c = s.connect();
    for d in [b"1", b"2", b"3"] {
        c.submit(SUBMIT_JOB_BG, "f", b"", d);
    }
    assert_eq!(
        dumped_total(Kind::Sqlite, &dir.path),
        0,
        "nothing written while running"
    );
    s.signal("TERM");
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(Some(0)));
    assert_eq!(dumped_total(Kind::Sqlite, &dir.path), 3);
    let mut s = start(Kind::Sqlite, &dir.path, &["--store-queue-on-shutdown"]);
    let mut w = s.connect();
    w.can_do(&["f"]);
    let (h, _, data) = w.grab_job();
    assert_eq!(data, b"1");
    w.send(WORK_COMPLETE, &[&h, b""]);
    w.sync();
    s.signal("TERM");
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(Some(0)));
    assert_eq!(dumped_total(Kind::Sqlite, &dir.path), 2);
}

#[test]
fn the_store_belongs_to_the_dash_u_user() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("SKIPPED: -u needs root");
        return;
    }
    use std::os::unix::fs::MetadataExt;
    let dir = TempDir::new("user");
    let store = dir.path.join("q");
    std::fs::create_dir_all(&store).expect("store dir");
    let c = std::ffi::CString::new(store.display().to_string()).expect("path");
    // SAFETY: chown reads the NUL-terminated path, which outlives the call.
    assert_eq!(unsafe { libc::chown(c.as_ptr(), 65534, 65534) }, 0);
    for kind in KINDS {
        let s = start(kind, &store, &["-u", "nobody"]);
        s.connect().submit(SUBMIT_JOB_BG, "f", b"", b"mine");
        let file = match kind {
            Kind::Wal => store.join("wal/queue.log"),
            Kind::Sqlite => store.join("queue.db"),
        };
        let meta = std::fs::metadata(&file).expect("store file");
        assert_eq!(
            meta.uid(),
            65534,
            "{kind:?}: {} belongs to nobody",
            file.display()
        );
        kill9(s);
    }
}

#[test]
fn sigterm_commits_and_answers_the_pending_batch_before_exiting() {
    let dir = TempDir::new("termflush");
    let mut s = start(Kind::Sqlite, &dir.path, &[]);
    let lock = rusqlite::Connection::open(dir.path.join("queue.db")).expect("open");
    lock.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let mut c = s.connect();
    c.send(SUBMIT_JOB_BG, &[b"f", b"", b"in flight"]);
    c.expect_silence(QUIET);
    s.signal("TERM");
    // The server stopped accepting but waits for the commit of the submission it received.
    assert!(
        eventually(Duration::from_secs(5), || std::net::TcpStream::connect((
            "127.0.0.1",
            s.port
        ))
        .is_err()),
        "still accepting after SIGTERM"
    );
    std::thread::sleep(Duration::from_millis(200));
    lock.execute_batch("COMMIT").expect("unlock");
    c.expect(JOB_CREATED);
    assert_eq!(s.wait_exit(Duration::from_secs(10)), Some(Some(0)));
    assert_eq!(dumped_total(Kind::Sqlite, &dir.path), 1);
}

#[test]
fn a_foreground_client_leaving_during_the_upgrade_does_not_drop_the_job() {
    let dir = TempDir::new("upgrade-leave");
    let s = start(Kind::Sqlite, &dir.path, &[]);
    let lock = rusqlite::Connection::open(dir.path.join("queue.db")).expect("open");
    let mut fg = s.connect();
    let h = fg.submit(SUBMIT_JOB, "f", b"same", b"payload");
    lock.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let mut bg = s.connect();
    bg.send(SUBMIT_JOB_BG, &[b"f", b"same", b"other"]);
    bg.expect_silence(QUIET);
    drop(fg); // leaves while the background submission's add is pending
    std::thread::sleep(QUIET);
    lock.execute_batch("COMMIT").expect("unlock");
    assert_eq!(bg.expect(JOB_CREATED).payload, h);
    assert_eq!(run_all(&s, "f"), vec![b"payload".to_vec()]);
}

#[test]
fn answers_keep_the_order_of_the_requests_while_a_commit_is_pending() {
    // libgearman matches JOB_CREATED to its submissions by order: a foreground submission and
    // an ECHO sent after a background one are answered after it.
    let dir = TempDir::new("order");
    let s = start(Kind::Sqlite, &dir.path, &[]);
    let lock = rusqlite::Connection::open(dir.path.join("queue.db")).expect("open");
    lock.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let mut c = s.connect();
    c.send(SUBMIT_JOB_BG, &[b"f", b"", b"background"]);
    c.send(SUBMIT_JOB, &[b"g", b"", b"foreground"]);
    c.send(SUBMIT_JOB_BG, &[b"f", b"", b"second background"]);
    c.send(ECHO_REQ, &[b"e"]);
    c.expect_silence(QUIET);
    lock.execute_batch("COMMIT").expect("unlock");
    c.expect_pkt(JOB_CREATED, b"P:1");
    c.expect_pkt(JOB_CREATED, b"P:2");
    c.expect_pkt(JOB_CREATED, b"P:3");
    c.expect_pkt(ECHO_RES, b"e");
}
