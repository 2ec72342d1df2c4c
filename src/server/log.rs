//! The server's log: level-filtered lines to stderr, a file (reopened on SIGHUP) or nowhere,
//! and with `--syslog` also to syslog(3) (ident `gearmand`, facility LOG_USER, as gearmand).

use super::config::Verbose;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Where log lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stderr,
    None,
    File(PathBuf),
}

struct Logger {
    level: Verbose,
    target: LogTarget,
    file: Option<File>,
    syslog: bool,
}

static LOGGER: Mutex<Logger> = Mutex::new(Logger {
    level: Verbose::Error,
    target: LogTarget::Stderr,
    file: None,
    syslog: false,
});

fn open(path: &PathBuf) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Sets the level and target; opens the file now so that a bad path is reported at start.
pub fn init(level: Verbose, target: LogTarget) -> io::Result<()> {
    let file = match &target {
        LogTarget::File(p) => Some(open(p)?),
        _ => None,
    };
    let mut l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    l.level = level;
    l.target = target;
    l.file = file;
    Ok(())
}

/// Also sends every line that passes the level to syslog(3).
pub fn enable_syslog() {
    // SAFETY: the ident is a static C string, as openlog keeps the pointer.
    unsafe {
        libc::openlog(
            c"gearmand".as_ptr(),
            libc::LOG_PID | libc::LOG_NDELAY,
            libc::LOG_USER,
        )
    };
    LOGGER.lock().unwrap_or_else(|e| e.into_inner()).syslog = true;
}

/// The syslog priority of a gearmand level.
fn syslog_priority(level: Verbose) -> libc::c_int {
    match level {
        Verbose::Fatal => libc::LOG_EMERG,
        Verbose::Alert => libc::LOG_ALERT,
        Verbose::Critical => libc::LOG_CRIT,
        Verbose::Error => libc::LOG_ERR,
        Verbose::Warning => libc::LOG_WARNING,
        Verbose::Notice => libc::LOG_NOTICE,
        Verbose::Info => libc::LOG_INFO,
        Verbose::Debug => libc::LOG_DEBUG,
    }
}

/// Reopens the log file (after rotation); a failure keeps the old file.
pub fn reopen() {
    let mut l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    if let LogTarget::File(p) = &l.target {
        if let Ok(f) = open(p) {
            l.file = Some(f);
        }
    }
}

pub fn log(level: Verbose, args: fmt::Arguments<'_>) {
    let mut l = LOGGER.lock().unwrap_or_else(|e| e.into_inner());
    if level > l.level {
        return;
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let line = format!("{secs} {:>7} {args}\n", level.name());
    if l.syslog {
        let text = format!("{args}").replace('\0', " ");
        if let Ok(c) = std::ffi::CString::new(text) {
            // SAFETY: a constant "%s" format with one NUL-terminated string argument.
            unsafe { libc::syslog(syslog_priority(level), c"%s".as_ptr(), c.as_ptr()) };
        }
    }
    match l.target {
        LogTarget::Stderr => {
            let _ = io::stderr().write_all(line.as_bytes());
        }
        LogTarget::None => {}
        LogTarget::File(_) => {
            if let Some(f) = l.file.as_mut() {
                let _ = f.write_all(line.as_bytes());
            }
        }
    }
}

/// Whether a message of this level would be written (to skip formatting hot-path messages).
pub fn enabled(level: Verbose) -> bool {
    LOGGER.lock().map(|l| level <= l.level).unwrap_or(false)
}

pub fn error(args: fmt::Arguments<'_>) {
    log(Verbose::Error, args)
}

pub fn warning(args: fmt::Arguments<'_>) {
    log(Verbose::Warning, args)
}

pub fn info(args: fmt::Arguments<'_>) {
    log(Verbose::Info, args)
}
