//! The error state every client and worker carries in libgearman (spec §4): a return code, a
//! message of at most 2047 bytes and a saved errno, with 1.1.20's recording, reset and
//! `gearman_*_error()` presentation rules. Used by the client/worker wiring of the C layer.

use std::os::raw::c_char;

use super::callbacks::{callback, gearman_log_fn, LogFn};
use super::enums::{gearman_verbose_t, RawVerbose};
use super::limits::GEARMAN_MAX_ERROR_SIZE;
use super::return_code::{self, gearman_return_t, GearmanReturn};

/// Longest stored message (upstream's buffer size minus the NUL).
const MAX_MESSAGE: usize = GEARMAN_MAX_ERROR_SIZE as usize - 1;

/// A client's or worker's last error.
#[derive(Debug, Clone)]
pub struct ErrorState {
    code: GearmanReturn,
    /// Empty, or the message followed by one NUL.
    message: Vec<u8>,
    errno: i32,
}

impl Default for ErrorState {
    /// A fresh object: `GEARMAN_SUCCESS`, no message (its `error()` is NULL), errno 0.
    fn default() -> Self {
        ErrorState {
            code: gearman_return_t::GEARMAN_SUCCESS.into(),
            message: Vec::new(),
            errno: 0,
        }
    }
}

/// Codes recorded without a message (the message buffer is left as it is), as 1.1.20.
fn code_only(rc: GearmanReturn) -> bool {
    use gearman_return_t::*;
    [
        GEARMAN_SUCCESS,
        GEARMAN_IO_WAIT,
        GEARMAN_INVALID_SERVER_OPTION,
        GEARMAN_WORK_EXCEPTION,
        GEARMAN_WORK_FAIL,
        GEARMAN_SHUTDOWN_GRACEFUL,
        GEARMAN_SHUTDOWN,
    ]
    .iter()
    .any(|&c| rc == c)
}

/// The log level of a recorded error: FATAL for allocation failures, else ERROR.
fn level_of(rc: GearmanReturn) -> gearman_verbose_t {
    if rc == gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE {
        gearman_verbose_t::GEARMAN_VERBOSE_FATAL
    } else {
        gearman_verbose_t::GEARMAN_VERBOSE_ERROR
    }
}

impl ErrorState {
    /// The current code.
    pub fn code(&self) -> GearmanReturn {
        self.code
    }

    /// The saved errno (0 unless the last recorded code came from a system error).
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The stored message without its NUL, if any.
    pub fn message(&self) -> Option<&[u8]> {
        self.message.split_last().map(|(_, text)| text)
    }

    /// The reset done at the start of operations and whenever a packet starts being sent:
    /// `GEARMAN_UNKNOWN_STATE`, no message, errno 0.
    pub fn reset(&mut self) {
        self.code = gearman_return_t::GEARMAN_UNKNOWN_STATE.into();
        self.message.clear();
        self.errno = 0;
    }

    fn store_message(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let kept = &bytes[..bytes.len().min(MAX_MESSAGE)];
        self.message.clear();
        self.message.extend_from_slice(kept);
        self.message.push(0);
    }

    /// Applies 1.1.20's errno correction: a `GEARMAN_ERRNO` code becomes a specific code for
    /// well-known errnos; any other code clears the saved errno.
    fn correct_from_errno(&mut self) {
        if self.code != gearman_return_t::GEARMAN_ERRNO {
            self.errno = 0;
            return;
        }
        let mapped = match self.errno {
            libc::EFAULT | libc::ENOMEM => gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE,
            libc::EINVAL => gearman_return_t::GEARMAN_INVALID_ARGUMENT,
            libc::ECONNRESET | libc::EHOSTDOWN | libc::EPIPE => {
                gearman_return_t::GEARMAN_LOST_CONNECTION
            }
            libc::ECONNREFUSED | libc::ENETUNREACH | libc::ETIMEDOUT => {
                gearman_return_t::GEARMAN_COULD_NOT_CONNECT
            }
            _ => return,
        };
        self.code = mapped.into();
    }

    /// Records `rc` raised by `function` with a detail text. Codes of the "code only" set
    /// (SUCCESS, IO_WAIT, INVALID_SERVER_OPTION, WORK_EXCEPTION, WORK_FAIL, SHUTDOWN(_GRACEFUL))
    /// store just the code; others store
    /// `"<function>(<STRERROR>) <detail> -> <file>:<line> pid(<pid>)"` (position = the Rust caller).
    /// Returns the level at which the message must be logged (see [`ErrorState::log`]), or None.
    #[track_caller]
    pub fn set(
        &mut self,
        rc: GearmanReturn,
        function: &str,
        detail: &str,
    ) -> Option<gearman_verbose_t> {
        self.code = rc;
        if code_only(rc) {
            return None;
        }
        self.correct_from_errno();
        let at = std::panic::Location::caller();
        let text = format!(
            "{function}({}) {detail} -> {}:{} pid({})",
            return_code::name(self.code),
            at.file(),
            at.line(),
            std::process::id()
        );
        self.store_message(&text);
        Some(level_of(self.code))
    }

    /// Records a name-resolution failure: `GEARMAN_GETADDRINFO` with the message
    /// `"<host>:<port> getaddrinfo:<reason> pid(<pid>)"`.
    pub fn set_getaddrinfo(
        &mut self,
        host: &str,
        port: &str,
        reason: &str,
    ) -> Option<gearman_verbose_t> {
        self.code = gearman_return_t::GEARMAN_GETADDRINFO.into();
        self.errno = 0;
        let text = format!(
            "{host}:{port} getaddrinfo:{reason} pid({})",
            std::process::id()
        );
        self.store_message(&text);
        Some(level_of(self.code))
    }

    /// Records a system error `errno` met by `function`: code `GEARMAN_ERRNO` (ENOMEM →
    /// MEMORY_ALLOCATION_FAILURE) corrected as 1.1.20 does, errno saved, message
    /// `"<function>(<strerror(errno)>) <detail> -> <file>:<line> pid(<pid>)"`. errno 0 records nothing.
    #[track_caller]
    pub fn set_errno(
        &mut self,
        errno: i32,
        function: &str,
        detail: &str,
    ) -> Option<gearman_verbose_t> {
        if errno == 0 {
            return None;
        }
        self.code = if errno == libc::ENOMEM {
            gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE.into()
        } else {
            gearman_return_t::GEARMAN_ERRNO.into()
        };
        self.errno = errno;
        if self.code == gearman_return_t::GEARMAN_ERRNO {
            self.correct_from_errno();
        }
        let at = std::panic::Location::caller();
        let text = format!(
            "{function}({}) {detail} -> {}:{} pid({})",
            std::io::Error::from_raw_os_error(errno),
            at.file(),
            at.line(),
            std::process::id()
        );
        self.store_message(&text);
        Some(level_of(self.code))
    }

    /// What `gearman_client_error()` / `gearman_worker_error()` return: NULL for SUCCESS; the
    /// stored message for other codes when there is one; else the code's name (so after a reset:
    /// "GEARMAN_UNKNOWN_STATE"). Valid until the state changes.
    pub fn c_message(&self) -> *const c_char {
        if self.code == gearman_return_t::GEARMAN_SUCCESS {
            return std::ptr::null();
        }
        if self.code != gearman_return_t::GEARMAN_UNKNOWN_STATE && !self.message.is_empty() {
            return self.message.as_ptr().cast();
        }
        return_code::name_bytes(self.code).as_ptr().cast()
    }

    /// Passes the stored message to the object's log callback when one is installed and the
    /// object's verbosity reaches `level` (1.1.20 logs every recorded message this way).
    ///
    /// # Safety
    ///
    /// A non-NULL `log_fn` must be a function of the `gearman_log_fn` type; `context` is passed
    /// through untouched.
    pub unsafe fn log(
        &self,
        level: gearman_verbose_t,
        log_fn: *mut gearman_log_fn,
        context: *mut std::ffi::c_void,
        verbosity: RawVerbose,
    ) {
        if verbosity.0 < level as u32 || self.message.is_empty() {
            return;
        }
        // SAFETY: signature guaranteed by the caller.
        if let Some(f) = unsafe { callback::<_, LogFn>(log_fn) } {
            // SAFETY: the message is NUL-terminated and outlives the call.
            unsafe { f(self.message.as_ptr().cast(), level.into(), context) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn text(state: &ErrorState) -> Option<String> {
        let p = state.c_message();
        // SAFETY: non-NULL results are NUL-terminated strings owned by `state` or static.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn presentation_rules() {
        let mut e = ErrorState::default();
        assert_eq!(text(&e), None, "fresh object: NULL");
        e.reset();
        assert_eq!(text(&e).as_deref(), Some("GEARMAN_UNKNOWN_STATE"));
        assert_eq!(
            e.set(gearman_return_t::GEARMAN_WORK_FAIL.into(), "f", "x"),
            None
        );
        assert_eq!(text(&e).as_deref(), Some("GEARMAN_WORK_FAIL"));
        let level = e.set(
            gearman_return_t::GEARMAN_NO_SERVERS.into(),
            "_client_run_task",
            "no servers provided",
        );
        assert_eq!(level, Some(gearman_verbose_t::GEARMAN_VERBOSE_ERROR));
        let msg = text(&e).unwrap();
        assert!(
            msg.starts_with(
                "_client_run_task(GEARMAN_NO_SERVERS) no servers provided -> src/capi/error.rs:"
            ),
            "{msg}"
        );
        assert!(
            msg.ends_with(&format!(" pid({})", std::process::id())),
            "{msg}"
        );
        // A code-only record keeps the previous message, as 1.1.20.
        e.set(gearman_return_t::GEARMAN_IO_WAIT.into(), "f", "");
        assert_eq!(text(&e), Some(msg));
        e.set_getaddrinfo("nohost", "4730", "Name or service not known");
        assert!(text(&e)
            .unwrap()
            .starts_with("nohost:4730 getaddrinfo:Name or service not known pid("));
    }

    #[test]
    fn errno_correction_and_truncation() {
        let mut e = ErrorState::default();
        e.set_errno(libc::ECONNREFUSED, "connect", "");
        assert_eq!(e.code(), gearman_return_t::GEARMAN_COULD_NOT_CONNECT);
        assert_eq!(e.errno(), libc::ECONNREFUSED);
        assert_eq!(
            e.set_errno(libc::ENOMEM, "alloc", ""),
            Some(gearman_verbose_t::GEARMAN_VERBOSE_FATAL)
        );
        e.set_errno(libc::EACCES, "open", "");
        assert_eq!(e.code(), gearman_return_t::GEARMAN_ERRNO);
        e.set(
            gearman_return_t::GEARMAN_TIMEOUT.into(),
            "poll",
            &"y".repeat(5000),
        );
        assert_eq!(e.errno(), 0, "non-ERRNO codes clear errno");
        assert_eq!(e.message().unwrap().len(), MAX_MESSAGE);
    }

    static LOGGED: std::sync::Mutex<Vec<(String, u32)>> = std::sync::Mutex::new(Vec::new());

    unsafe extern "C" fn record_log(
        line: *const c_char,
        verbose: RawVerbose,
        _context: *mut std::ffi::c_void,
    ) {
        // SAFETY: the library passes a NUL-terminated message.
        let line = unsafe { CStr::from_ptr(line) }
            .to_string_lossy()
            .into_owned();
        LOGGED.lock().unwrap().push((line, verbose.0));
    }

    #[test]
    fn log_respects_the_verbosity() {
        let mut e = ErrorState::default();
        let level = e
            .set(
                gearman_return_t::GEARMAN_TIMEOUT.into(),
                "wait",
                "timeout reached",
            )
            .unwrap();
        let f = record_log as *const () as *mut gearman_log_fn;
        let null = std::ptr::null_mut();
        // SAFETY: `record_log` has the gearman_log_fn signature.
        unsafe {
            e.log(
                level,
                f,
                null,
                gearman_verbose_t::GEARMAN_VERBOSE_FATAL.into(),
            );
            e.log(
                level,
                f,
                null,
                gearman_verbose_t::GEARMAN_VERBOSE_INFO.into(),
            );
            e.log(
                level,
                std::ptr::null_mut(),
                null,
                gearman_verbose_t::GEARMAN_VERBOSE_INFO.into(),
            );
        }
        let logged = LOGGED.lock().unwrap();
        assert_eq!(
            logged.len(),
            1,
            "only the INFO-verbosity object logs an ERROR"
        );
        assert!(logged[0]
            .0
            .starts_with("wait(GEARMAN_TIMEOUT) timeout reached -> "));
        assert_eq!(logged[0].1, gearman_verbose_t::GEARMAN_VERBOSE_ERROR as u32);
    }
}
