//! One SQLite queue file, two servers: Debian's gearmand 1.1.20 (`-q libsqlite3`) writes it and
//! ours replays and runs every job; ours writes it and gearmand replays and runs every job.
//! Needs `/usr/sbin/gearmand` (skipped without it unless `GEARMAN_COMPAT_REQUIRED=1`).

mod common;
mod store_support;

use common::proto::cmd::*;
use common::proto::status_of;
use common::{reference_tool, TestServer};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store_support::{dump, dumped_total, run_all, start, Kind, TempDir};

fn gearmand_on(bin: &Path, db: &Path) -> TestServer {
    TestServer::start_bin(
        bin,
        &[
            "--job-handle-prefix=G",
            "-q",
            "libsqlite3",
            &format!("--libsqlite3-db={}", db.display()),
        ],
    )
}

fn stop(mut s: TestServer) {
    s.signal("TERM");
    assert!(
        s.wait_exit(Duration::from_secs(10)).is_some(),
        "server did not stop"
    );
}

#[test]
fn gearmands_queue_file_is_replayed_by_ours() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let dir = TempDir::new("from-gearmand");
    let db = dir.path.join("queue.db");
    let g = gearmand_on(&bin, &db);
    let mut c = g.connect();
    let later = (SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600)
        .to_string();
    c.submit(SUBMIT_JOB_BG, "f", b"u1", b"normal");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"u2", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"u3", b"low");
    c.send(SUBMIT_JOB_EPOCH, &[b"f", b"u4", later.as_bytes(), b"epoch"]);
    c.expect(JOB_CREATED);
    c.send(
        SUBMIT_REDUCE_JOB_BACKGROUND,
        &[b"r", b"u5", b"red", b"", b"map"],
    );
    c.expect(JOB_CREATED);
    stop(g);

    let ours = start(Kind::Sqlite, &dir.path, &[]);
    assert_eq!(status_of(&ours, "f").as_deref(), Some("f\t4\t0\t0"));
    assert_eq!(
        run_all(&ours, "f"),
        vec![b"high".to_vec(), b"normal".to_vec(), b"low".to_vec()]
    );
    assert_eq!(run_all(&ours, "r"), vec![b"map".to_vec()]);
    stop(ours);
    // Only the epoch job, not due yet, is left.
    let left = dump(Kind::Sqlite, &dir.path);
    assert!(left.contains("\tf\tu4\tnormal\t"), "{left}");
    assert_eq!(dumped_total(Kind::Sqlite, &dir.path), 1, "{left}");
}

#[test]
fn our_queue_file_is_replayed_by_gearmand() {
    let Some(bin) = reference_tool("/usr/sbin/gearmand") else {
        return;
    };
    let dir = TempDir::new("to-gearmand");
    let db = dir.path.join("queue.db");
    let ours = start(Kind::Sqlite, &dir.path, &[]);
    let mut c = ours.connect();
    // Two jobs with an empty unique: gearmand's own table would keep only one of them.
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-1");
    c.submit(SUBMIT_JOB_BG, "f", b"", b"empty-2");
    c.submit(SUBMIT_JOB_HIGH_BG, "f", b"k", b"high");
    c.submit(SUBMIT_JOB_LOW_BG, "f", b"l", b"low");
    stop(ours);

    let g = gearmand_on(&bin, &db);
    assert_eq!(status_of(&g, "f").as_deref(), Some("f\t4\t0\t0"));
    let mut ran = run_all(&g, "f");
    ran.sort();
    assert_eq!(
        ran,
        vec![
            b"empty-1".to_vec(),
            b"empty-2".to_vec(),
            b"high".to_vec(),
            b"low".to_vec()
        ]
    );
    // gearmand keeps writing the table as we left it; ours reads what it adds.
    g.connect()
        .submit(SUBMIT_JOB_BG, "f", b"from-g", b"added by gearmand");
    stop(g);
    let ours = start(Kind::Sqlite, &dir.path, &[]);
    assert_eq!(run_all(&ours, "f"), vec![b"added by gearmand".to_vec()]);
}
