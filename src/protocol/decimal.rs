//! C's decimal number parsing (`atoi`, `atoll`, `strtol`): what gearmand and libgearman read
//! from admin lines, server lists and result values.

/// What C's `strtol` family reads from `text`: leading white space (C's `isspace`) skipped, an
/// optional sign (true for `-`), then the decimal digit values up to the first other byte.
/// Each caller folds the digits with its own overflow rule (saturate, wrap or fail).
pub fn c_decimal(text: &[u8]) -> (bool, impl Iterator<Item = i64> + '_) {
    let start = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .unwrap_or(text.len());
    let rest = &text[start..];
    let (negative, rest) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let digits = rest
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|d| i64::from(d - b'0'));
    (negative, digits)
}

#[cfg(test)]
mod tests {
    use super::c_decimal;

    fn parts(text: &[u8]) -> (bool, Vec<i64>) {
        let (negative, digits) = c_decimal(text);
        (negative, digits.collect())
    }

    #[test]
    fn as_strtol_reads_it() {
        assert_eq!(parts(b" \t\x0b-12ab"), (true, vec![1, 2]));
        assert_eq!(parts(b"+7"), (false, vec![7]));
        assert_eq!(parts(b"x1"), (false, vec![]));
        assert_eq!(parts(b"- 1"), (true, vec![]));
        assert_eq!(parts(b""), (false, vec![]));
    }
}
