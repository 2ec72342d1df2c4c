//! The socket-free server driver used by the session fuzz target: a job runs end to end, a
//! worker lost mid-job gives its job back, and a malformed stream closes only its connection.

use gearman::protocol::{encode, Command, Magic};
use gearman::server::{Config, CoreDriver};

fn req(command: Command, args: &[&[u8]]) -> Vec<u8> {
    encode(Magic::Request, command, args)
}

fn res(command: Command, args: &[&[u8]]) -> Vec<u8> {
    encode(Magic::Response, command, args)
}

fn server() -> CoreDriver {
    CoreDriver::new(&Config {
        job_handle_prefix: "H:t".to_string(),
        ..Config::default()
    })
}

#[test]
fn a_job_runs_end_to_end() {
    let mut s = server();
    let (client, worker) = (s.connect(), s.connect());
    assert!(s.feed(worker, &req(Command::CanDo, &[b"f"])));
    assert!(s.feed(client, &req(Command::SubmitJob, &[b"f", b"u", b"hi"])));
    assert_eq!(s.job_count(), 1);
    assert!(s.feed(worker, &req(Command::GrabJob, &[])));
    let assign = res(Command::JobAssign, &[b"H:t:1", b"f", b"hi"]);
    assert!(s.take_output(worker).ends_with(&assign));
    s.check().unwrap();
    assert!(s.feed(worker, &req(Command::WorkComplete, &[b"H:t:1", b"ok"])));
    let mut expected = res(Command::JobCreated, &[b"H:t:1"]);
    expected.extend(res(Command::WorkComplete, &[b"H:t:1", b"ok"]));
    assert_eq!(s.take_output(client), expected);
    assert_eq!(s.job_count(), 0);
    s.check().unwrap();
}

#[test]
fn a_lost_worker_gives_its_job_back() {
    let mut s = server();
    let (client, w1, w2) = (s.connect(), s.connect(), s.connect());
    s.feed(w1, &req(Command::CanDo, &[b"f"]));
    s.feed(client, &req(Command::SubmitJobBg, &[b"f", b"", b"x"]));
    s.feed(w1, &req(Command::GrabJob, &[]));
    s.disconnect(w1);
    s.check().unwrap();
    s.feed(w2, &req(Command::CanDo, &[b"f"]));
    s.feed(w2, &req(Command::GrabJob, &[]));
    let assign = res(Command::JobAssign, &[b"H:t:1", b"f", b"x"]);
    assert!(s.take_output(w2).ends_with(&assign));
    s.check().unwrap();
}

#[test]
fn a_malformed_stream_closes_only_its_connection() {
    let mut s = server();
    let (bad, good) = (s.connect(), s.connect());
    assert!(!s.feed(bad, b"\0XYZ\0\0\0\x01\0\0\0\0"));
    assert!(!s.is_open(bad));
    assert!(s.feed(good, b"version\n"));
    assert_eq!(s.take_output(good), b"OK 1.1.20+ds\n");
    // Too few fields: an error reply, then the connection closes.
    let short = b"\0REQ\0\0\0\x07\0\0\0\x03abc";
    assert!(!s.feed(good, short));
    let out = s.take_output(good);
    assert!(out.windows(14).any(|w| w == b"INVALID_PACKET"));
}
