//! Admin text protocol: splitting a line into tokens as gearmand 1.1.20 does.

/// gearmand refuses (closes the connection on) lines with more tokens than this.
pub const MAX_TOKENS: usize = 5;

/// Splits an admin line (without its line end) into tokens.
///
/// Tokens are separated by spaces and runs of spaces are skipped, except that a leading
/// space yields an empty first token (gearmand then answers "unknown command").
/// Returns `None` when the line has more than [`MAX_TOKENS`] tokens.
pub fn tokenize(line: &[u8]) -> Option<Vec<&[u8]>> {
    let mut tokens = Vec::new();
    let mut rest = line;
    if rest.first() == Some(&b' ') {
        tokens.push(&rest[..0]);
    }
    loop {
        while rest.first() == Some(&b' ') {
            rest = &rest[1..];
        }
        if rest.is_empty() {
            break;
        }
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        tokens.push(&rest[..end]);
        if tokens.len() > MAX_TOKENS {
            return None;
        }
        rest = &rest[end..];
    }
    Some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits() {
        assert_eq!(tokenize(b"status").unwrap(), vec![&b"status"[..]]);
        assert_eq!(
            tokenize(b"cancel  job H:1 ").unwrap(),
            vec![&b"cancel"[..], b"job", b"H:1"]
        );
        assert_eq!(tokenize(b" status").unwrap(), vec![&b""[..], b"status"]);
        assert_eq!(tokenize(b"").unwrap(), Vec::<&[u8]>::new());
        assert!(tokenize(b"maxqueue a b c d").is_some());
        assert!(tokenize(b"maxqueue a b c d e f").is_none());
    }
}
