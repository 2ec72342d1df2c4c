//! Adaptive busy polling: after a round that handled events, the event loop may look for the
//! next request without sleeping for up to `--busy-poll-us`. That saves the sleep and wake-up
//! of a request/response round trip when the request comes within the spin, and wastes the
//! whole spin when it does not. So the loop spins only while recent requests came in time:
//! every round that follows a busy one is scored (spun or not, the time until the next events
//! is known), and once more than one in [`LATE_SHARE`] of recent rounds waited longer than a
//! spin would, spinning stops until requests come quickly again.
//!
//! A steady light load (a job every few milliseconds) has a long gap after each job: spinning
//! there costs a spin per job and buys nothing, and stays off. Under full load the next request
//! is nearly always there within microseconds: spinning stays on.

use std::time::Duration;

/// Spinning stops once more than one in this many recent rounds had its next request late.
const LATE_SHARE: u32 = 8;
/// Weight of the newest round in the running share (1/8: about the last 8 rounds count).
const AGE: f32 = 1.0 / 8.0;

/// The spin decision of one event loop.
#[derive(Debug, Clone)]
pub struct BusyPoll {
    max: Duration,
    /// Running share of rounds whose next request came later than `max` after them.
    late: f32,
}

impl BusyPoll {
    /// Spins of at most `max` (zero: never spin).
    pub fn new(max: Duration) -> BusyPoll {
        BusyPoll { max, late: 0.0 }
    }

    /// How long to look for the next request before sleeping, after a round that handled
    /// events: the configured maximum while recent requests came in time, else zero.
    pub fn budget(&self) -> Duration {
        if self.late * (LATE_SHARE as f32) < 1.0 {
            self.max
        } else {
            Duration::ZERO
        }
    }

    /// Records when the next events came after a busy round: `Some(gap)` when events arrived
    /// `gap` after it ended (found by spinning or by sleeping), `None` when the loop woke
    /// without any (a timer).
    pub fn observe(&mut self, gap: Option<Duration>) {
        if self.max.is_zero() {
            return;
        }
        let late = gap.is_none_or(|g| g > self.max);
        self.late += (f32::from(u8::from(late)) - self.late) * AGE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_micros(50);

    fn quick() -> Option<Duration> {
        Some(Duration::from_micros(5))
    }

    fn slow() -> Option<Duration> {
        Some(Duration::from_millis(2))
    }

    #[test]
    fn full_load_keeps_spinning() {
        let mut b = BusyPoll::new(MAX);
        for _ in 0..1000 {
            b.observe(quick());
            assert_eq!(b.budget(), MAX);
        }
    }

    #[test]
    fn a_light_steady_load_stops_spinning() {
        // Per job: four quick replies of the worker, then two milliseconds until the next job.
        let mut b = BusyPoll::new(MAX);
        let mut spins = 0;
        for job in 0..200 {
            for _ in 0..4 {
                b.observe(quick());
                spins += usize::from(job >= 10 && !b.budget().is_zero());
            }
            b.observe(slow());
            spins += usize::from(job >= 10 && !b.budget().is_zero());
        }
        assert_eq!(spins, 0, "spun after {spins} of 950 rounds");
    }

    #[test]
    fn spinning_resumes_when_requests_come_quickly_again() {
        let mut b = BusyPoll::new(MAX);
        for _ in 0..50 {
            b.observe(slow());
        }
        assert_eq!(b.budget(), Duration::ZERO);
        let mut rounds = 0;
        while b.budget().is_zero() {
            b.observe(quick());
            rounds += 1;
        }
        assert!(rounds <= 20, "{rounds}");
    }

    #[test]
    fn a_rare_late_request_under_load_pauses_briefly() {
        let mut b = BusyPoll::new(MAX);
        let mut off = 0;
        for i in 0..1000 {
            b.observe(if i % 100 == 99 { slow() } else { quick() });
            off += usize::from(b.budget().is_zero());
        }
        assert!(off <= 30, "{off} of 1000 rounds without spinning");
    }

    #[test]
    fn a_timer_wake_up_counts_as_late_and_zero_never_spins() {
        let mut b = BusyPoll::new(MAX);
        b.observe(None);
        assert_eq!(b.budget(), Duration::ZERO);
        let mut z = BusyPoll::new(Duration::ZERO);
        z.observe(quick());
        assert_eq!(z.budget(), Duration::ZERO);
    }
}
