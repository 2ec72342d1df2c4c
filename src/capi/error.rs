//! How the C layer presents the core's error state (libgearman 1.1.20's error model: a code, a
//! message in its `func(CODE) detail -> where` shape, a saved errno, and a log callback).
//!
//! There is one error model: [`crate::error::ErrorState`] (code, NUL-terminated message, errno,
//! pending log lines), owned by the core's `Client` and `Worker`. This module only converts codes
//! between the core and C, and passes recorded messages to an object's `gearman_log_fn`.

use std::ffi::{c_void, CString};

use super::callbacks::{callback, gearman_log_fn};
use super::enums::{gearman_verbose_t, RawVerbose};
use super::return_code::GearmanReturn;
use crate::error::{ErrorState, ReturnCode};

/// A core code as C sees it.
pub fn to_c(code: ReturnCode) -> GearmanReturn {
    GearmanReturn(code as i32 as u32)
}

/// SUCCESS, or the code of the error.
pub fn code_of(r: Result<(), crate::error::Error>) -> GearmanReturn {
    match r {
        Ok(()) => GearmanReturn(0),
        Err(e) => to_c(e.code()),
    }
}

/// A C code as the core sees it; values outside 0..=52 become MAX_RETURN.
pub fn from_c(code: GearmanReturn) -> ReturnCode {
    i32::try_from(code.0)
        .ok()
        .and_then(ReturnCode::from_i32)
        .unwrap_or(ReturnCode::MaxReturn)
}

/// The log level of a recorded error: FATAL for allocation failures, else ERROR.
pub fn level_of(code: ReturnCode) -> gearman_verbose_t {
    if code == ReturnCode::MemoryAllocationFailure {
        gearman_verbose_t::GEARMAN_VERBOSE_FATAL
    } else {
        gearman_verbose_t::GEARMAN_VERBOSE_ERROR
    }
}

/// An object's `set_log_fn` settings.
#[derive(Debug, Clone, Copy)]
pub struct LogSettings {
    /// The callback (NULL: no logging).
    pub function: *mut gearman_log_fn,
    /// Passed through to the callback.
    pub context: *mut c_void,
    /// The threshold: a message is logged when `verbosity >= its level`.
    pub verbosity: RawVerbose,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            function: std::ptr::null_mut(),
            context: std::ptr::null_mut(),
            verbosity: gearman_verbose_t::GEARMAN_VERBOSE_NEVER.into(),
        }
    }
}

impl LogSettings {
    /// Drains the messages `state` recorded and passes each one whose level the verbosity
    /// reaches to the callback (1.1.20 logs every recorded message synchronously; here they are
    /// delivered when the recording call returns to the C layer). Without a callback the
    /// messages are just dropped.
    ///
    /// # Safety
    ///
    /// A non-NULL `function` must be a `gearman_log_fn`; it must not free the object owning `state`.
    pub unsafe fn flush(&self, state: &mut ErrorState) {
        if !state.has_log() {
            return;
        }
        let entries = state.take_log_entries();
        // SAFETY: signature guaranteed by the caller.
        let Some(f) = (unsafe { callback(self.function) }) else {
            return;
        };
        for (code, message) in entries {
            let level = level_of(code);
            if self.verbosity.0 < level as u32 {
                continue;
            }
            let Ok(line) = CString::new(message.replace('\0', " ")) else {
                continue;
            };
            // SAFETY: a NUL-terminated line that outlives the call; context passed through.
            unsafe { f(line.as_ptr(), level.into(), self.context) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::ffi::CStr;
    use std::os::raw::c_char;

    #[test]
    fn codes_round_trip() {
        for n in 0..=53u32 {
            assert_eq!(to_c(from_c(GearmanReturn(n))).0, n);
        }
        assert_eq!(from_c(GearmanReturn(1000)), ReturnCode::MaxReturn);
    }

    static LOGGED: std::sync::Mutex<Vec<(String, u32)>> = std::sync::Mutex::new(Vec::new());

    unsafe extern "C" fn record_log(line: *const c_char, verbose: RawVerbose, _c: *mut c_void) {
        // SAFETY: the library passes a NUL-terminated message.
        let line = unsafe { CStr::from_ptr(line) }
            .to_string_lossy()
            .into_owned();
        LOGGED.lock().unwrap().push((line, verbose.0));
    }

    #[test]
    fn flush_respects_the_verbosity() {
        let f = record_log as *const () as *mut gearman_log_fn;
        let mut state = ErrorState::default();
        let fatal_only = LogSettings {
            function: f,
            context: std::ptr::null_mut(),
            verbosity: gearman_verbose_t::GEARMAN_VERBOSE_FATAL.into(),
        };
        state.record(&Error::new(ReturnCode::Timeout, "wait", "timeout reached"));
        // SAFETY: `record_log` has the gearman_log_fn signature.
        unsafe { fatal_only.flush(&mut state) };
        assert!(
            LOGGED.lock().unwrap().is_empty(),
            "ERROR is below FATAL verbosity"
        );
        assert!(!state.has_log(), "drained anyway");
        let info = LogSettings {
            verbosity: gearman_verbose_t::GEARMAN_VERBOSE_INFO.into(),
            ..fatal_only
        };
        state.record(&Error::new(ReturnCode::Timeout, "wait", "timeout reached"));
        // SAFETY: as above.
        unsafe { info.flush(&mut state) };
        let logged = LOGGED.lock().unwrap();
        assert_eq!(logged.len(), 1);
        assert!(logged[0]
            .0
            .starts_with("wait(GEARMAN_TIMEOUT) timeout reached -> "));
        assert_eq!(logged[0].1, gearman_verbose_t::GEARMAN_VERBOSE_ERROR as u32);
    }
}
