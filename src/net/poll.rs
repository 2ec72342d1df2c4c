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

/// Waits until an item is ready or `timeout` passes (`None` = forever), sleeping in poll(2)
/// at once. Returns how many items are ready (0 = timed out). EINTR is retried with the
/// remaining time.
pub fn poll(items: &mut [PollItem], timeout: Option<Duration>) -> io::Result<usize> {
    poll_with(items, timeout, None)
}

/// [`poll`], first looking for readiness without sleeping as `spin` allows (never for a zero
/// timeout, which only looks once).
pub fn poll_with(
    items: &mut [PollItem],
    timeout: Option<Duration>,
    spin: Option<&mut Spin>,
) -> io::Result<usize> {
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
    if let (Some(spin), false) = (spin, timeout == Some(Duration::ZERO)) {
        if let Some(n) = spin.run(&mut fds)? {
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

/// The spin length when `GEARMAN_BUSY_POLL_US` does not set one. Measured on an otherwise
/// idle 2-core machine (`bench/library_cpu.sh`, one client and one worker): at 500 jobs/s the
/// busy gate keeps the CPU per job within 10 % of never spinning; back to back it raised
/// `gearman_client_do` 1.2-2.4x against our server and 1.3-1.6x against gearmand 1.1.20, for
/// more CPU per job (up to twice as much in the client) while the jobs come that fast.
const DEFAULT_SPIN: Duration = Duration::from_micros(30);

/// A spinner spins only while its waits start, on average, less than this many spin lengths
/// apart: a busy object (a client or worker doing back-to-back round trips), not one that
/// sleeps between jobs.
const BUSY_FACTOR: u32 = 10;

/// The spin length of new spinners: `GEARMAN_BUSY_POLL_US` (microseconds; 0: never spin;
/// unset: [`DEFAULT_SPIN`]). Read once per process.
fn configured_spin() -> Duration {
    static SPIN: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *SPIN.get_or_init(|| {
        std::env::var("GEARMAN_BUSY_POLL_US")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_SPIN, Duration::from_micros)
    })
}

/// Whether a blocking wait first looks for readiness for a few microseconds before it sleeps
/// in poll(2), adapted to what that finds. `GEARMAN_BUSY_POLL_US=0` turns it off.
///
/// A reply from a job server on the same host often arrives within tens of microseconds;
/// catching it without sleeping saves the wake-up latency that dominates a small request's
/// round trip when an object does nothing but round trips. Otherwise the look only burns CPU,
/// so a spinner spins only while the object is busy: its waits start, on average (a moving
/// average over about the last eight), less than ten spin lengths apart. A client or worker at
/// a light load, or in a process that does other work between calls (PHP, Perl), sleeps
/// between its jobs and never spins.
///
/// Waits that come that close together mean a server that answers within a few hundred
/// microseconds (a remote or loaded one is never spun for). Spinning only while spins found
/// replies was tried and measured worse against gearmand 1.1.20 (its replies mostly take
/// longer than the spin, yet spinning still raised the rate of back-to-back jobs 15-30 %).
///
/// Objects in non-blocking mode never spin.
#[derive(Debug, Clone)]
pub struct Spin {
    limit: Duration,
    enabled: bool,
    /// When the previous wait started.
    last_wait: Option<Instant>,
    /// Moving average of the time between the starts of two waits, in nanoseconds.
    interval_ns: u64,
}

impl Default for Spin {
    fn default() -> Self {
        Spin::new()
    }
}

impl Spin {
    /// A spinner with the configured length (`GEARMAN_BUSY_POLL_US`).
    pub fn new() -> Spin {
        Spin::with_limit(configured_spin())
    }

    /// A spinner looking for up to `limit` (zero: never).
    pub fn with_limit(limit: Duration) -> Spin {
        Spin {
            limit,
            enabled: true,
            last_wait: None,
            // A new object is idle until its waits come close together.
            interval_ns: u64::MAX,
        }
    }

    /// Turns spinning off (non-blocking mode) or back on.
    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
    }

    /// Whether spinning is allowed at all (blocking mode and a non-zero length).
    pub fn is_enabled(&self) -> bool {
        self.enabled && !self.limit.is_zero()
    }

    /// Whether the object counts as busy (see the type's docs).
    fn busy(&self) -> bool {
        let limit_ns = u64::try_from(self.limit.as_nanos()).unwrap_or(u64::MAX);
        self.interval_ns < limit_ns.saturating_mul(u64::from(BUSY_FACTOR))
    }

    /// Whether the next wait spins (if its reply is not there at once).
    pub fn will_spin(&self) -> bool {
        self.enabled && !self.limit.is_zero() && self.busy()
    }

    /// Notes that a wait starts now (for the moving average of the time between waits).
    fn note_wait(&mut self, now: Instant) {
        if let Some(last) = self.last_wait {
            let gap = u64::try_from(now.duration_since(last).as_nanos()).unwrap_or(u64::MAX);
            self.interval_ns = if self.interval_ns == u64::MAX {
                gap
            } else {
                self.interval_ns - self.interval_ns / 8 + gap / 8
            };
        }
        self.last_wait = Some(now);
    }

    /// Polls without blocking for up to the spin length, yielding the CPU between looks:
    /// `Some(n)` when something became ready.
    fn run(&mut self, fds: &mut [libc::pollfd]) -> io::Result<Option<usize>> {
        if !self.enabled || self.limit.is_zero() {
            return Ok(None);
        }
        let start = Instant::now();
        self.note_wait(start);
        if !self.will_spin() {
            return Ok(None);
        }
        let until = start + self.limit;
        loop {
            // SAFETY: `fds` is a valid, exclusively borrowed array of `fds.len()` pollfds.
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
    fn a_busy_spinner_finds_a_reply_that_comes_within_the_spin() {
        let (a, mut b) = std::os::unix::net::UnixStream::pair().expect("pair");
        let mut spin = Spin::with_limit(Duration::from_secs(2));
        let mut items = [PollItem::new(a.as_raw_fd(), true, false)];
        // Two waits close together make it busy.
        let now = Instant::now();
        spin.note_wait(now);
        spin.note_wait(now + Duration::from_millis(1));
        assert!(spin.will_spin());
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            std::io::Write::write_all(&mut b, b"y").expect("write");
            b
        });
        // The poll timeout (1 ms) is far shorter than the writer's delay: only the spin
        // (up to 2 s) can see the byte.
        assert_eq!(
            poll_with(&mut items, Some(Duration::from_millis(1)), Some(&mut spin)).expect("poll"),
            1
        );
        drop(writer.join());
        spin.set_enabled(false);
        assert!(!spin.will_spin());
        assert!(!Spin::with_limit(Duration::ZERO).will_spin());
    }

    #[test]
    fn a_spinner_is_busy_only_while_its_waits_come_close_together() {
        let mut spin = Spin::with_limit(Duration::from_micros(30));
        let t0 = Instant::now();
        spin.note_wait(t0);
        assert!(!spin.busy(), "one wait says nothing");
        // Round trips 50 µs apart: busy.
        let mut t = t0;
        for _ in 0..20 {
            t += Duration::from_micros(50);
            spin.note_wait(t);
        }
        assert!(spin.busy());
        assert!(spin.will_spin());
        // A light load: a job every 2 ms with two quick waits each. Not busy.
        for _ in 0..50 {
            t += Duration::from_millis(2);
            spin.note_wait(t);
            t += Duration::from_micros(30);
            spin.note_wait(t);
            t += Duration::from_micros(30);
            spin.note_wait(t);
        }
        assert!(!spin.busy());
        assert!(!spin.will_spin());
    }

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
