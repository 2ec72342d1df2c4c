//! Server addresses: libgearman's `host[:port],...` lists and name resolution.

use crate::error::{Error, ReturnCode};
use std::net::{SocketAddr, ToSocketAddrs};

/// The port used when none (or 0) is given.
pub const DEFAULT_PORT: u16 = 4730;
/// The host used when none (or "") is given.
pub const DEFAULT_HOST: &str = "localhost";

/// Longest host text `parse_servers` keeps (libgearman's NI_MAXHOST buffer, minus the NUL).
const MAX_HOST_TEXT: usize = 1024;
/// Longest port text `parse_servers` keeps (NI_MAXSERV, minus the NUL).
const MAX_PORT_TEXT: usize = 31;

/// Splits a server list exactly as `gearman_parse_servers` does: items separated by `,`, host
/// up to the first `:`, port as `(uint16_t)atoi(text)` (non-numeric → 0, 70000 → 4464).
/// No trimming and no IPv6 brackets; empty items yield `("", 0)`.
pub fn parse_servers(list: &str) -> Vec<(String, u16)> {
    list.split(',')
        .map(|item| {
            let (host, port) = match item.split_once(':') {
                Some((h, p)) => (h, p),
                None => (item, ""),
            };
            let host = truncate(host, MAX_HOST_TEXT);
            let port = truncate(port, MAX_PORT_TEXT);
            (host.to_string(), atoi(port) as u16)
        })
        .collect()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// C's `atoi`: optional whitespace and sign, then digits; anything else stops the scan.
pub fn atoi(s: &str) -> i32 {
    atoi_bytes(s.as_bytes())
}

/// [`atoi`] over bytes.
pub fn atoi_bytes(s: &[u8]) -> i32 {
    let start = s
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(s.len());
    let s = &s[start..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            break;
        }
        v = (v * 10 + i64::from(b - b'0')).min(i64::from(u32::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    v as i32
}

/// One configured server: the host and port as given, and the addresses they resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAddress {
    /// Host as given (or `localhost`).
    pub host: String,
    /// Port (4730 when 0 was given).
    pub port: u16,
    /// Resolved addresses, tried in order.
    pub addrs: Vec<SocketAddr>,
}

impl ServerAddress {
    /// Applies the defaults (empty host → localhost, port 0 → 4730) and resolves the name now
    /// (`getaddrinfo`), as `gearman_client_add_server` does.
    pub fn resolve(host: &str, port: u16) -> Result<ServerAddress, Error> {
        let host = if host.is_empty() { DEFAULT_HOST } else { host };
        let port = if port == 0 { DEFAULT_PORT } else { port };
        let addrs = lookup(host, port)?;
        Ok(ServerAddress {
            host: host.to_string(),
            port,
            addrs,
        })
    }

    /// Resolves again (done after every address of the entry refused a connection).
    pub fn refresh(&mut self) {
        if let Ok(a) = lookup(&self.host, self.port) {
            self.addrs = a;
        }
    }

    /// `host:port` text.
    pub fn label(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
    let fail = |detail: String| {
        Error::with_message(
            ReturnCode::GetAddrInfo,
            format!(
                "{host}:{port} getaddrinfo:{detail} pid({})",
                std::process::id()
            ),
        )
    };
    match (host, port).to_socket_addrs() {
        Ok(it) => {
            let v: Vec<SocketAddr> = it.collect();
            if v.is_empty() {
                Err(fail("no address".into()))
            } else {
                Ok(v)
            }
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

/// Parses a list and resolves every entry, stopping at the first failure
/// (`gearman_client_add_servers`). Entries come back in string order.
pub fn resolve_list(list: &str) -> Result<Vec<ServerAddress>, (Vec<ServerAddress>, Error)> {
    let mut out = Vec::new();
    for (host, port) in parse_servers(list) {
        match ServerAddress::resolve(&host, port) {
            Ok(s) => out.push(s),
            Err(e) => return Err((out, e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_like_libgearman() {
        assert_eq!(
            parse_servers("a:1,b,c:70000"),
            vec![("a".into(), 1), ("b".into(), 0), ("c".into(), 4464)]
        );
        assert_eq!(parse_servers(""), vec![(String::new(), 0)]);
        assert_eq!(parse_servers("::1"), vec![(String::new(), 0)]);
        assert_eq!(parse_servers("[::1]:4730"), vec![("[".into(), 0)]);
        assert_eq!(parse_servers("h:x"), vec![("h".into(), 0)]);
        assert_eq!(parse_servers(" h : 5"), vec![(" h ".into(), 5)]);
    }

    #[test]
    fn resolve_applies_defaults() {
        let s = ServerAddress::resolve("127.0.0.1", 0).expect("resolve");
        assert_eq!(s.port, 4730);
        assert_eq!(s.label(), "127.0.0.1:4730");
        let e = ServerAddress::resolve("no.such.host.invalid", 1).expect_err("bogus");
        assert_eq!(e.code(), ReturnCode::GetAddrInfo);
        assert!(e
            .message()
            .starts_with("no.such.host.invalid:1 getaddrinfo:"));
    }
}
