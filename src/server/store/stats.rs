//! Figures of the store thread's batch commits, readable from any thread (metrics, tests).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters updated by the store thread after each batch.
#[derive(Debug, Default)]
pub struct StoreStats {
    batches: AtomicU64,
    failed_batches: AtomicU64,
    adds: AtomicU64,
    dones: AtomicU64,
    commit_micros_total: AtomicU64,
    commit_micros_max: AtomicU64,
    commit_micros_last: AtomicU64,
}

/// A copy of [`StoreStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStatsSnapshot {
    /// Batches committed (successfully or not).
    pub batches: u64,
    /// Batches whose commit failed (their submissions got QUEUE_ERROR).
    pub failed_batches: u64,
    /// Jobs added and removed by committed batches.
    pub adds: u64,
    pub dones: u64,
    /// Time spent in add/done/commit for all batches, the longest and the last one (µs).
    pub commit_micros_total: u64,
    pub commit_micros_max: u64,
    pub commit_micros_last: u64,
}

impl StoreStats {
    /// Records one batch of `adds` and `dones` that took `took`.
    pub fn record(&self, adds: u64, dones: u64, took: Duration, ok: bool) {
        let us = took.as_micros().min(u128::from(u64::MAX)) as u64;
        self.batches.fetch_add(1, Ordering::Relaxed);
        if ok {
            self.adds.fetch_add(adds, Ordering::Relaxed);
            self.dones.fetch_add(dones, Ordering::Relaxed);
        } else {
            self.failed_batches.fetch_add(1, Ordering::Relaxed);
        }
        self.commit_micros_total.fetch_add(us, Ordering::Relaxed);
        self.commit_micros_max.fetch_max(us, Ordering::Relaxed);
        self.commit_micros_last.store(us, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StoreStatsSnapshot {
        StoreStatsSnapshot {
            batches: self.batches.load(Ordering::Relaxed),
            failed_batches: self.failed_batches.load(Ordering::Relaxed),
            adds: self.adds.load(Ordering::Relaxed),
            dones: self.dones.load(Ordering::Relaxed),
            commit_micros_total: self.commit_micros_total.load(Ordering::Relaxed),
            commit_micros_max: self.commit_micros_max.load(Ordering::Relaxed),
            commit_micros_last: self.commit_micros_last.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_batches() {
        let s = StoreStats::default();
        s.record(3, 1, Duration::from_micros(40), true);
        s.record(2, 0, Duration::from_micros(90), false);
        let snap = s.snapshot();
        assert_eq!((snap.batches, snap.failed_batches), (2, 1));
        assert_eq!((snap.adds, snap.dones), (3, 1));
        assert_eq!(snap.commit_micros_total, 130);
        assert_eq!(snap.commit_micros_max, 90);
        assert_eq!(snap.commit_micros_last, 90);
    }
}
