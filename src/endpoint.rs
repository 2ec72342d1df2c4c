//! What a [`Client`](crate::Client) and a [`Worker`](crate::Worker) share: libgearman 1.1.20's
//! argument limits, and the order in which it checks them.
//!
//! Every check here looks at lengths only, so a caller holding a pointer and a length (the C
//! layer) can run it before the bytes are read: a length that lies about its buffer (e.g.
//! `gearman_worker_echo(w, "abc", GEARMAN_MAX_ECHO_SIZE + 1)`) is refused, never read.

use crate::error::{Error, ReturnCode};

/// Longest function name, namespace not counted (`GEARMAN_FUNCTION_MAX_SIZE`).
pub const MAX_FUNCTION_NAME: usize = 512;
/// Longest echo payload (`GEARMAN_MAX_ECHO_SIZE`, `UINT32_MAX - 128`).
pub const MAX_ECHO_SIZE: usize = u32::MAX as usize - 128;
/// Longest server option (`GEARMAN_MAX_OPTION_SIZE`, `UINT32_MAX - 128`).
pub const MAX_OPTION_SIZE: usize = u32::MAX as usize - 128;
/// The echo limit with its C name, for [`check_request`].
pub const ECHO_LIMIT: (usize, &str) = (MAX_ECHO_SIZE, "GEARMAN_MAX_ECHO_SIZE");
/// The server option limit with its C name, for [`check_request`].
pub const OPTION_LIMIT: (usize, &str) = (MAX_OPTION_SIZE, "GEARMAN_MAX_OPTION_SIZE");
/// Longest identifier (`GEARMAN_MAX_IDENTIFIER`).
pub const MAX_IDENTIFIER: usize = 254;
/// The largest payload a packet can carry: its length field has 32 bits.
pub const MAX_PACKET_PAYLOAD: usize = u32::MAX as usize;

/// Checks an echo or server-option request as libgearman 1.1.20 does, in its order: no servers
/// → NO_SERVERS; no payload (`len` None: a NULL pointer) or an empty one → INVALID_ARGUMENT;
/// longer than `max` → ARGUMENT_TOO_LARGE.
pub fn check_request(
    op: &str,
    what: &str,
    servers: usize,
    len: Option<usize>,
    (max, max_name): (usize, &str),
) -> Result<(), Error> {
    if servers == 0 {
        return Err(Error::new(ReturnCode::NoServers, op, "no servers provided"));
    }
    match len {
        None => Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            format!("{what} was NULL"),
        )),
        Some(0) => Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            format!("{what} was empty"),
        )),
        Some(n) if n > max => Err(Error::new(
            ReturnCode::ArgumentTooLarge,
            op,
            format!("{what} was greater then {max_name}"),
        )),
        Some(_) => Ok(()),
    }
}

/// A function name: empty or longer than [`MAX_FUNCTION_NAME`] → INVALID_ARGUMENT.
pub fn check_function_name(op: &str, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "invalid function",
        ));
    }
    if len > MAX_FUNCTION_NAME {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "function name longer then GEARMAN_MAX_FUNCTION_SIZE",
        ));
    }
    Ok(())
}

/// The length rules of SET_CLIENT_ID: empty → INVALID_ARGUMENT, longer than 254 bytes →
/// ARGUMENT_TOO_LARGE (the bytes themselves are checked by [`validate_identifier`]).
pub fn check_identifier_len(op: &str, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "Invalid identifier",
        ));
    }
    if len > MAX_IDENTIFIER {
        return Err(Error::new(
            ReturnCode::ArgumentTooLarge,
            op,
            "Identifier too large",
        ));
    }
    Ok(())
}

/// SET_CLIENT_ID rules: non-empty, at most 254 bytes, printable ASCII without spaces.
pub fn validate_identifier(id: &[u8], op: &str) -> Result<(), Error> {
    check_identifier_len(op, id.len())?;
    if !id.iter().all(|b| b.is_ascii_graphic()) {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "Invalid character in identifier",
        ));
    }
    Ok(())
}

/// A packet made of `fields` (sent NUL-separated) and a data part of `data_len` bytes must fit
/// the 32-bit length of the wire: otherwise ARGUMENT_TOO_LARGE, as libgearman 1.1.20 answers
/// ("data size too too long") before anything is sent.
pub fn check_packet(op: &str, fields: &[usize], data_len: usize) -> Result<(), Error> {
    let total = fields
        .iter()
        .try_fold(data_len, |acc, f| acc.checked_add(f.saturating_add(1)));
    match total {
        Some(n) if n <= MAX_PACKET_PAYLOAD => Ok(()),
        _ => Err(Error::new(
            ReturnCode::ArgumentTooLarge,
            op,
            "data size too too long",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_checked_in_1_1_20_order() {
        let code = |r: Result<(), Error>| r.err().map(|e| e.code());
        let big = Some(MAX_ECHO_SIZE + 1);
        assert_eq!(
            code(check_request("echo", "workload", 0, big, ECHO_LIMIT)),
            Some(ReturnCode::NoServers)
        );
        assert_eq!(
            code(check_request("echo", "workload", 1, None, ECHO_LIMIT)),
            Some(ReturnCode::InvalidArgument)
        );
        assert_eq!(
            code(check_request("echo", "workload", 1, Some(0), ECHO_LIMIT)),
            Some(ReturnCode::InvalidArgument)
        );
        assert_eq!(
            code(check_request("echo", "workload", 1, big, ECHO_LIMIT)),
            Some(ReturnCode::ArgumentTooLarge)
        );
        assert_eq!(
            code(check_request("echo", "workload", 1, Some(5), ECHO_LIMIT)),
            None
        );
    }

    #[test]
    fn names_identifiers_and_packets() {
        assert!(check_function_name("f", 0).is_err());
        assert!(check_function_name("f", 512).is_ok());
        assert!(check_function_name("f", 513).is_err());
        assert_eq!(
            check_identifier_len("i", 255).map_err(|e| e.code()),
            Err(ReturnCode::ArgumentTooLarge)
        );
        assert!(validate_identifier(b"ok-id", "i").is_ok());
        assert!(validate_identifier(b"no space", "i").is_err());
        assert!(check_packet("p", &[1, 36], 10).is_ok());
        assert!(check_packet("p", &[1, 36], MAX_PACKET_PAYLOAD - 39).is_ok());
        assert!(check_packet("p", &[1, 36], MAX_PACKET_PAYLOAD - 38).is_err());
        assert!(check_packet("p", &[1], usize::MAX).is_err());
    }
}
