//! `gearman_parse_servers` (upstream parse.h): splits a `"host:port,host:port"` list.
//!
//! Replicates 1.1.20 exactly (docs/libgearman-quirks.md, Q10): items split on `,`, host up to the first `:` (at most
//! 1024 bytes kept), port text after it up to the next `,` (at most 31 bytes kept) converted with C
//! `atoi` and truncated to `in_port_t`; no trimming, no IPv6 brackets, empty items give `("", 0)`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{cstr, entry};
use super::callbacks::{callback, gearman_parse_server_fn, in_port_t};
use super::return_code::{gearman_return_t, GearmanReturn};
use crate::protocol::decimal::c_decimal;

/// Bytes of host text kept (upstream's `NI_MAXHOST - 1`).
const MAX_HOST: usize = 1024;
/// Bytes of port text kept (upstream's `NI_MAXSERV - 1`).
const MAX_PORT: usize = 31;

/// One `(host, port)` item of a server list.
#[derive(Debug, PartialEq, Eq)]
pub struct ServerItem {
    pub host: Vec<u8>,
    pub port: in_port_t,
}

/// Splits `servers` the way 1.1.20 does (see the module docs).
pub fn split_servers(servers: &[u8]) -> Vec<ServerItem> {
    servers
        .split(|&b| b == b',')
        .map(|item| {
            let (host, port) = match item.iter().position(|&b| b == b':') {
                Some(colon) => (&item[..colon], &item[colon + 1..]),
                None => (item, &[][..]),
            };
            let host = host[..host.len().min(MAX_HOST)].to_vec();
            let port = atoi(&port[..port.len().min(MAX_PORT)]) as in_port_t;
            ServerItem { host, port }
        })
        .collect()
}

/// glibc `atoi` (= `(int)strtol(s, NULL, 10)`): whitespace, sign, digits; saturates like strtol.
fn atoi(text: &[u8]) -> i32 {
    let (negative, digits) = c_decimal(text);
    let mut value: i64 = 0;
    for digit in digits {
        value = if negative {
            value.saturating_mul(10).saturating_sub(digit)
        } else {
            value.saturating_mul(10).saturating_add(digit)
        };
    }
    // The (int) conversion of strtol's long keeps the low 32 bits.
    value as i32
}

/// Calls `f` per item of `servers` (NULL: once with NULL and 0) until one answers anything but
/// SUCCESS; returns that answer or SUCCESS.
fn each_server(
    servers: Option<&[u8]>,
    mut f: impl FnMut(*const c_char, in_port_t) -> GearmanReturn,
) -> GearmanReturn {
    let Some(text) = servers else {
        return f(std::ptr::null(), 0);
    };
    for item in split_servers(text) {
        let mut host = item.host;
        host.push(0);
        let rc = f(host.as_ptr().cast::<c_char>(), item.port);
        if rc != gearman_return_t::GEARMAN_SUCCESS {
            return rc;
        }
    }
    gearman_return_t::GEARMAN_SUCCESS.into()
}

/// `gearman_return_t gearman_parse_servers(const char *servers, gearman_parse_server_fn *callback, void *context);`
///
/// Calls `callback(host, port, context)` per item in string order and returns the first
/// non-`GEARMAN_SUCCESS` result, else `GEARMAN_SUCCESS`. `servers == NULL` → one call
/// `callback(NULL, 0, context)`, whose result is returned. A NULL `callback` (a crash in 1.1.20) →
/// `GEARMAN_INVALID_ARGUMENT`.
///
/// # Safety
///
/// A non-NULL `servers` must be a NUL-terminated string; a non-NULL `callback` must be a function of
/// the `gearman_parse_server_fn` type. The host string passed to it is valid during the call only.
#[no_mangle]
pub unsafe extern "C" fn gearman_parse_servers(
    servers: *const c_char,
    callback_fn: *mut gearman_parse_server_fn,
    context: *mut c_void,
) -> GearmanReturn {
    entry!(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), {
        // SAFETY: the export's contract: a non-NULL callback has the gearman_parse_server_fn
        // signature.
        match unsafe { callback(callback_fn) } {
            None => gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
            Some(f) => each_server(cstr!(servers), |host, port| {
                // SAFETY: calling the user's callback as documented; `host` is NULL or a
                // NUL-terminated buffer alive for the call.
                unsafe { f(host, port, context) }
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(s: &str) -> Vec<(String, u16)> {
        split_servers(s.as_bytes())
            .into_iter()
            .map(|i| (String::from_utf8(i.host).unwrap(), i.port))
            .collect()
    }

    #[test]
    fn splits_like_1_1_20() {
        assert_eq!(items("a:1,b"), [("a".into(), 1), ("b".into(), 0)]);
        assert_eq!(items(""), [(String::new(), 0)]);
        assert_eq!(items("a,"), [("a".into(), 0), (String::new(), 0)]);
        assert_eq!(items(" h : 70000"), [(" h ".into(), 4464)]);
        assert_eq!(items("::1"), [(String::new(), 0)]);
        assert_eq!(items("[::1]:4730"), [("[".into(), 0)]);
        assert_eq!(items("h:1:2"), [("h".into(), 1)]);
        assert_eq!(items("h:x"), [("h".into(), 0)]);
        assert_eq!(items("h:-1"), [("h".into(), 65535)]);
    }

    #[test]
    fn truncates_host_and_port_text() {
        let long = "x".repeat(2000);
        assert_eq!(items(&long)[0].0.len(), 1024);
        let port = format!("h:{}9", "0".repeat(31));
        assert_eq!(items(&port)[0].1, 0);
    }
}
