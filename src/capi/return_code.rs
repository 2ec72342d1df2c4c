//! `gearman_return_t` (upstream return.h) and `gearman_strerror`.
//!
//! The enum is the source of the header's `typedef enum gearman_return_t {...}`; C code may pass any
//! integer where the header names the enum, so functions receive and return [`GearmanReturn`] (the raw
//! `unsigned int`, spelled `gearman_return_t` in the header) and never a Rust enum by value.

use std::os::raw::{c_char, c_uint};

use super::boundary::entry;

/// Every return code of libgearman 1.1.20, with upstream's values.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gearman_return_t {
    GEARMAN_SUCCESS = 0,
    GEARMAN_IO_WAIT = 1,
    GEARMAN_SHUTDOWN = 2,
    GEARMAN_SHUTDOWN_GRACEFUL = 3,
    GEARMAN_ERRNO = 4,
    GEARMAN_EVENT = 5,
    GEARMAN_TOO_MANY_ARGS = 6,
    GEARMAN_NO_ACTIVE_FDS = 7,
    GEARMAN_INVALID_MAGIC = 8,
    GEARMAN_INVALID_COMMAND = 9,
    GEARMAN_INVALID_PACKET = 10,
    GEARMAN_UNEXPECTED_PACKET = 11,
    GEARMAN_GETADDRINFO = 12,
    GEARMAN_NO_SERVERS = 13,
    GEARMAN_LOST_CONNECTION = 14,
    GEARMAN_MEMORY_ALLOCATION_FAILURE = 15,
    GEARMAN_JOB_EXISTS = 16,
    GEARMAN_JOB_QUEUE_FULL = 17,
    GEARMAN_SERVER_ERROR = 18,
    GEARMAN_WORK_ERROR = 19,
    GEARMAN_WORK_DATA = 20,
    GEARMAN_WORK_WARNING = 21,
    GEARMAN_WORK_STATUS = 22,
    GEARMAN_WORK_EXCEPTION = 23,
    GEARMAN_WORK_FAIL = 24,
    GEARMAN_NOT_CONNECTED = 25,
    GEARMAN_COULD_NOT_CONNECT = 26,
    GEARMAN_SEND_IN_PROGRESS = 27,
    GEARMAN_RECV_IN_PROGRESS = 28,
    GEARMAN_NOT_FLUSHING = 29,
    GEARMAN_DATA_TOO_LARGE = 30,
    GEARMAN_INVALID_FUNCTION_NAME = 31,
    GEARMAN_INVALID_WORKER_FUNCTION = 32,
    GEARMAN_NO_REGISTERED_FUNCTION = 33,
    GEARMAN_NO_REGISTERED_FUNCTIONS = 34,
    GEARMAN_NO_JOBS = 35,
    GEARMAN_ECHO_DATA_CORRUPTION = 36,
    GEARMAN_NEED_WORKLOAD_FN = 37,
    GEARMAN_PAUSE = 38,
    GEARMAN_UNKNOWN_STATE = 39,
    GEARMAN_PTHREAD = 40,
    GEARMAN_PIPE_EOF = 41,
    GEARMAN_QUEUE_ERROR = 42,
    GEARMAN_FLUSH_DATA = 43,
    GEARMAN_SEND_BUFFER_TOO_SMALL = 44,
    GEARMAN_IGNORE_PACKET = 45,
    GEARMAN_UNKNOWN_OPTION = 46,
    GEARMAN_TIMEOUT = 47,
    GEARMAN_ARGUMENT_TOO_LARGE = 48,
    GEARMAN_INVALID_ARGUMENT = 49,
    GEARMAN_IN_PROGRESS = 50,
    GEARMAN_INVALID_SERVER_OPTION = 51,
    GEARMAN_JOB_NOT_FOUND = 52,
    GEARMAN_MAX_RETURN = 53,
}

/// Upstream alias enumerator (`GEARMAN_FAIL = GEARMAN_WORK_FAIL`).
pub const GEARMAN_FAIL: gearman_return_t = gearman_return_t::GEARMAN_WORK_FAIL;
/// Upstream alias enumerator (`GEARMAN_FATAL = GEARMAN_WORK_FAIL`).
pub const GEARMAN_FATAL: gearman_return_t = gearman_return_t::GEARMAN_WORK_FAIL;
/// Upstream alias enumerator (`GEARMAN_ERROR = GEARMAN_WORK_ERROR`).
pub const GEARMAN_ERROR: gearman_return_t = gearman_return_t::GEARMAN_WORK_ERROR;

/// A `gearman_return_t` as C passes it: any `unsigned int`, valid or not.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GearmanReturn(pub c_uint);

impl From<gearman_return_t> for GearmanReturn {
    fn from(rc: gearman_return_t) -> Self {
        GearmanReturn(rc as c_uint)
    }
}

impl PartialEq<gearman_return_t> for GearmanReturn {
    fn eq(&self, other: &gearman_return_t) -> bool {
        self.0 == *other as c_uint
    }
}

/// `gearman_strerror` texts, indexed by value: exactly the enumerator names.
const NAMES: [&[u8]; 54] = [
    b"GEARMAN_SUCCESS\0",
    b"GEARMAN_IO_WAIT\0",
    b"GEARMAN_SHUTDOWN\0",
    b"GEARMAN_SHUTDOWN_GRACEFUL\0",
    b"GEARMAN_ERRNO\0",
    b"GEARMAN_EVENT\0",
    b"GEARMAN_TOO_MANY_ARGS\0",
    b"GEARMAN_NO_ACTIVE_FDS\0",
    b"GEARMAN_INVALID_MAGIC\0",
    b"GEARMAN_INVALID_COMMAND\0",
    b"GEARMAN_INVALID_PACKET\0",
    b"GEARMAN_UNEXPECTED_PACKET\0",
    b"GEARMAN_GETADDRINFO\0",
    b"GEARMAN_NO_SERVERS\0",
    b"GEARMAN_LOST_CONNECTION\0",
    b"GEARMAN_MEMORY_ALLOCATION_FAILURE\0",
    b"GEARMAN_JOB_EXISTS\0",
    b"GEARMAN_JOB_QUEUE_FULL\0",
    b"GEARMAN_SERVER_ERROR\0",
    b"GEARMAN_WORK_ERROR\0",
    b"GEARMAN_WORK_DATA\0",
    b"GEARMAN_WORK_WARNING\0",
    b"GEARMAN_WORK_STATUS\0",
    b"GEARMAN_WORK_EXCEPTION\0",
    b"GEARMAN_WORK_FAIL\0",
    b"GEARMAN_NOT_CONNECTED\0",
    b"GEARMAN_COULD_NOT_CONNECT\0",
    b"GEARMAN_SEND_IN_PROGRESS\0",
    b"GEARMAN_RECV_IN_PROGRESS\0",
    b"GEARMAN_NOT_FLUSHING\0",
    b"GEARMAN_DATA_TOO_LARGE\0",
    b"GEARMAN_INVALID_FUNCTION_NAME\0",
    b"GEARMAN_INVALID_WORKER_FUNCTION\0",
    b"GEARMAN_NO_REGISTERED_FUNCTION\0",
    b"GEARMAN_NO_REGISTERED_FUNCTIONS\0",
    b"GEARMAN_NO_JOBS\0",
    b"GEARMAN_ECHO_DATA_CORRUPTION\0",
    b"GEARMAN_NEED_WORKLOAD_FN\0",
    b"GEARMAN_PAUSE\0",
    b"GEARMAN_UNKNOWN_STATE\0",
    b"GEARMAN_PTHREAD\0",
    b"GEARMAN_PIPE_EOF\0",
    b"GEARMAN_QUEUE_ERROR\0",
    b"GEARMAN_FLUSH_DATA\0",
    b"GEARMAN_SEND_BUFFER_TOO_SMALL\0",
    b"GEARMAN_IGNORE_PACKET\0",
    b"GEARMAN_UNKNOWN_OPTION\0",
    b"GEARMAN_TIMEOUT\0",
    b"GEARMAN_ARGUMENT_TOO_LARGE\0",
    b"GEARMAN_INVALID_ARGUMENT\0",
    b"GEARMAN_IN_PROGRESS\0",
    b"GEARMAN_INVALID_SERVER_OPTION\0",
    b"GEARMAN_JOB_NOT_FOUND\0",
    b"GEARMAN_MAX_RETURN\0",
];

/// The enumerator name of `rc` (NUL-terminated); anything outside 0..=52 is `"GEARMAN_MAX_RETURN"`.
pub fn name_bytes(rc: GearmanReturn) -> &'static [u8] {
    let max = gearman_return_t::GEARMAN_MAX_RETURN as usize;
    let index = usize::try_from(rc.0).map_or(max, |i| i.min(max));
    NAMES[index]
}

/// The enumerator name of `rc` without the NUL, for messages built in Rust.
pub fn name(rc: GearmanReturn) -> &'static str {
    let bytes = name_bytes(rc);
    // The table is ASCII; strip the terminator.
    std::str::from_utf8(&bytes[..bytes.len() - 1]).unwrap_or("GEARMAN_MAX_RETURN")
}

/// `const char *gearman_strerror(gearman_return_t rc);`: the enumerator name of `rc`, a static string.
///
/// # Safety
///
/// Always safe to call: `rc` may be any integer; the result is never NULL and never freed.
#[no_mangle]
pub unsafe extern "C" fn gearman_strerror(rc: GearmanReturn) -> *const c_char {
    entry!(std::ptr::null(), {
        name_bytes(rc).as_ptr().cast::<c_char>()
    })
}

/// INVALID_ARGUMENT, the error value of most exports.
pub(crate) const INVALID: GearmanReturn =
    GearmanReturn(gearman_return_t::GEARMAN_INVALID_ARGUMENT as u32);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_values_and_enumerator_names() {
        assert_eq!(
            name(gearman_return_t::GEARMAN_JOB_NOT_FOUND.into()),
            "GEARMAN_JOB_NOT_FOUND"
        );
        assert_eq!(name(GEARMAN_FAIL.into()), "GEARMAN_WORK_FAIL");
        assert_eq!(name(GEARMAN_ERROR.into()), "GEARMAN_WORK_ERROR");
        for (i, n) in NAMES.iter().enumerate() {
            assert!(
                n.ends_with(b"\0") && n.starts_with(b"GEARMAN_"),
                "entry {i}"
            );
        }
    }

    #[test]
    fn out_of_range_is_max_return() {
        for raw in [53, 54, 1000, u32::MAX] {
            assert_eq!(name(GearmanReturn(raw)), "GEARMAN_MAX_RETURN");
        }
    }
}
