//! What a [`Client`](crate::Client) and a [`Worker`](crate::Worker) share: their [`Settings`]
//! (timeout, namespace, identifier, remembered server options, error slot), the request/reply
//! rounds both make with every server (echo, server options), and libgearman 1.1.20's argument
//! limits with the order in which it checks them.
//!
//! Every check here looks at lengths only, so a caller holding a pointer and a length (the C
//! layer) can run it before the bytes are read: a length that lies about its buffer (e.g.
//! `gearman_worker_echo(w, "abc", GEARMAN_MAX_ECHO_SIZE + 1)`) is refused, never read.

use crate::error::{Error, ErrorState, ReturnCode};
use crate::net::Reply;
use std::time::Duration;

/// The settings and the error slot of a client or a worker.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Per-wait timeout in ms (negative: infinite).
    timeout_ms: i32,
    /// The namespace followed by one NUL (so C can be handed a string), or None.
    namespace: Option<Vec<u8>>,
    /// Sent with SET_CLIENT_ID first on every new connection.
    identifier: Option<Vec<u8>>,
    /// Replayed with OPTION_REQ on every new connection.
    server_options: Vec<Vec<u8>>,
    /// `gearman_*_error()`, `_error_code()`, `_errno()`.
    pub(crate) error: ErrorState,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout_ms: -1,
            namespace: None,
            identifier: None,
            server_options: Vec::new(),
            error: ErrorState::default(),
        }
    }
}

impl Settings {
    /// Per-wait timeout in ms; −1 (any negative) = infinite, 0 = fail any wait at once.
    pub fn timeout(&self) -> i32 {
        self.timeout_ms
    }

    /// Sets the per-wait timeout in ms.
    pub fn set_timeout(&mut self, ms: i32) {
        self.timeout_ms = ms;
    }

    /// The timeout of one wait (None: forever).
    pub fn wait_timeout(&self) -> Option<Duration> {
        crate::net::poll::timeout_from_ms(self.timeout_ms)
    }

    /// The namespace prefix, if any.
    pub fn namespace(&self) -> Option<&[u8]> {
        self.namespace.as_deref().map(|n| &n[..n.len() - 1])
    }

    /// The namespace followed by a NUL (for C callers), if any.
    pub fn namespace_with_nul(&self) -> Option<&[u8]> {
        self.namespace.as_deref()
    }

    /// Sets (or with None removes) the namespace prefix.
    pub fn set_namespace(&mut self, namespace: Option<&[u8]>) {
        self.namespace = namespace.map(|n| {
            let mut v = Vec::with_capacity(n.len() + 1);
            v.extend_from_slice(n);
            v.push(0);
            v
        });
    }

    /// `name` with the namespace in front (what is sent and dispatched).
    pub fn prefixed(&self, name: &[u8]) -> Vec<u8> {
        let mut full = self.namespace().unwrap_or_default().to_vec();
        full.extend_from_slice(name);
        full
    }

    /// The identifier sent with SET_CLIENT_ID, if any.
    pub fn identifier(&self) -> Option<&[u8]> {
        self.identifier.as_deref()
    }

    /// Validates and stores an identifier (`op` names the call in the error).
    pub fn remember_identifier(&mut self, id: &[u8], op: &str) -> Result<(), Error> {
        validate_identifier(id, op)?;
        self.identifier = Some(id.to_vec());
        Ok(())
    }

    /// Removes the identifier.
    pub fn clear_identifier(&mut self) {
        self.identifier = None;
    }

    /// Server options replayed on every new connection.
    pub fn server_options(&self) -> &[Vec<u8>] {
        &self.server_options
    }

    /// Remembers a server option every server accepted (once).
    pub fn remember_option(&mut self, option: &[u8]) {
        if !self.server_options.iter().any(|o| o == option) {
            self.server_options.push(option.to_vec());
        }
    }

    /// Records `e` in the error slot and returns it.
    pub fn fail<T>(&mut self, e: Error) -> Result<T, Error> {
        self.error.record(&e);
        Err(e)
    }
}

/// The accessors a client and a worker share, delegating to their `settings` field.
macro_rules! settings_accessors {
    () => {
        /// Per-wait timeout in ms; −1 (any negative) = infinite, 0 = fail any wait at once.
        pub fn timeout(&self) -> i32 {
            self.settings.timeout()
        }

        pub(crate) fn wait_timeout(&self) -> Option<std::time::Duration> {
            self.settings.wait_timeout()
        }

        /// The namespace prefix, if any.
        pub fn namespace(&self) -> Option<&[u8]> {
            self.settings.namespace()
        }

        /// Sets (or with None removes) the prefix of function names from now on.
        pub fn set_namespace(&mut self, namespace: Option<&[u8]>) {
            self.settings.set_namespace(namespace);
        }

        /// The identifier sent with SET_CLIENT_ID, if any.
        pub fn identifier(&self) -> Option<&[u8]> {
            self.settings.identifier()
        }

        /// Removes the identifier (new connections send none).
        pub fn clear_identifier(&mut self) {
            self.settings.clear_identifier();
        }

        /// Server options remembered for replay on every new connection.
        pub fn server_options(&self) -> &[Vec<u8>] {
            self.settings.server_options()
        }

        /// The settings shared with the other side (see [`crate::endpoint::Settings`]).
        pub fn settings(&self) -> &crate::endpoint::Settings {
            &self.settings
        }

        /// The error slot (`gearman_*_error`, `_error_code`, `_errno`).
        pub fn error_state(&self) -> &crate::error::ErrorState {
            &self.settings.error
        }

        /// The error slot, writable (the C layer resets it like libgearman).
        pub fn error_state_mut(&mut self) -> &mut crate::error::ErrorState {
            &mut self.settings.error
        }

        /// Records `e` in the error slot and returns it.
        pub(crate) fn fail<T>(&mut self, e: crate::error::Error) -> Result<T, crate::error::Error> {
            self.settings.fail(e)
        }
    };
}
pub(crate) use settings_accessors;

/// What a client and a worker provide for the request/reply rounds they share (ECHO and
/// OPTION to every server): the rounds themselves are written once, below.
pub(crate) trait Endpoint {
    /// The C names of the two operations, for error messages.
    const ECHO_OP: &'static str;
    /// See [`Endpoint::ECHO_OP`].
    const OPTION_OP: &'static str;
    /// The settings (and error slot).
    fn settings_mut(&mut self) -> &mut Settings;
    /// How many servers there are.
    fn server_count(&self) -> usize;
    /// One blocking request/reply with server `si`, waiting for a reply `want` accepts.
    fn exchange_with(
        &mut self,
        si: usize,
        command: crate::protocol::Command,
        args: &[&[u8]],
        want: &dyn Fn(crate::protocol::Command) -> bool,
    ) -> Result<Reply, Error>;
}

/// Implements [`Endpoint`] for `$type` (which has `settings`, `servers` and an `exchange`
/// method) and gives it the public `echo`, `check_echo` and `check_server_option`.
macro_rules! endpoint_impl {
    ($type:ty, $echo:literal, $option:literal) => {
        impl crate::endpoint::Endpoint for $type {
            const ECHO_OP: &'static str = $echo;
            const OPTION_OP: &'static str = $option;

            fn settings_mut(&mut self) -> &mut crate::endpoint::Settings {
                &mut self.settings
            }

            fn server_count(&self) -> usize {
                self.servers.len()
            }

            fn exchange_with(
                &mut self,
                si: usize,
                command: crate::protocol::Command,
                args: &[&[u8]],
                want: &dyn Fn(crate::protocol::Command) -> bool,
            ) -> Result<crate::net::Reply, crate::error::Error> {
                self.exchange(si, command, args, want)
            }
        }

        impl $type {
            /// Sends ECHO_REQ to every server in turn and checks each ECHO_RES (blocking,
            /// even in non-blocking mode). Fails at the first server that fails.
            pub fn echo(&mut self, data: &[u8]) -> Result<(), crate::error::Error> {
                crate::endpoint::echo(self, data)
            }

            /// The checks of `echo` that look at lengths only (servers, payload present and
            /// not empty, at most `GEARMAN_MAX_ECHO_SIZE`), in libgearman's order; resets the
            /// error slot and records a failure. `len` None: no payload at all (C's NULL).
            pub fn check_echo(&mut self, len: Option<usize>) -> Result<(), crate::error::Error> {
                crate::endpoint::check_echo(self, len)
            }

            /// The checks of `set_server_option` that look at lengths only, as `check_echo`.
            pub fn check_server_option(
                &mut self,
                len: Option<usize>,
            ) -> Result<(), crate::error::Error> {
                crate::endpoint::check_server_option(self, len)
            }
        }
    };
}
pub(crate) use endpoint_impl;

/// The checks of ECHO that look at lengths only (servers, payload present and not empty, at
/// most `GEARMAN_MAX_ECHO_SIZE`), in libgearman's order; resets the error slot and records a
/// failure. `len` None: no payload at all (C's NULL pointer).
pub(crate) fn check_echo<E: Endpoint>(e: &mut E, len: Option<usize>) -> Result<(), Error> {
    check_lengths(e, E::ECHO_OP, "workload", len, ECHO_LIMIT)
}

/// [`check_request`] for `e`, with its error slot reset first and a failure recorded.
fn check_lengths<E: Endpoint>(
    e: &mut E,
    op: &str,
    what: &str,
    len: Option<usize>,
    limit: (usize, &str),
) -> Result<(), Error> {
    e.settings_mut().error.reset();
    let servers = e.server_count();
    let r = check_request(op, what, servers, len, limit);
    r.or_else(|err| e.settings_mut().fail(err))
}

/// ECHO_REQ to every server in turn; each ECHO_RES must carry `data` back (blocking, even in
/// non-blocking mode). Stops at the first failure.
pub(crate) fn echo<E: Endpoint>(e: &mut E, data: &[u8]) -> Result<(), Error> {
    check_echo(e, Some(data.len()))?;
    let servers = e.server_count();
    let r = echo_each(E::ECHO_OP, servers, data, |si| {
        let want = |c| c == crate::protocol::Command::EchoRes;
        e.exchange_with(si, crate::protocol::Command::EchoReq, &[data], &want)
    });
    r.or_else(|err| e.settings_mut().fail(err))
}

/// The checks of OPTION that look at lengths only, as [`check_echo`].
pub(crate) fn check_server_option<E: Endpoint>(e: &mut E, len: Option<usize>) -> Result<(), Error> {
    check_lengths(e, E::OPTION_OP, "option", len, OPTION_LIMIT)
}

/// OPTION_REQ to every server; on success the option is remembered (replayed on every new
/// connection).
pub(crate) fn set_server_option<E: Endpoint>(e: &mut E, option: &[u8]) -> Result<(), Error> {
    use crate::protocol::Command;
    check_server_option(e, Some(option.len()))?;
    let servers = e.server_count();
    let r = option_each(E::OPTION_OP, servers, |si| {
        let want = |c| c == Command::OptionRes || c == Command::Error;
        e.exchange_with(si, Command::OptionReq, &[option], &want)
    });
    if let Err(err) = r {
        return e.settings_mut().fail(err);
    }
    e.settings_mut().remember_option(option);
    Ok(())
}

/// ECHO_REQ to each of `servers` in turn through `ask` (which sends the request to server `i`
/// and returns its ECHO_RES); every answer must carry `data` back. Stops at the first failure.
fn echo_each(
    op: &str,
    servers: usize,
    data: &[u8],
    mut ask: impl FnMut(usize) -> Result<Reply, Error>,
) -> Result<(), Error> {
    for si in 0..servers {
        let reply = ask(si)?;
        if reply.arg(0) != data {
            return Err(Error::new(
                ReturnCode::EchoDataCorruption,
                op,
                "echo data did not match",
            ));
        }
    }
    Ok(())
}

/// OPTION_REQ to each of `servers` in turn through `ask` (which returns the server's OPTION_RES
/// or ERROR); an ERROR is the failure its text names (INVALID_SERVER_OPTION for unknown text).
fn option_each(
    op: &str,
    servers: usize,
    mut ask: impl FnMut(usize) -> Result<Reply, Error>,
) -> Result<(), Error> {
    for si in 0..servers {
        let reply = ask(si)?;
        if reply.command == crate::protocol::Command::Error {
            return Err(server_error(op, &reply, ReturnCode::InvalidServerOption));
        }
    }
    Ok(())
}

/// The error a server's ERROR reply (`CODE\0text`) stands for; `unknown` when the code text
/// names no code.
pub(crate) fn server_error(op: &str, reply: &Reply, unknown: ReturnCode) -> Error {
    let code = ReturnCode::from_server_text(reply.arg(0)).unwrap_or(unknown);
    let text = format!(
        "{}:{}",
        String::from_utf8_lossy(reply.arg(0)),
        String::from_utf8_lossy(reply.arg(1))
    );
    Error::new(code, op, text)
}

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

/// `len` is neither 0 (`empty`: the code and text of that error) nor above `max` (`long`).
fn check_len(
    op: &str,
    len: usize,
    max: usize,
    empty: (ReturnCode, &str),
    long: (ReturnCode, &str),
) -> Result<(), Error> {
    let (code, text) = match len {
        0 => empty,
        n if n > max => long,
        _ => return Ok(()),
    };
    Err(Error::new(code, op, text))
}

/// A function name: empty or longer than [`MAX_FUNCTION_NAME`] → INVALID_ARGUMENT.
pub fn check_function_name(op: &str, len: usize) -> Result<(), Error> {
    let long = "function name longer then GEARMAN_MAX_FUNCTION_SIZE";
    check_len(
        op,
        len,
        MAX_FUNCTION_NAME,
        (ReturnCode::InvalidArgument, "invalid function"),
        (ReturnCode::InvalidArgument, long),
    )
}

/// The length rules of SET_CLIENT_ID: empty → INVALID_ARGUMENT, longer than 254 bytes →
/// ARGUMENT_TOO_LARGE (the bytes themselves are checked by [`validate_identifier`]).
pub fn check_identifier_len(op: &str, len: usize) -> Result<(), Error> {
    check_len(
        op,
        len,
        MAX_IDENTIFIER,
        (ReturnCode::InvalidArgument, "Invalid identifier"),
        (ReturnCode::ArgumentTooLarge, "Identifier too large"),
    )
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
