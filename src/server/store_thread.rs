//! The thread that owns the durable store: it commits each batch the event loop hands over
//! and wakes the loop (mio Waker) with the outcome. The loop never waits on it while serving.

use super::core::Core;
use super::log;
use super::store::{self, Op, QueueConfig, Store, StoreError, StoreStats};
use mio::Waker;
use std::io;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long the thread pauses after a failed batch before reporting it, so that a broken
/// store (disk full, read-only) is retried at a modest rate rather than in a tight loop.
const FAILURE_PAUSE: Duration = Duration::from_millis(100);
/// How long a shutdown waits for the last commits.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

pub struct StoreThread {
    batches: Option<Sender<Vec<Op>>>,
    /// Each batch's outcome and how long its commit took.
    results: Receiver<(Result<(), StoreError>, Duration)>,
    thread: Option<JoinHandle<Box<dyn Store>>>,
    /// A batch was handed over and its outcome not received yet.
    busy: bool,
    stats: Arc<StoreStats>,
    on_shutdown: bool,
}

/// Opens the configured store, replays it into `core` and starts its thread (`None` for the
/// in-memory queue). Fails, naming the store and the damaged record, if the store cannot be
/// read completely.
pub fn start(
    queue: &QueueConfig,
    core: &mut Core,
    waker: Arc<Waker>,
) -> io::Result<Option<StoreThread>> {
    let Some(mut store) = store::open(&queue.backend).map_err(io::Error::other)? else {
        return Ok(None);
    };
    let replayed = store.replay().map_err(io::Error::other)?;
    log::info(format_args!(
        "{}: {} jobs replayed",
        store.describe(),
        replayed.jobs.len()
    ));
    core.replay(replayed);
    let (batch_tx, batch_rx) = mpsc::channel::<Vec<Op>>();
    let (result_tx, result_rx) = mpsc::channel();
    let stats = Arc::new(StoreStats::default());
    let thread_stats = stats.clone();
    let thread = std::thread::Builder::new()
        .name("gearmand-store".into())
        .spawn(move || {
            for ops in batch_rx {
                let started = Instant::now();
                let result = commit(&mut *store, &ops);
                let took = started.elapsed();
                let adds = ops.iter().filter(|o| matches!(o, Op::Add(_))).count() as u64;
                thread_stats.record(adds, ops.len() as u64 - adds, took, result.is_ok());
                drop(ops);
                if result.is_err() {
                    std::thread::sleep(FAILURE_PAUSE);
                }
                if result_tx.send((result, took)).is_err() {
                    break;
                }
                let _ = waker.wake();
            }
            store
        })?;
    Ok(Some(StoreThread {
        batches: Some(batch_tx),
        results: result_rx,
        thread: Some(thread),
        busy: false,
        stats,
        on_shutdown: queue.on_shutdown,
    }))
}

/// One batch: every add and done, then one commit; on any error nothing of it stays.
fn commit(store: &mut dyn Store, ops: &[Op]) -> Result<(), StoreError> {
    let applied = ops.iter().try_for_each(|op| match op {
        Op::Add(job) => store.add(job),
        Op::Done(seq) => store.done(*seq),
    });
    match applied.and_then(|()| store.commit()) {
        Ok(()) => Ok(()),
        Err(e) => {
            store.rollback();
            Err(e)
        }
    }
}

impl StoreThread {
    pub fn stats(&self) -> Arc<StoreStats> {
        self.stats.clone()
    }

    /// One event-loop round: delivers a finished batch's outcome, hands over the next batch.
    /// Returns the outcome of the batch that finished in this round and its commit time.
    pub fn round(&mut self, core: &mut Core) -> Option<(bool, Duration)> {
        let mut finished = None;
        if self.busy {
            match self.results.try_recv() {
                Ok((result, took)) => {
                    self.busy = false;
                    finished = Some((result.is_ok(), took));
                    core.batch_done(result);
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    self.busy = false;
                    core.batch_done(Err(StoreError::new("the store thread ended")));
                }
            }
        }
        if let Some(ops) = core.take_batch() {
            self.send(core, ops);
        }
        finished
    }

    fn send(&mut self, core: &mut Core, ops: Vec<Op>) {
        let sent = self.batches.as_ref().is_some_and(|tx| tx.send(ops).is_ok());
        if sent {
            self.busy = true;
        } else {
            core.batch_done(Err(StoreError::new("the store thread ended")));
        }
    }

    /// At shutdown: commits what the last rounds queued, delivers the outcomes to `core`,
    /// stops the thread and, with `--store-queue-on-shutdown`, writes the queued jobs.
    pub fn finish(mut self, core: &mut Core) {
        let deadline = Instant::now() + SHUTDOWN_WAIT;
        let mut failures = 0;
        loop {
            if self.busy {
                let wait = deadline.saturating_duration_since(Instant::now());
                match self.results.recv_timeout(wait) {
                    Ok((result, _)) => {
                        self.busy = false;
                        failures += usize::from(result.is_err());
                        core.batch_done(result);
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        log::error(format_args!(
                            "durable queue: the last commit did not finish within {SHUTDOWN_WAIT:?}"
                        ));
                        return;
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        self.busy = false;
                        core.batch_done(Err(StoreError::new("the store thread ended")));
                        break;
                    }
                }
            }
            // A store that keeps failing: stop retrying (those jobs run again after a restart).
            if failures >= 3 {
                log::error(format_args!(
                    "durable queue: giving up on the last removals at shutdown; those jobs will run again after a restart"
                ));
                break;
            }
            match core.take_batch() {
                Some(ops) => self.send(core, ops),
                None if !self.busy => break,
                None => {}
            }
        }
        self.batches = None;
        let Some(mut store) = self.thread.take().and_then(|t| t.join().ok()) else {
            return;
        };
        let s = self.stats.snapshot();
        log::info(format_args!(
            "{}: {} batches ({} failed), {} adds, {} dones, commit time {} µs on average, {} µs at most",
            store.describe(),
            s.batches,
            s.failed_batches,
            s.adds,
            s.dones,
            s.commit_micros_total / s.batches.max(1),
            s.commit_micros_max
        ));
        if self.on_shutdown {
            let jobs = core.shutdown_snapshot();
            match store.replace_all(&jobs) {
                Ok(()) => log::info(format_args!(
                    "{}: {} queued jobs written at shutdown",
                    store.describe(),
                    jobs.len()
                )),
                Err(e) => log::error(format_args!("writing the queue at shutdown failed: {e}")),
            }
        }
    }
}
