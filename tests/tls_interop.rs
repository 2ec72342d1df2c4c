//! TLS against peers written elsewhere, in each direction: Python's `gear` (PyPI) as a server
//! for our library and as a client and worker of our server; Perl's Gearman::Client
//! (IO::Socket::SSL, peer verification on) against our server; `openssl s_client` speaking the
//! admin protocol to our server; Debian's `gearman -S` and PHP's `addOptions(256)` running on
//! our library. Certificates are made by the tests.

mod capi_support;
mod common;
mod tls_support;

use gearman::client::Priority;
use gearman::worker::GrabMode;
use gearman::Client;
use tls_support::*;

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// gear's server (TLS 1.2, asks for client certificates) runs jobs from our client for our
/// worker. gear knows no GRAB_JOB_ALL, so the worker grabs with GRAB_JOB_UNIQ.
#[test]
fn gear_server_serves_our_client_and_worker() {
    if !have_gear() {
        return;
    }
    let c = TestCerts::generate();
    let port = common::free_port();
    let _server = gear_peer("server", port, &c, &c.server_cert, &c.server_key);
    let _worker = ReverseWorker::start(&[port], Some(client_tls(&c)), GrabMode::Uniq);
    let mut client = Client::new();
    client.set_tls(Some(client_tls(&c)));
    client.add_server("localhost", port).expect("server");
    assert_eq!(client.do_job("reverse", b"hello").expect("do"), b"olleh");
    let big = payload(1 << 20);
    let mut want = big.clone();
    want.reverse();
    assert_eq!(client.do_job("reverse", &big).expect("do 1 MB"), want);
    let handle = client
        .submit_background(Priority::Normal, b"reverse", None, b"in the background")
        .expect("background");
    assert!(!handle.is_empty());
}
