//! Giving memory back to the operating system after megabyte payloads.
//!
//! A payload lives in the buffer it was read into until its job is done; freeing it returns
//! the block to the allocator, not necessarily to the kernel: glibc keeps freed blocks of up
//! to 32 MiB in its heap (its mmap threshold follows the largest block freed) and trims the
//! heap only from the top. The event loop therefore asks for free memory to be returned
//! shortly after large payloads were released, so that a burst of 16 MiB jobs leaves the
//! server at its idle size.

use std::time::{Duration, Instant};

/// Quiet time after the last large payload before memory is given back (the blocks are
/// reused without page faults while large payloads keep coming).
const AFTER: Duration = Duration::from_secs(1);

/// When to give memory back.
#[derive(Debug, Default)]
pub struct Trim {
    due: Option<Instant>,
    /// Large payloads were released since the last periodic sweep.
    since_sweep: bool,
}

impl Trim {
    /// Large payloads were handled or released just now.
    pub fn note(&mut self, now: Instant) {
        self.due = Some(now + AFTER);
        self.since_sweep = true;
    }

    /// The instant the event loop should wake up for [`Trim::run`], if any.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Gives memory back if it is due; `sweep` also catches payloads released late (a
    /// slow reader's queue drained after the timer ran).
    pub fn run(&mut self, now: Instant, sweep: bool) {
        let timer = self.due.is_some_and(|t| t <= now);
        if timer || (sweep && self.since_sweep) {
            self.due = None;
            if sweep {
                self.since_sweep = false;
            }
            give_back();
        }
    }
}

/// Returns free heap memory to the kernel (glibc's `malloc_trim`; elsewhere nothing to do).
pub fn give_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it only walks the allocator's own free lists
    // under the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_after_a_quiet_second_and_at_the_next_sweep() {
        let t0 = Instant::now();
        let mut t = Trim::default();
        assert_eq!(t.due(), None);
        t.note(t0);
        assert_eq!(t.due(), Some(t0 + AFTER));
        t.run(t0, false);
        assert!(t.due().is_some(), "not before the quiet time");
        t.run(t0 + AFTER, false);
        assert_eq!(t.due(), None);
        // The sweep trims once more for payloads released after the timer ran, then rests.
        assert!(t.since_sweep);
        t.run(t0 + 6 * AFTER, true);
        assert!(!t.since_sweep);
    }
}
