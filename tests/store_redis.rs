//! The Redis store (`-q redis`) against a real redis-server started by each test: gearmand's
//! keys replayed (including the ones its own parser gets wrong), names with `-`, empty uniques,
//! epoch jobs, SCAN over many keys, a Redis restart without losing or bringing back a job.

mod common;
mod engine_support;

use engine_support::Redis;
use gearman::server::store::redis::{Address, RedisStore};
use gearman::server::store::{Seq, Store, StoredJob};
use std::collections::HashMap;

fn job(seq: Seq, function: &str, unique: &str, data: &str) -> StoredJob {
    StoredJob {
        seq,
        function: function.as_bytes().to_vec(),
        unique: unique.as_bytes().to_vec(),
        priority: 1,
        when: 0,
        reducer: None,
        data: data.as_bytes().to_vec().into(),
    }
}

fn address(r: &Redis) -> Address {
    Address {
        server: "127.0.0.1".into(),
        port: r.port,
        password: None,
    }
}

fn open(r: &Redis) -> Box<dyn Store> {
    Box::new(RedisStore::open(address(r), "_gear_").expect("open"))
}

fn hgetall(c: &mut redis::Connection, key: &str) -> HashMap<String, Vec<u8>> {
    redis::cmd("HGETALL").arg(key).query(c).expect("HGETALL")
}

#[test]
fn keys_written_by_gearmand_1_1_20_replay() {
    let Some(r) = Redis::start(false) else { return };
    let mut c = r.connection();
    // What Debian's gearmand 1.1.20 writes (measured with MONITOR): HMSET <prefix>-<f>-<u>.
    for (k, d, p) in [
        ("_gear_-fn-uniq1", "hello", "1"),
        (
            "_gear_-fn-a5ce4898-f116-11f1-b47c-02fc00000001",
            "uuid",
            "1",
        ),
        ("_gear_-fn-u 2", "space", "0"),
        ("_gear_-fe-", "empty", "2"),
    ] {
        redis::cmd("HMSET")
            .arg(k)
            .arg("data")
            .arg(d)
            .arg("priority")
            .arg(p)
            .exec(&mut c)
            .unwrap();
    }
    // A key of another application under another prefix is left alone.
    redis::cmd("SET")
        .arg("_gearx-other")
        .arg("x")
        .exec(&mut c)
        .unwrap();
    let mut s = open(&r);
    let rep = s.replay().unwrap();
    let mut got: Vec<(String, String, String, u8)> = rep
        .jobs
        .iter()
        .map(|j| {
            (
                String::from_utf8(j.function.clone()).unwrap(),
                String::from_utf8(j.unique.clone()).unwrap(),
                String::from_utf8(j.data.to_vec()).unwrap(),
                j.priority,
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String, u8)> = [
        ("fe", "", "empty", 2),
        ("fn", "a5ce4898-f116-11f1-b47c-02fc00000001", "uuid", 1),
        ("fn", "u 2", "space", 0),
        ("fn", "uniq1", "hello", 1),
    ]
    .iter()
    .map(|(f, u, d, p)| (f.to_string(), u.to_string(), d.to_string(), *p))
    .collect();
    assert_eq!(got, want);
    // Our done removes gearmand's key.
    let hello = rep
        .jobs
        .iter()
        .find(|j| j.data[..] == b"hello"[..])
        .unwrap()
        .seq;
    s.done(hello).unwrap();
    s.commit().unwrap();
    let exists: i64 = redis::cmd("EXISTS")
        .arg("_gear_-fn-uniq1")
        .query(&mut c)
        .unwrap();
    assert_eq!(exists, 0);
}

#[test]
fn our_layout_is_gearmands_plus_fields() {
    let Some(r) = Redis::start(false) else { return };
    let mut c = r.connection();
    let mut s = open(&r);
    s.replay().unwrap();
    s.add(&job(1, "f-x", "u-1", "dash")).unwrap();
    s.add(&job(2, "fe", "", "empty one")).unwrap();
    s.add(&job(3, "fe", "", "empty two")).unwrap();
    s.add(&StoredJob {
        when: 1_900_000_000,
        reducer: Some(b"red".to_vec()),
        priority: 0,
        ..job(4, "fn", "ep", "epoch")
    })
    .unwrap();
    s.commit().unwrap();
    let h = hgetall(&mut c, "_gear_-f-x-u-1");
    assert_eq!(h["data"], b"dash");
    assert_eq!(h["priority"], b"1");
    assert_eq!(h["function"], b"f-x");
    assert_eq!(h["unique"], b"u-1");
    assert_eq!(h["seq"], b"1");
    assert!(!h.contains_key("when"));
    // gearmand 1.1.20 cannot read an empty unique back from a key: `#<seq>` stands in.
    assert_eq!(hgetall(&mut c, "_gear_-fe-#2")["data"], b"empty one");
    assert_eq!(hgetall(&mut c, "_gear_-fe-#3")["data"], b"empty two");
    let e = hgetall(&mut c, "_gear_-fn-ep");
    assert_eq!(
        (e["when"].as_slice(), e["reducer"].as_slice()),
        (&b"1900000000"[..], &b"red"[..])
    );
    drop(s);
    let mut s = open(&r);
    let rep = s.replay().unwrap();
    assert_eq!(
        rep.jobs.iter().map(|j| j.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4]
    );
    assert_eq!(rep.jobs[0].function, b"f-x");
    assert_eq!(rep.jobs[0].unique, b"u-1");
    assert_eq!(rep.jobs[2].unique, b"");
    assert_eq!((rep.jobs[3].when, rep.jobs[3].priority), (1_900_000_000, 0));
    assert_eq!(rep.jobs[3].reducer.as_deref(), Some(&b"red"[..]));
    // The first empty-unique job done: its key goes, the other stays.
    s.done(2).unwrap();
    s.commit().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("_gear_-fe-*").query(&mut c).unwrap();
    assert_eq!(keys, vec!["_gear_-fe-#3".to_string()]);
    // A unique that is some other job's stand-in gets a key of its own too.
    s.add(&job(5, "fe", "#3", "literal")).unwrap();
    s.add(&job(6, "fn", "a b", "space")).unwrap();
    s.commit().unwrap();
    assert_eq!(hgetall(&mut c, "_gear_-fe-#3#5")["data"], b"literal");
    assert_eq!(hgetall(&mut c, "_gear_-fn-#6")["unique"], b"a b");
}

#[test]
fn replay_scans_many_keys() {
    let Some(r) = Redis::start(false) else { return };
    let mut s = open(&r);
    s.replay().unwrap();
    for i in 1..=5000u64 {
        s.add(&job(i, "many", &format!("u{i}"), "x")).unwrap();
        if i % 1000 == 0 {
            s.commit().unwrap();
        }
    }
    drop(s);
    let mut s = open(&r);
    let rep = s.replay().unwrap();
    assert_eq!(rep.jobs.len(), 5000);
    assert!(rep.jobs.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(rep.next_seq, 5001);
}

#[test]
fn a_restarted_redis_loses_nothing_and_brings_back_nothing() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    let mut s = open(&r);
    s.replay().unwrap();
    for i in 1..=3 {
        s.add(&job(i, "f", &format!("u{i}"), "x")).unwrap();
    }
    s.commit().unwrap();
    r.kill(); // SIGKILL: only the append-only file survives
    s.add(&job(4, "f", "u4", "refused")).unwrap();
    s.done(1).unwrap();
    let err = s.commit().unwrap_err();
    assert!(err.0.contains("Redis"), "{err}");
    r.start_again();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        // As the server does, the done of the failed batch comes again with the next one.
        s.done(1).unwrap();
        s.add(&job(5, "f", "u5", "after")).unwrap();
        match s.commit() {
            Ok(()) => break,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "never reconnected: {e}"
                );
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    drop(s);
    let mut s = open(&r);
    let got: Vec<Seq> = s.replay().unwrap().jobs.iter().map(|j| j.seq).collect();
    assert_eq!(got, vec![2, 3, 5]);
}

#[test]
fn a_bad_key_is_named_and_stops_the_start() {
    let Some(r) = Redis::start(false) else { return };
    let mut c = r.connection();
    redis::cmd("HSET")
        .arg("_gear_-fn-odd")
        .arg("data")
        .arg("x")
        .arg("priority")
        .arg("7")
        .exec(&mut c)
        .unwrap();
    let mut s = open(&r);
    let err = s.replay().unwrap_err().0;
    assert!(
        err.contains("_gear_-fn-odd") && err.contains("priority"),
        "{err}"
    );
}

#[test]
fn password_is_sent() {
    let Some(r) = Redis::start(false) else { return };
    let mut c = r.connection();
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg("s3cret")
        .exec(&mut c)
        .unwrap();
    let wrong = RedisStore::open(address(&r), "_gear_")
        .err()
        .expect("needs the password")
        .0;
    assert!(wrong.contains(&format!("127.0.0.1:{}", r.port)), "{wrong}");
    let mut s = RedisStore::open(
        Address {
            password: Some("s3cret".into()),
            ..address(&r)
        },
        "_gear_",
    )
    .expect("with the password");
    assert!(s.replay().unwrap().jobs.is_empty());
}

#[test]
fn a_redis_restarted_between_batches_costs_no_failed_batch() {
    let Some(mut r) = Redis::start(true) else {
        return;
    };
    let mut s = open(&r);
    s.replay().unwrap();
    s.add(&job(1, "f", "a", "before")).unwrap();
    s.commit().unwrap();
    r.stop();
    r.start_again();
    s.add(&job(2, "f", "b", "after")).unwrap();
    s.commit().expect("retried on a fresh connection");
    drop(s);
    let mut s = open(&r);
    let got: Vec<Seq> = s.replay().unwrap().jobs.iter().map(|j| j.seq).collect();
    assert_eq!(got, vec![1, 2]);
}
