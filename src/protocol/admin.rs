//! Admin text protocol: splitting a line into tokens as gearmand 1.1.20 does.

/// gearmand refuses (closes the connection on) lines with more tokens than this.
pub const MAX_TOKENS: usize = 5;

/// Splits an admin line (without its line end) into tokens.
///
/// Tokens are separated by spaces and runs of spaces are skipped, except that a leading
/// space yields an empty first token (gearmand then answers "unknown command") and trailing
/// spaces yield an empty last token.
/// Returns `None` when the line has more than [`MAX_TOKENS`] tokens.
pub fn tokenize(line: &[u8]) -> Option<Vec<&[u8]>> {
    let mut tokens = Vec::new();
    let mut rest = line;
    if rest.first() == Some(&b' ') {
        tokens.push(&rest[..0]);
    }
    let mut after_token = false;
    loop {
        let before = rest.len();
        while rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            // Spaces after the last word make one empty final token, as in gearmand.
            if after_token && rest.len() != before {
                tokens.push(&rest[..0]);
                if tokens.len() > MAX_TOKENS {
                    return None;
                }
            }
            break;
        }
        after_token = true;
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        tokens.push(&rest[..end]);
        if tokens.len() > MAX_TOKENS {
            return None;
        }
        rest = &rest[end..];
    }
    Some(tokens)
}

/// An admin command recognised by gearmand 1.1.20, or the error reply it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand<'a> {
    Status,
    PriorityStatus,
    Workers,
    ShowJobs,
    ShowUniqueJobs,
    CancelJob(&'a [u8]),
    CreateFunction(&'a [u8]),
    DropFunction(&'a [u8]),
    /// `maxqueue FUNC [ALL | HIGH NORMAL | HIGH NORMAL LOW]`: limits per priority (high, normal,
    /// low); 0 or less = unlimited, a missing one is unlimited.
    MaxQueue {
        function: &'a [u8],
        limits: [i64; 3],
    },
    Version,
    GetPid,
    Verbose,
    /// The line is answered with a fixed error line (see [`AdminError::reply`]).
    Error(AdminError<'a>),
}

/// The error replies of the admin protocol, exactly as gearmand 1.1.20 words them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError<'a> {
    /// `ERR UNKNOWN_COMMAND Unknown+server+command<word>` (no separator before the word).
    UnknownCommand(&'a [u8]),
    /// `ERR INVALID_ARGUMENTS ...+command+<word>` for `create`, `drop` and `maxqueue`.
    InvalidArguments(&'static str),
    /// `ERR UNKNOWN_SHOW_ARGUMENTS`.
    UnknownShowArguments,
    /// `ERR UNKNOWN_ERROR`, e.g. `cancel job a b`.
    UnknownError,
}

impl AdminError<'_> {
    /// The full reply line, `\r\n` included.
    pub fn reply(&self) -> Vec<u8> {
        let mut v = Vec::new();
        match self {
            AdminError::UnknownCommand(word) => {
                v.extend_from_slice(b"ERR UNKNOWN_COMMAND Unknown+server+command");
                v.extend_from_slice(word);
            }
            AdminError::InvalidArguments(word) => {
                v.extend_from_slice(
                    b"ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+",
                );
                v.extend_from_slice(word.as_bytes());
            }
            AdminError::UnknownShowArguments => v.extend_from_slice(b"ERR UNKNOWN_SHOW_ARGUMENTS"),
            AdminError::UnknownError => v.extend_from_slice(b"ERR UNKNOWN_ERROR"),
        }
        v.extend_from_slice(b"\r\n");
        v
    }
}

fn is(token: &[u8], word: &str) -> bool {
    token.eq_ignore_ascii_case(word.as_bytes())
}

/// Parses a number as C `atoi` does: optional spaces and sign, leading digits, garbage is 0.
pub fn atoi(token: &[u8]) -> i64 {
    let (negative, digits) = super::decimal::c_decimal(token);
    let n = digits.fold(0i64, |n, d| n.saturating_mul(10).saturating_add(d));
    if negative {
        -n
    } else {
        n
    }
}

/// Interprets the tokens of one admin line (from [`tokenize`]) as gearmand 1.1.20 does.
/// Command words are case-insensitive; extra tokens after list commands are ignored.
pub fn parse<'a>(tokens: &[&'a [u8]]) -> AdminCommand<'a> {
    let Some(&first) = tokens.first() else {
        return AdminCommand::Error(AdminError::UnknownCommand(b""));
    };
    let n = tokens.len();
    if is(first, "status") {
        AdminCommand::Status
    } else if is(first, "prioritystatus") {
        AdminCommand::PriorityStatus
    } else if is(first, "workers") {
        AdminCommand::Workers
    } else if is(first, "version") {
        AdminCommand::Version
    } else if is(first, "getpid") {
        AdminCommand::GetPid
    } else if is(first, "verbose") {
        AdminCommand::Verbose
    } else if is(first, "show") {
        match tokens {
            [_] => AdminCommand::Error(AdminError::UnknownCommand(first)),
            [_, jobs] if is(jobs, "jobs") => AdminCommand::ShowJobs,
            [_, unique, jobs] if is(unique, "unique") && is(jobs, "jobs") => {
                AdminCommand::ShowUniqueJobs
            }
            _ => AdminCommand::Error(AdminError::UnknownShowArguments),
        }
    } else if is(first, "cancel") {
        match tokens {
            [_, job, handle] if is(job, "job") => AdminCommand::CancelJob(handle),
            _ if n < 3 => AdminCommand::Error(AdminError::UnknownCommand(first)),
            _ => AdminCommand::Error(AdminError::UnknownError),
        }
    } else if is(first, "create") {
        match tokens {
            [_, function, name] if is(function, "function") => AdminCommand::CreateFunction(name),
            _ => AdminCommand::Error(AdminError::InvalidArguments("create")),
        }
    } else if is(first, "drop") {
        match tokens {
            [_, function, name] if is(function, "function") => AdminCommand::DropFunction(name),
            _ => AdminCommand::Error(AdminError::InvalidArguments("drop")),
        }
    } else if is(first, "maxqueue") {
        let limits = match tokens {
            [_] => return AdminCommand::Error(AdminError::InvalidArguments("maxqueue")),
            [_, _] => [0; 3],
            [_, _, all] => [atoi(all); 3],
            [_, _, high, normal] => [atoi(high), atoi(normal), 0],
            [_, _, high, normal, low, ..] => [atoi(high), atoi(normal), atoi(low)],
            [] => [0; 3],
        };
        AdminCommand::MaxQueue {
            function: tokens[1],
            limits,
        }
    } else {
        AdminCommand::Error(AdminError::UnknownCommand(first))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(tokenize(b"status").unwrap(), vec![&b"status"[..]]);
        assert_eq!(
            tokenize(b"cancel  job H:1").unwrap(),
            vec![&b"cancel"[..], b"job", b"H:1"]
        );
        assert_eq!(
            tokenize(b"show jobs  ").unwrap(),
            vec![&b"show"[..], b"jobs", b""]
        );
        assert_eq!(tokenize(b" status").unwrap(), vec![&b""[..], b"status"]);
        assert_eq!(tokenize(b"").unwrap(), Vec::<&[u8]>::new());
        assert!(tokenize(b"maxqueue a b c d").is_some());
        assert!(tokenize(b"maxqueue a b c d e f").is_none());
        assert!(tokenize(b"a b c d e ").is_none());
    }

    fn p(line: &str) -> AdminCommand<'_> {
        parse(&tokenize(line.as_bytes()).unwrap())
    }

    fn reply(line: &str) -> String {
        match p(line) {
            AdminCommand::Error(e) => String::from_utf8(e.reply()).unwrap(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn commands_as_measured_on_1_1_20() {
        assert_eq!(p("STATUS extra args"), AdminCommand::Status);
        assert_eq!(p("SHOW JOBS"), AdminCommand::ShowJobs);
        assert_eq!(p("show unique jobs"), AdminCommand::ShowUniqueJobs);
        assert_eq!(p("cancel job H:1"), AdminCommand::CancelJob(b"H:1"));
        assert_eq!(
            p("create Function abc"),
            AdminCommand::CreateFunction(b"abc")
        );
        assert_eq!(p("drop function x"), AdminCommand::DropFunction(b"x"));
        assert_eq!(
            p("maxqueue f 1 2"),
            AdminCommand::MaxQueue {
                function: b"f",
                limits: [1, 2, 0]
            }
        );
        assert_eq!(
            p("maxqueue f 0 5 1"),
            AdminCommand::MaxQueue {
                function: b"f",
                limits: [0, 5, 1]
            }
        );
        assert_eq!(
            p("maxqueue f"),
            AdminCommand::MaxQueue {
                function: b"f",
                limits: [0, 0, 0]
            }
        );
    }

    #[test]
    fn error_lines_are_byte_exact() {
        let unknown = "ERR UNKNOWN_COMMAND Unknown+server+command";
        assert_eq!(reply(""), format!("{unknown}\r\n"));
        assert_eq!(reply(" status"), format!("{unknown}\r\n"));
        assert_eq!(reply("shutdown"), format!("{unknown}shutdown\r\n"));
        assert_eq!(reply("show"), format!("{unknown}show\r\n"));
        assert_eq!(reply("cancel job"), format!("{unknown}cancel\r\n"));
        assert_eq!(reply("cancel job a b"), "ERR UNKNOWN_ERROR\r\n");
        assert_eq!(reply("cancel foo H:1"), "ERR UNKNOWN_ERROR\r\n");
        assert_eq!(reply("show jobs x"), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
        assert_eq!(reply("show foo"), "ERR UNKNOWN_SHOW_ARGUMENTS\r\n");
        let inval =
            "ERR INVALID_ARGUMENTS An+incomplete+set+of+arguments+was+sent+to+this+command+";
        assert_eq!(reply("create"), format!("{inval}create\r\n"));
        assert_eq!(reply("create foo bar"), format!("{inval}create\r\n"));
        assert_eq!(reply("drop function a b"), format!("{inval}drop\r\n"));
        assert_eq!(reply("maxqueue"), format!("{inval}maxqueue\r\n"));
    }

    #[test]
    fn atoi_like_c() {
        assert_eq!(atoi(b"12x"), 12);
        assert_eq!(atoi(b"-3"), -3);
        assert_eq!(atoi(b"abc"), 0);
    }
}
