//! `gearman_id_t` and the wake-up helpers of upstream kill.h: `gearman_kill`, `gearman_id_valid`,
//! `gearman_id_initialize`. A worker's id is its wake-up pipe (`gearman_worker_id`).

use super::boundary::entry;
use super::enums::{gearman_signal_t, RawSignal};
use super::return_code::{gearman_return_t, GearmanReturn};

/// `struct gearman_id_t { int read_fd; int write_fd; }` (8 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct gearman_id_t {
    pub read_fd: libc::c_int,
    pub write_fd: libc::c_int,
}

impl gearman_id_t {
    /// `GEARMAN_ID_INITIALIZER`: `{-1, -1}`.
    pub(crate) const NONE: gearman_id_t = gearman_id_t {
        read_fd: -1,
        write_fd: -1,
    };
}

/// How long `GEARMAN_SIGNAL_CHECK` waits for the pipe to become readable (as 1.1.20).
const CHECK_POLL_MS: libc::c_int = 1500;

/// `gearman_id_t gearman_id_initialize(void);` → `{-1, -1}` (`GEARMAN_ID_INITIALIZER`).
///
/// # Safety
///
/// Always safe.
#[no_mangle]
pub unsafe extern "C" fn gearman_id_initialize() -> gearman_id_t {
    entry!(gearman_id_t::NONE, { gearman_id_t::NONE })
}

/// `bool gearman_id_valid(const gearman_id_t handle);`: false only when both fds are <= 0.
///
/// # Safety
///
/// Always safe (the fds are only compared).
#[no_mangle]
pub unsafe extern "C" fn gearman_id_valid(handle: gearman_id_t) -> bool {
    entry!(false, { !(handle.read_fd <= 0 && handle.write_fd <= 0) })
}

/// `gearman_return_t gearman_kill(const gearman_id_t handle, const gearman_signal_t);`
///
/// Either fd <= 0 → `GEARMAN_COULD_NOT_CONNECT`. INTERRUPT writes one byte to `write_fd` (the worker's
/// waits then return `GEARMAN_SHUTDOWN_GRACEFUL`); KILL closes `write_fd` (waits return
/// `GEARMAN_SHUTDOWN`); KILLWAIT closes it, then checks; CHECK polls `read_fd` for input up to 1.5 s and
/// succeeds unless poll fails. Any other signal value or a failing system call →
/// `GEARMAN_COULD_NOT_CONNECT`.
///
/// # Safety
///
/// The fds must be the ones `gearman_worker_id()` returned for a live worker (or unrelated fds the
/// caller is willing to have written to or closed), as in libgearman.
#[no_mangle]
pub unsafe extern "C" fn gearman_kill(handle: gearman_id_t, signal: RawSignal) -> GearmanReturn {
    entry!(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), {
        // SAFETY: forwarded caller guarantee about the fds.
        unsafe { kill(handle, signal) }.into()
    })
}

/// # Safety
///
/// See [`gearman_kill`].
unsafe fn kill(handle: gearman_id_t, signal: RawSignal) -> gearman_return_t {
    if handle.read_fd <= 0 || handle.write_fd <= 0 {
        return gearman_return_t::GEARMAN_COULD_NOT_CONNECT;
    }
    let ok = if signal == gearman_signal_t::GEARMAN_SIGNAL_CHECK {
        // SAFETY: forwarded caller guarantee.
        unsafe { check(handle.read_fd) }
    } else if signal == gearman_signal_t::GEARMAN_SIGNAL_INTERRUPT {
        let byte = b'1';
        // SAFETY: writes one byte from a live local to the caller's fd.
        unsafe { libc::write(handle.write_fd, std::ptr::addr_of!(byte).cast(), 1) == 1 }
    } else if signal == gearman_signal_t::GEARMAN_SIGNAL_KILL {
        // SAFETY: closing the caller's fd is the documented effect.
        unsafe { libc::close(handle.write_fd) == 0 }
    } else if signal == gearman_signal_t::GEARMAN_SIGNAL_KILLWAIT {
        // SAFETY: as for KILL, then CHECK.
        unsafe { libc::close(handle.write_fd) == 0 && check(handle.read_fd) }
    } else {
        false
    };
    if ok {
        gearman_return_t::GEARMAN_SUCCESS
    } else {
        gearman_return_t::GEARMAN_COULD_NOT_CONNECT
    }
}

/// Polls `fd` for input; true unless poll itself fails.
///
/// # Safety
///
/// `fd` is only polled; any integer is acceptable to poll(2).
unsafe fn check(fd: libc::c_int) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd on the stack.
        let n = unsafe { libc::poll(&mut pfd, 1, CHECK_POLL_MS) };
        if n >= 0 {
            return true;
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipe() -> gearman_id_t {
        let mut fds = [0; 2];
        // SAFETY: fds has room for two descriptors.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        gearman_id_t {
            read_fd: fds[0],
            write_fd: fds[1],
        }
    }

    #[test]
    fn interrupt_writes_a_byte_and_kill_closes() {
        let id = pipe();
        // SAFETY: fds of a pipe this test owns.
        unsafe {
            assert_eq!(
                gearman_kill(id, gearman_signal_t::GEARMAN_SIGNAL_INTERRUPT.into()),
                gearman_return_t::GEARMAN_SUCCESS
            );
            let mut b = 0u8;
            assert_eq!(
                libc::read(id.read_fd, std::ptr::addr_of_mut!(b).cast(), 1),
                1
            );
            assert_eq!(b, b'1');
            assert_eq!(
                gearman_kill(id, gearman_signal_t::GEARMAN_SIGNAL_KILL.into()),
                gearman_return_t::GEARMAN_SUCCESS
            );
            // Write end closed: read sees EOF.
            assert_eq!(
                libc::read(id.read_fd, std::ptr::addr_of_mut!(b).cast(), 1),
                0
            );
            libc::close(id.read_fd);
        }
    }

    #[test]
    fn invalid_ids_and_signals() {
        // SAFETY: no fd is touched for these inputs.
        unsafe {
            let none = gearman_id_initialize();
            assert!(!gearman_id_valid(none));
            assert!(gearman_id_valid(gearman_id_t {
                read_fd: 3,
                write_fd: -1
            }));
            assert_eq!(
                gearman_kill(none, gearman_signal_t::GEARMAN_SIGNAL_CHECK.into()),
                gearman_return_t::GEARMAN_COULD_NOT_CONNECT
            );
            let id = pipe();
            assert_eq!(
                gearman_kill(id, RawSignal(99)),
                gearman_return_t::GEARMAN_COULD_NOT_CONNECT
            );
            libc::close(id.read_fd);
            libc::close(id.write_fd);
        }
    }
}
