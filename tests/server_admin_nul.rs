//! A NUL inside a function name or client id (the last argument of CAN_DO and SET_CLIENT_ID
//! may hold one) ends it in admin listings, as gearmand prints them as C strings. Found by the
//! session fuzz target (an admin reply starting with NUL is not a text line any more).

mod common;
use common::TestServer;

#[test]
fn nul_ends_names_in_admin_listings() {
    let server = TestServer::start(&[]);
    let mut c = server.connect();
    c.send(1, &[b"a\0x"]); // CAN_DO
    c.send(22, &[b"c\0d"]); // SET_CLIENT_ID
    assert_eq!(c.admin_list("status"), "a\t0\t0\t1\n.\n");
    assert_eq!(c.admin_list("prioritystatus"), "a\t0\t0\t0\t1\n.\n");
    let workers = c.admin_list("workers");
    assert!(workers.ends_with(" 127.0.0.1 c : a\n.\n"), "{workers:?}");
}
