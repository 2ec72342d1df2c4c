//! Return codes with libgearman 1.1.20's numbering, and the error type of the Rust API.
//!
//! [`ReturnCode`] mirrors `gearman_return_t` value for value, so the C layer maps 1:1.

use std::fmt;

macro_rules! return_codes {
    ($($name:ident = $num:literal, $text:literal;)*) => {
        /// `gearman_return_t`: the outcome of an operation, numbered exactly as in libgearman 1.1.20.
        /// Each variant is upstream's enumerator without the `GEARMAN_` prefix ([`ReturnCode::name`]).
        #[allow(missing_docs)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i32)]
        pub enum ReturnCode {
            $($name = $num,)*
        }

        impl ReturnCode {
            /// The code for a raw value; `None` outside 0..=53.
            pub fn from_i32(n: i32) -> Option<ReturnCode> {
                match n {
                    $($num => Some(ReturnCode::$name),)*
                    _ => None,
                }
            }

            /// The enumerator name, which is also `gearman_strerror()`'s text.
            pub fn name(self) -> &'static str {
                match self {
                    $(ReturnCode::$name => $text,)*
                }
            }

            /// The enumerator name followed by a NUL (for C callers).
            pub fn name_cstr(self) -> &'static [u8] {
                match self {
                    $(ReturnCode::$name => concat!($text, "\0").as_bytes(),)*
                }
            }
        }
    };
}

return_codes! {
    Success = 0, "GEARMAN_SUCCESS";
    IoWait = 1, "GEARMAN_IO_WAIT";
    Shutdown = 2, "GEARMAN_SHUTDOWN";
    ShutdownGraceful = 3, "GEARMAN_SHUTDOWN_GRACEFUL";
    Errno = 4, "GEARMAN_ERRNO";
    Event = 5, "GEARMAN_EVENT";
    TooManyArgs = 6, "GEARMAN_TOO_MANY_ARGS";
    NoActiveFds = 7, "GEARMAN_NO_ACTIVE_FDS";
    InvalidMagic = 8, "GEARMAN_INVALID_MAGIC";
    InvalidCommand = 9, "GEARMAN_INVALID_COMMAND";
    InvalidPacket = 10, "GEARMAN_INVALID_PACKET";
    UnexpectedPacket = 11, "GEARMAN_UNEXPECTED_PACKET";
    GetAddrInfo = 12, "GEARMAN_GETADDRINFO";
    NoServers = 13, "GEARMAN_NO_SERVERS";
    LostConnection = 14, "GEARMAN_LOST_CONNECTION";
    MemoryAllocationFailure = 15, "GEARMAN_MEMORY_ALLOCATION_FAILURE";
    JobExists = 16, "GEARMAN_JOB_EXISTS";
    JobQueueFull = 17, "GEARMAN_JOB_QUEUE_FULL";
    ServerError = 18, "GEARMAN_SERVER_ERROR";
    WorkError = 19, "GEARMAN_WORK_ERROR";
    WorkData = 20, "GEARMAN_WORK_DATA";
    WorkWarning = 21, "GEARMAN_WORK_WARNING";
    WorkStatus = 22, "GEARMAN_WORK_STATUS";
    WorkException = 23, "GEARMAN_WORK_EXCEPTION";
    WorkFail = 24, "GEARMAN_WORK_FAIL";
    NotConnected = 25, "GEARMAN_NOT_CONNECTED";
    CouldNotConnect = 26, "GEARMAN_COULD_NOT_CONNECT";
    SendInProgress = 27, "GEARMAN_SEND_IN_PROGRESS";
    RecvInProgress = 28, "GEARMAN_RECV_IN_PROGRESS";
    NotFlushing = 29, "GEARMAN_NOT_FLUSHING";
    DataTooLarge = 30, "GEARMAN_DATA_TOO_LARGE";
    InvalidFunctionName = 31, "GEARMAN_INVALID_FUNCTION_NAME";
    InvalidWorkerFunction = 32, "GEARMAN_INVALID_WORKER_FUNCTION";
    NoRegisteredFunction = 33, "GEARMAN_NO_REGISTERED_FUNCTION";
    NoRegisteredFunctions = 34, "GEARMAN_NO_REGISTERED_FUNCTIONS";
    NoJobs = 35, "GEARMAN_NO_JOBS";
    EchoDataCorruption = 36, "GEARMAN_ECHO_DATA_CORRUPTION";
    NeedWorkloadFn = 37, "GEARMAN_NEED_WORKLOAD_FN";
    Pause = 38, "GEARMAN_PAUSE";
    UnknownState = 39, "GEARMAN_UNKNOWN_STATE";
    Pthread = 40, "GEARMAN_PTHREAD";
    PipeEof = 41, "GEARMAN_PIPE_EOF";
    QueueError = 42, "GEARMAN_QUEUE_ERROR";
    FlushData = 43, "GEARMAN_FLUSH_DATA";
    SendBufferTooSmall = 44, "GEARMAN_SEND_BUFFER_TOO_SMALL";
    IgnorePacket = 45, "GEARMAN_IGNORE_PACKET";
    UnknownOption = 46, "GEARMAN_UNKNOWN_OPTION";
    Timeout = 47, "GEARMAN_TIMEOUT";
    ArgumentTooLarge = 48, "GEARMAN_ARGUMENT_TOO_LARGE";
    InvalidArgument = 49, "GEARMAN_INVALID_ARGUMENT";
    InProgress = 50, "GEARMAN_IN_PROGRESS";
    InvalidServerOption = 51, "GEARMAN_INVALID_SERVER_OPTION";
    JobNotFound = 52, "GEARMAN_JOB_NOT_FOUND";
    MaxReturn = 53, "GEARMAN_MAX_RETURN";
}

impl ReturnCode {
    /// `GEARMAN_FAIL` / `GEARMAN_FATAL` (aliases of WORK_FAIL).
    pub const FAIL: ReturnCode = ReturnCode::WorkFail;
    /// `GEARMAN_ERROR` (alias of WORK_ERROR).
    pub const ERROR: ReturnCode = ReturnCode::WorkError;

    /// `gearman_strerror()`: the name, `"GEARMAN_MAX_RETURN"` for any value outside 0..=52.
    pub fn strerror(n: i32) -> &'static str {
        ReturnCode::from_i32(n).map_or("GEARMAN_MAX_RETURN", ReturnCode::name)
    }

    /// `gearman_success()`.
    pub fn is_success(self) -> bool {
        self == ReturnCode::Success
    }

    /// `gearman_continue()`: IO_WAIT, IN_PROGRESS, PAUSE, JOB_EXISTS.
    pub fn is_continue(self) -> bool {
        matches!(
            self,
            ReturnCode::IoWait | ReturnCode::InProgress | ReturnCode::Pause | ReturnCode::JobExists
        )
    }

    /// Maps the code text of a server ERROR packet (`"JOB_NOT_FOUND"`, a trailing NUL ignored)
    /// back to its code; `None` when the text names no code.
    pub fn from_server_text(text: &[u8]) -> Option<ReturnCode> {
        let text = text.strip_suffix(b"\0").unwrap_or(text);
        (0..53).filter_map(ReturnCode::from_i32).find(|c| {
            c.name()
                .strip_prefix("GEARMAN_")
                .is_some_and(|n| n.as_bytes() == text)
        })
    }

    /// Codes recorded without a message (the error text is then the code's name).
    pub(crate) fn is_quiet(self) -> bool {
        matches!(
            self,
            ReturnCode::Success
                | ReturnCode::IoWait
                | ReturnCode::InvalidServerOption
                | ReturnCode::WorkException
                | ReturnCode::WorkFail
                | ReturnCode::ShutdownGraceful
                | ReturnCode::Shutdown
        )
    }
}

impl fmt::Display for ReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An error of the client or worker: a [`ReturnCode`], a message in libgearman's shape
/// (`"<operation>(<CODE>) <detail> -> <where> pid(<pid>)"`, empty for the "quiet" codes such as
/// IO_WAIT or WORK_FAIL) and the errno of a system error (0 otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    code: ReturnCode,
    message: String,
    errno: i32,
}

impl Error {
    /// An error with a detail text, formatted as libgearman formats its messages.
    pub fn new(code: ReturnCode, operation: &str, detail: impl fmt::Display) -> Error {
        let message = if code.is_quiet() {
            String::new()
        } else {
            format!(
                "{operation}({}) {detail} -> libgearman pid({})",
                code.name(),
                std::process::id()
            )
        };
        Error {
            code,
            message,
            errno: 0,
        }
    }

    /// An error with only a code: its text is the code's name.
    pub fn code_only(code: ReturnCode) -> Error {
        Error {
            code,
            message: String::new(),
            errno: 0,
        }
    }

    /// An error with an exact message (used for messages libgearman does not decorate).
    pub fn with_message(code: ReturnCode, message: String) -> Error {
        Error {
            code,
            message,
            errno: 0,
        }
    }

    /// Maps a system error to libgearman's code (`ECONNREFUSED` → COULD_NOT_CONNECT, ...).
    pub fn from_io(operation: &str, err: &std::io::Error) -> Error {
        let errno = err.raw_os_error().unwrap_or(0);
        let code = match errno {
            libc::EFAULT | libc::ENOMEM => ReturnCode::MemoryAllocationFailure,
            libc::EINVAL => ReturnCode::InvalidArgument,
            libc::ECONNRESET | libc::EHOSTDOWN | libc::EPIPE => ReturnCode::LostConnection,
            libc::ECONNREFUSED | libc::ENETUNREACH | libc::ETIMEDOUT => ReturnCode::CouldNotConnect,
            _ => ReturnCode::Errno,
        };
        let mut e = Error::new(code, operation, err);
        if code == ReturnCode::Errno {
            e.errno = errno;
        }
        e
    }

    /// The return code.
    pub fn code(&self) -> ReturnCode {
        self.code
    }

    /// The formatted message; empty for codes libgearman records without one (a
    /// WORK_EXCEPTION from [`Client::do_job`](crate::Client::do_job) carries the worker's text).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The saved errno (0 unless the code is ERRNO).
    pub fn errno(&self) -> i32 {
        self.errno
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(self.code.name())
        } else {
            f.write_str(&self.message)
        }
    }
}

impl std::error::Error for Error {}

/// The error state every client and worker carries (libgearman's "universal" error slot): the
/// single model behind both the Rust API and the C layer's `gearman_*_error*()` functions.
///
/// Fresh objects report SUCCESS with no text; operations that talk to servers reset it to
/// UNKNOWN_STATE first, so after a successful networked call the code is UNKNOWN_STATE.
/// Messages are kept NUL-terminated (at most [`MAX_ERROR_MESSAGE`] bytes) so the C layer can
/// hand out a pointer without copying.
#[derive(Debug, Clone)]
pub struct ErrorState {
    code: ReturnCode,
    /// Empty, or the message followed by one NUL.
    message: Vec<u8>,
    errno: i32,
    log: Vec<(ReturnCode, String)>,
}

impl Default for ErrorState {
    fn default() -> Self {
        ErrorState {
            code: ReturnCode::Success,
            message: Vec::new(),
            errno: 0,
            log: Vec::new(),
        }
    }
}

/// Messages kept for the log callback of the C layer before it drains them.
const MAX_PENDING_LOG: usize = 64;

/// Longest stored message (libgearman's 2048-byte buffer minus the NUL).
pub const MAX_ERROR_MESSAGE: usize = 2047;

impl ErrorState {
    /// Resets to UNKNOWN_STATE with no message (done at the start of networked operations).
    pub fn reset(&mut self) {
        self.code = ReturnCode::UnknownState;
        self.message.clear();
        self.errno = 0;
    }

    /// Records an error; messages of non-quiet codes are also queued for the log callback.
    /// Quiet codes (IO_WAIT, WORK_FAIL, ...) store only the code and keep the old message.
    pub fn record(&mut self, err: &Error) {
        self.code = err.code;
        self.errno = err.errno;
        if !err.code.is_quiet() {
            let bytes = err.message.as_bytes();
            let kept = &bytes[..bytes.len().min(MAX_ERROR_MESSAGE)];
            self.message.clear();
            if !kept.is_empty() {
                self.message.extend_from_slice(kept);
                self.message.push(0);
            }
            if self.log.len() < MAX_PENDING_LOG && !err.message.is_empty() {
                self.log.push((err.code, err.message.clone()));
            }
        }
    }

    /// Queues a warning for the log callback (at the ERROR level: libgearman's levels have no
    /// WARN); the error state itself is unchanged.
    pub fn warn(&mut self, message: String) {
        if self.log.len() < MAX_PENDING_LOG {
            self.log.push((ReturnCode::Success, message));
        }
    }

    /// Stores a code without a message.
    pub fn set_code(&mut self, code: ReturnCode) {
        self.code = code;
        self.errno = 0;
    }

    /// The current code.
    pub fn code(&self) -> ReturnCode {
        self.code
    }

    /// The stored message (may be empty).
    pub fn message(&self) -> &str {
        let text = self.message.split_last().map_or(&[][..], |(_, t)| t);
        // Stored from a `String`, truncated at most mid-character: fall back to the valid prefix.
        match std::str::from_utf8(text) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&text[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    /// The saved errno (0 unless the code is ERRNO).
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// `gearman_client_error()`'s text: `None` for SUCCESS, the message if one is stored,
    /// else the code's name.
    pub fn text(&self) -> Option<&str> {
        match self.code {
            ReturnCode::Success => None,
            ReturnCode::UnknownState => Some(self.code.name()),
            c if self.message.is_empty() => Some(c.name()),
            _ => Some(self.message()),
        }
    }

    /// [`ErrorState::text`] as a NUL-terminated C string (NULL for SUCCESS), valid until the
    /// state changes: the stored message, or the static code name.
    pub fn c_text(&self) -> *const std::os::raw::c_char {
        match self.code {
            ReturnCode::Success => std::ptr::null(),
            c if c == ReturnCode::UnknownState || self.message.is_empty() => {
                c.name_cstr().as_ptr().cast()
            }
            _ => self.message.as_ptr().cast(),
        }
    }

    /// Messages recorded since the last call, for a log callback.
    pub fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
            .into_iter()
            .map(|(_, m)| m)
            .collect()
    }

    /// Like [`ErrorState::take_log`], with the code each message was recorded with (the C layer
    /// logs MEMORY_ALLOCATION_FAILURE at FATAL, everything else at ERROR).
    pub fn take_log_entries(&mut self) -> Vec<(ReturnCode, String)> {
        std::mem::take(&mut self.log)
    }

    /// True when messages are waiting for [`ErrorState::take_log_entries`].
    pub fn has_log(&self) -> bool {
        !self.log.is_empty()
    }
}

/// Result type of the Rust API.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_upstream() {
        assert_eq!(ReturnCode::JobNotFound as i32, 52);
        assert_eq!(ReturnCode::FAIL as i32, 24);
        assert_eq!(ReturnCode::ERROR as i32, 19);
        assert_eq!(ReturnCode::strerror(1000), "GEARMAN_MAX_RETURN");
        assert_eq!(ReturnCode::strerror(53), "GEARMAN_MAX_RETURN");
        assert_eq!(ReturnCode::strerror(-1), "GEARMAN_MAX_RETURN");
        assert_eq!(ReturnCode::strerror(47), "GEARMAN_TIMEOUT");
        for n in 0..=53 {
            assert_eq!(ReturnCode::from_i32(n).map(|c| c as i32), Some(n));
        }
    }

    #[test]
    fn server_text_maps_back() {
        assert_eq!(
            ReturnCode::from_server_text(b"JOB_NOT_FOUND"),
            Some(ReturnCode::JobNotFound)
        );
        assert_eq!(
            ReturnCode::from_server_text(b"UNKNOWN_OPTION\0"),
            Some(ReturnCode::UnknownOption)
        );
        assert_eq!(ReturnCode::from_server_text(b"BOGUS"), None);
    }

    #[test]
    fn error_state_follows_the_c_rules() {
        let mut s = ErrorState::default();
        assert_eq!(s.text(), None);
        s.reset();
        assert_eq!(s.text(), Some("GEARMAN_UNKNOWN_STATE"));
        s.record(&Error::new(ReturnCode::WorkFail, "x", "y"));
        assert_eq!(s.text(), Some("GEARMAN_WORK_FAIL"));
        s.reset();
        s.record(&Error::new(
            ReturnCode::NoServers,
            "run",
            "no servers provided",
        ));
        assert!(s
            .text()
            .unwrap_or("")
            .starts_with("run(GEARMAN_NO_SERVERS) no servers"));
        assert_eq!(s.take_log().len(), 1);
    }

    #[test]
    fn c_text_is_nul_terminated_and_bounded() {
        use std::ffi::CStr;
        let mut s = ErrorState::default();
        assert!(s.c_text().is_null());
        s.reset();
        // SAFETY: non-NULL results are NUL-terminated (static name or the stored message).
        let t = unsafe { CStr::from_ptr(s.c_text()) };
        assert_eq!(t.to_str(), Ok("GEARMAN_UNKNOWN_STATE"));
        s.record(&Error::new(ReturnCode::Timeout, "wait", "y".repeat(5000)));
        // SAFETY: as above.
        let t = unsafe { CStr::from_ptr(s.c_text()) };
        assert_eq!(t.to_bytes().len(), MAX_ERROR_MESSAGE);
        assert!(t
            .to_str()
            .unwrap_or("")
            .starts_with("wait(GEARMAN_TIMEOUT) y"));
        s.record(&Error::code_only(ReturnCode::IoWait));
        // SAFETY: as above.
        let t = unsafe { CStr::from_ptr(s.c_text()) };
        assert_eq!(
            t.to_bytes().len(),
            MAX_ERROR_MESSAGE,
            "quiet codes keep the message"
        );
        s.record(&Error::new(
            ReturnCode::MemoryAllocationFailure,
            "alloc",
            "x",
        ));
        let entries = s.take_log_entries();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].0, ReturnCode::MemoryAllocationFailure);
    }
}
