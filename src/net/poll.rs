//! A thin wrapper over `poll(2)` and the millisecond timeouts libgearman uses.
//!
//! Clients and workers hold a handful of sockets and wait on them one call at a time, so a
//! level-triggered `poll` per wait (no registration) is both the simplest and the cheapest choice.

use std::io;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// Readiness wanted from, or reported for, one descriptor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ready {
    /// Data to read (or EOF).
    pub readable: bool,
    /// Room to write (or a finished connect).
    pub writable: bool,
    /// POLLERR / POLLHUP / POLLNVAL.
    pub error: bool,
}

/// One descriptor to watch.
#[derive(Debug, Clone, Copy)]
pub struct PollItem {
    /// The descriptor.
    pub fd: RawFd,
    /// What to wait for.
    pub want: Ready,
    /// What `poll` reported.
    pub got: Ready,
}

impl PollItem {
    /// An item waiting for readability and/or writability of `fd`.
    pub fn new(fd: RawFd, readable: bool, writable: bool) -> PollItem {
        PollItem {
            fd,
            want: Ready {
                readable,
                writable,
                error: false,
            },
            got: Ready::default(),
        }
    }
}

/// Converts libgearman's millisecond timeout (−1 or any negative = infinite) to an option.
pub fn timeout_from_ms(ms: i32) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// Waits until an item is ready or `timeout` passes (`None` = forever). Returns how many
/// items are ready (0 = timed out). EINTR is retried with the remaining time.
pub fn poll(items: &mut [PollItem], timeout: Option<Duration>) -> io::Result<usize> {
    let mut fds: Vec<libc::pollfd> = items
        .iter()
        .map(|it| libc::pollfd {
            fd: it.fd,
            events: (if it.want.readable { libc::POLLIN } else { 0 })
                | (if it.want.writable { libc::POLLOUT } else { 0 }),
            revents: 0,
        })
        .collect();
    let deadline = timeout.map(|t| Instant::now() + t);
    if timeout != Some(Duration::ZERO) {
        if let Some(n) = spin(&mut fds)? {
            return Ok(copy_back(items, &fds, n));
        }
    }
    let n = loop {
        let ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                // Round up so a 0.5 ms remainder does not turn into a busy 0 ms poll.
                let ms = left.as_micros().div_ceil(1000);
                libc::c_int::try_from(ms).unwrap_or(libc::c_int::MAX)
            }
        };
        // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs
        // that outlives the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if rc >= 0 {
            break rc as usize;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    };
    Ok(copy_back(items, &fds, n))
}

/// How long a wait first looks for readiness without sleeping. A reply from a job server on the
/// same host usually arrives within this, and catching it saves the sleep and wake-up that
/// otherwise dominate a small request's round trip.
const SPIN: Duration = Duration::from_micros(30);

/// Polls without blocking for up to [`SPIN`], yielding the CPU between looks.
fn spin(fds: &mut [libc::pollfd]) -> io::Result<Option<usize>> {
    let until = Instant::now() + SPIN;
    loop {
        // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfd structs.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
        if rc > 0 {
            return Ok(Some(rc as usize));
        }
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::yield_now();
    }
}

/// Copies what `poll` reported into the items; returns `n`.
fn copy_back(items: &mut [PollItem], fds: &[libc::pollfd], n: usize) -> usize {
    for (it, fd) in items.iter_mut().zip(fds) {
        let r = fd.revents;
        it.got = Ready {
            readable: r & libc::POLLIN != 0,
            writable: r & libc::POLLOUT != 0,
            error: r & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0,
        };
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn times_out_and_reports_readable() {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().expect("pair");
        let mut items = [PollItem::new(a.as_raw_fd(), true, false)];
        assert_eq!(
            poll(&mut items, Some(Duration::from_millis(10))).expect("poll"),
            0
        );
        std::io::Write::write_all(&mut b, b"x").expect("write");
        assert_eq!(poll(&mut items, None).expect("poll"), 1);
        assert!(items[0].got.readable);
        assert_eq!(timeout_from_ms(-1), None);
        assert_eq!(timeout_from_ms(5), Some(Duration::from_millis(5)));
    }
}
