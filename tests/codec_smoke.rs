//! The harness and the codec agree on the wire format (no server needed).
mod common;

#[test]
fn harness_encoding_matches_codec() {
    use gearman::protocol::{encode, Command, Magic};
    let ours = encode(
        Magic::Request,
        Command::SubmitJob,
        &[b"reverse", b"", b"test"],
    );
    assert_eq!(
        ours,
        common::packet(common::REQ, 7, &[b"reverse", b"", b"test"])
    );
}
