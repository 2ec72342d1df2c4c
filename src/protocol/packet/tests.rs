use super::*;

const REQ: Magic = Magic::Request;
const RES: Magic = Magic::Response;

/// (magic, command, arguments, exact bytes on the wire).
type Vector = (Magic, Command, Vec<&'static [u8]>, &'static [u8]);

/// A vector for every packet type.
fn golden() -> Vec<Vector> {
    use Command::*;
    vec![
        (
            REQ,
            CanDo,
            vec![b"reverse"],
            b"\0REQ\0\0\0\x01\0\0\0\x07reverse",
        ),
        (
            REQ,
            CantDo,
            vec![b"reverse"],
            b"\0REQ\0\0\0\x02\0\0\0\x07reverse",
        ),
        (REQ, ResetAbilities, vec![], b"\0REQ\0\0\0\x03\0\0\0\0"),
        (REQ, PreSleep, vec![], b"\0REQ\0\0\0\x04\0\0\0\0"),
        (REQ, Unused, vec![], b"\0REQ\0\0\0\x05\0\0\0\0"),
        (RES, Noop, vec![], b"\0RES\0\0\0\x06\0\0\0\0"),
        (
            REQ,
            SubmitJob,
            vec![b"reverse", b"", b"test"],
            b"\0REQ\0\0\0\x07\0\0\0\x0dreverse\0\0test",
        ),
        (
            RES,
            JobCreated,
            vec![b"H:vm:1"],
            b"\0RES\0\0\0\x08\0\0\0\x06H:vm:1",
        ),
        (REQ, GrabJob, vec![], b"\0REQ\0\0\0\x09\0\0\0\0"),
        (RES, NoJob, vec![], b"\0RES\0\0\0\x0a\0\0\0\0"),
        (
            RES,
            JobAssign,
            vec![b"H:vm:1", b"reverse", b"test"],
            b"\0RES\0\0\0\x0b\0\0\0\x13H:vm:1\0reverse\0test",
        ),
        (
            REQ,
            WorkStatus,
            vec![b"H:1", b"1", b"3"],
            b"\0REQ\0\0\0\x0c\0\0\0\x07H:1\x001\x003",
        ),
        (
            RES,
            WorkComplete,
            vec![b"H:vm:1", b"tset"],
            b"\0RES\0\0\0\x0d\0\0\0\x0bH:vm:1\0tset",
        ),
        (REQ, WorkFail, vec![b"H:1"], b"\0REQ\0\0\0\x0e\0\0\0\x03H:1"),
        (
            REQ,
            GetStatus,
            vec![b"H:1"],
            b"\0REQ\0\0\0\x0f\0\0\0\x03H:1",
        ),
        (
            REQ,
            EchoReq,
            vec![b"a\0b"],
            b"\0REQ\0\0\0\x10\0\0\0\x03a\0b",
        ),
        (
            RES,
            EchoRes,
            vec![b"a\0b"],
            b"\0RES\0\0\0\x11\0\0\0\x03a\0b",
        ),
        (
            REQ,
            SubmitJobBg,
            vec![b"f", b"u", b"d"],
            b"\0REQ\0\0\0\x12\0\0\0\x05f\0u\0d",
        ),
        (
            RES,
            Error,
            vec![b"QUEUE_ERROR", b"Job queue is full"],
            b"\0RES\0\0\0\x13\0\0\0\x1dQUEUE_ERROR\0Job queue is full",
        ),
        (
            RES,
            StatusRes,
            vec![b"H:1", b"1", b"0", b"2", b"5"],
            b"\0RES\0\0\0\x14\0\0\0\x0bH:1\x001\x000\x002\x005",
        ),
        (
            REQ,
            SubmitJobHigh,
            vec![b"f", b"u", b"d"],
            b"\0REQ\0\0\0\x15\0\0\0\x05f\0u\0d",
        ),
        (
            REQ,
            SetClientId,
            vec![b"me"],
            b"\0REQ\0\0\0\x16\0\0\0\x02me",
        ),
        (
            REQ,
            CanDoTimeout,
            vec![b"f", b"1000"],
            b"\0REQ\0\0\0\x17\0\0\0\x06f\x001000",
        ),
        (REQ, AllYours, vec![], b"\0REQ\0\0\0\x18\0\0\0\0"),
        (
            REQ,
            WorkException,
            vec![b"H:1", b"boom"],
            b"\0REQ\0\0\0\x19\0\0\0\x08H:1\0boom",
        ),
        (
            REQ,
            OptionReq,
            vec![b"exceptions"],
            b"\0REQ\0\0\0\x1a\0\0\0\x0aexceptions",
        ),
        (
            RES,
            OptionRes,
            vec![b"exceptions"],
            b"\0RES\0\0\0\x1b\0\0\0\x0aexceptions",
        ),
        (
            REQ,
            WorkData,
            vec![b"H:1", b"d"],
            b"\0REQ\0\0\0\x1c\0\0\0\x05H:1\0d",
        ),
        (
            REQ,
            WorkWarning,
            vec![b"H:1", b"w"],
            b"\0REQ\0\0\0\x1d\0\0\0\x05H:1\0w",
        ),
        (REQ, GrabJobUniq, vec![], b"\0REQ\0\0\0\x1e\0\0\0\0"),
        (
            RES,
            JobAssignUniq,
            vec![b"H:1", b"f", b"u", b"d"],
            b"\0RES\0\0\0\x1f\0\0\0\x09H:1\0f\0u\0d",
        ),
        (
            REQ,
            SubmitJobHighBg,
            vec![b"f", b"u", b"d"],
            b"\0REQ\0\0\0\x20\0\0\0\x05f\0u\0d",
        ),
        (
            REQ,
            SubmitJobLow,
            vec![b"f", b"u", b"d"],
            b"\0REQ\0\0\0\x21\0\0\0\x05f\0u\0d",
        ),
        (
            REQ,
            SubmitJobLowBg,
            vec![b"f", b"u", b"d"],
            b"\0REQ\0\0\0\x22\0\0\0\x05f\0u\0d",
        ),
        (
            REQ,
            SubmitJobSched,
            vec![b"f", b"u", b"1", b"2", b"3", b"4", b"5", b"d"],
            b"\0REQ\0\0\0\x23\0\0\0\x0ff\0u\x001\x002\x003\x004\x005\0d",
        ),
        (
            REQ,
            SubmitJobEpoch,
            vec![b"f", b"u", b"99", b"d"],
            b"\0REQ\0\0\0\x24\0\0\0\x08f\0u\099\0d",
        ),
        (
            REQ,
            SubmitReduceJob,
            vec![b"f", b"u", b"r", b"", b"d"],
            b"\0REQ\0\0\0\x25\0\0\0\x08f\0u\0r\0\0d",
        ),
        (
            REQ,
            SubmitReduceJobBackground,
            vec![b"f", b"u", b"r", b"", b"d"],
            b"\0REQ\0\0\0\x26\0\0\0\x08f\0u\0r\0\0d",
        ),
        (REQ, GrabJobAll, vec![], b"\0REQ\0\0\0\x27\0\0\0\0"),
        (
            RES,
            JobAssignAll,
            vec![b"H:1", b"f", b"u", b"r", b"d"],
            b"\0RES\0\0\0\x28\0\0\0\x0bH:1\0f\0u\0r\0d",
        ),
        (
            REQ,
            GetStatusUnique,
            vec![b"u"],
            b"\0REQ\0\0\0\x29\0\0\0\x01u",
        ),
        (
            RES,
            StatusResUnique,
            vec![b"u", b"1", b"1", b"0", b"0", b"2"],
            b"\0RES\0\0\0\x2a\0\0\0\x0bu\x001\x001\x000\x000\x002",
        ),
    ]
}

#[test]
fn golden_vectors_cover_every_type() {
    let g = golden();
    for c in Command::ALL {
        assert!(
            g.iter().any(|(_, gc, _, _)| gc == c),
            "no vector for {}",
            c.name()
        );
    }
}

#[test]
fn golden_encode_and_decode() {
    let limits = Limits::default();
    for (magic, command, args, bytes) in golden() {
        assert_eq!(
            encode(magic, command, &args),
            bytes,
            "encode {}",
            command.name()
        );
        match decode_packet(bytes, &limits).unwrap() {
            Decoded::Complete(p, n) => {
                assert_eq!(n, bytes.len());
                assert_eq!(p.magic, magic);
                assert_eq!(p.command, command);
                assert_eq!(p.args(), &args[..], "decode {}", command.name());
                assert_eq!(p.to_bytes(), bytes);
            }
            Decoded::Partial(_) => panic!("partial for {}", command.name()),
        }
    }
}

#[test]
fn every_prefix_is_partial() {
    let limits = Limits::default();
    for (_, command, _, bytes) in golden() {
        for cut in 0..bytes.len() {
            match decode_frame(&bytes[..cut], &limits) {
                Ok(Decoded::Partial(n)) => {
                    assert!(n >= 1 && cut + n <= bytes.len(), "{}", command.name())
                }
                other => panic!("{} cut at {cut}: {other:?}", command.name()),
            }
        }
    }
}

#[test]
fn data_blob_keeps_nuls_and_last_field_keeps_extra_nuls() {
    let limits = Limits::default();
    let b = encode(REQ, Command::WorkComplete, &[b"H:1", b"a\0b\0"]);
    let Decoded::Complete(p, _) = decode_packet(&b, &limits).unwrap() else {
        panic!()
    };
    assert_eq!(p.arg(0), b"H:1");
    assert_eq!(p.data(), b"a\0b\0");
    // A worker that copies the handle with its NUL sends "H:1\0" as WORK_FAIL's only field.
    let raw = b"\0REQ\0\0\0\x0e\0\0\0\x04H:1\0";
    let Decoded::Complete(p, _) = decode_packet(raw, &limits).unwrap() else {
        panic!()
    };
    assert_eq!(p.arg(0), b"H:1\0");
}

#[test]
fn errors() {
    let limits = Limits {
        max_payload: 10,
        max_line: 16,
    };
    assert_eq!(
        decode_frame(b"\0XYZ\0\0\0\x01\0\0\0\0", &limits),
        Err(DecodeError::BadMagic)
    );
    assert_eq!(
        decode_frame(b"\0REQ\0\0\0\0\0\0\0\0", &limits),
        Err(DecodeError::UnknownCommand(0))
    );
    assert_eq!(
        decode_frame(b"\0REQ\0\0\0\x2b\0\0\0\0", &limits),
        Err(DecodeError::UnknownCommand(43))
    );
    assert_eq!(
        decode_frame(b"\0REQ\0\0\0\x10\0\0\0\x0b", &limits),
        Err(DecodeError::TooLarge { size: 11, max: 10 })
    );
    // SUBMIT_REDUCE_JOB with three fields (PROTOCOL's wrong layout) is refused, not waited on.
    let three = b"\0REQ\0\0\0\x25\0\0\0\x06f\0u\0rd";
    assert_eq!(
        decode_frame(three, &Limits::default()),
        Err(DecodeError::MissingFields {
            command: Command::SubmitReduceJob
        })
    );
    assert_eq!(
        decode_frame(b"\0REQ\0\0\0\x09\0\0\0\x01x", &limits),
        Err(DecodeError::UnexpectedPayload {
            command: Command::GrabJob
        })
    );
    assert_eq!(
        decode_frame(&[b'a'; 17], &limits),
        Err(DecodeError::LineTooLong { max: 16 })
    );
}

#[test]
fn text_lines() {
    let limits = Limits::default();
    assert_eq!(
        decode_frame(b"status\r\nx", &limits),
        Ok(Decoded::Complete(Frame::Text(b"status"), 8))
    );
    assert_eq!(
        decode_frame(b"status\n", &limits),
        Ok(Decoded::Complete(Frame::Text(b"status"), 7))
    );
    assert_eq!(decode_frame(b"stat", &limits), Ok(Decoded::Partial(1)));
}

#[test]
fn new_checks_arity() {
    assert!(Packet::new(REQ, Command::CanDo, &[b"f", b"g"]).is_none());
    let p = Packet::new(REQ, Command::CanDo, &[b"f"]).unwrap();
    assert_eq!(p.to_bytes(), b"\0REQ\0\0\0\x01\0\0\0\x01f");
}
