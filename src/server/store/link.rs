//! The connection of a networked store (PostgreSQL, Redis) to its database: connect on demand,
//! forget a broken connection, and reconnect with backoff.
//!
//! While the database is unreachable, a batch fails at once (its submissions get QUEUE_ERROR)
//! instead of waiting for a connection; a new connection is tried when the backoff delay has
//! passed (100 ms, doubling up to 500 ms), so the first batch after the database is back succeeds.

use super::{Result, StoreError};
use crate::server::log;
use std::time::{Duration, Instant};

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_millis(500);

/// A connection `C` that may be missing.
pub struct Link<C> {
    /// What the store talks to, for messages ("PostgreSQL host=... dbname=...").
    what: String,
    conn: Option<C>,
    /// No connection attempt before this moment.
    retry_at: Option<Instant>,
    delay: Duration,
    /// Why the last attempt failed, repeated while waiting.
    last_error: String,
    /// Consecutive failures, to log the first one and the recovery only.
    failures: u32,
}

impl<C> Link<C> {
    pub fn new(what: String) -> Link<C> {
        Link {
            what,
            conn: None,
            retry_at: None,
            delay: FIRST_DELAY,
            last_error: String::new(),
            failures: 0,
        }
    }

    /// A live connection was made outside `get` (at open).
    pub fn set(&mut self, conn: C) {
        self.conn = Some(conn);
    }

    /// The connection, connecting first if there is none and the backoff delay has passed.
    pub fn get(
        &mut self,
        connect: impl FnOnce() -> std::result::Result<C, String>,
    ) -> Result<&mut C> {
        if self.conn.is_none() {
            if let Some(at) = self.retry_at {
                let now = Instant::now();
                if now < at {
                    return Err(StoreError::new(format!(
                        "{} is unreachable ({}); next attempt in {} ms",
                        self.what,
                        self.last_error,
                        (at - now).as_millis()
                    )));
                }
            }
            match connect() {
                Ok(c) => {
                    if self.failures > 0 {
                        log::warning(format_args!(
                            "{}: connected again after {} failed attempt(s)",
                            self.what, self.failures
                        ));
                    }
                    self.conn = Some(c);
                    self.retry_at = None;
                    self.delay = FIRST_DELAY;
                    self.failures = 0;
                }
                Err(e) => {
                    self.failed(e.clone());
                    return Err(StoreError::new(format!(
                        "{}: cannot connect: {e}",
                        self.what
                    )));
                }
            }
        }
        Ok(self.conn.as_mut().expect("connected above"))
    }

    /// Runs `op` on the connection. When it fails because the connection broke (`op` returns
    /// `Err((why, true))`), the connection is dropped and `op` runs once more at once on a new
    /// one: a database that restarted between two batches costs no failed batch. `op` must
    /// therefore be idempotent. A refusal by the database (`Err((why, false))`: full disk,
    /// permissions) is not retried.
    pub fn run(
        &mut self,
        connect: impl Fn() -> std::result::Result<C, String>,
        mut op: impl FnMut(&mut C) -> std::result::Result<(), (String, bool)>,
    ) -> Result<()> {
        for attempt in 0..2 {
            let conn = self.get(&connect)?;
            match op(conn) {
                Ok(()) => return Ok(()),
                Err((why, broke)) => {
                    let err = StoreError::new(format!("{}: {why}", self.what));
                    if !broke || attempt == 1 {
                        if broke {
                            self.broken(why);
                        }
                        return Err(err);
                    }
                    self.broken(why);
                    self.retry_now();
                }
            }
        }
        unreachable!("the second attempt returns")
    }

    /// Forgets the connection after an error that broke it; the next `get` waits for the
    /// backoff delay.
    pub fn broken(&mut self, why: String) {
        self.conn = None;
        self.failed(why);
    }

    fn failed(&mut self, why: String) {
        if self.failures == 0 {
            log::error(format_args!(
                "{}: {why}; submissions get QUEUE_ERROR until it is back",
                self.what
            ));
        }
        self.failures = self.failures.saturating_add(1);
        self.last_error = why;
        self.retry_at = Some(Instant::now() + self.delay);
        self.delay = (self.delay * 2).min(MAX_DELAY);
    }

    /// Allows the next `get` to try at once.
    fn retry_now(&mut self) {
        self.retry_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_refuses_until_the_delay_passed() {
        let mut l: Link<u32> = Link::new("db".into());
        assert!(l.get(|| Err("refused".into())).is_err());
        // Within the delay the connector is not even called.
        let e = l.get(|| panic!("called during backoff")).unwrap_err();
        assert!(e.0.contains("refused"), "{e}");
        std::thread::sleep(FIRST_DELAY + Duration::from_millis(20));
        assert_eq!(*l.get(|| Ok(7)).unwrap(), 7);
        l.broken("reset".into());
        assert!(l.conn.is_none());
        l.retry_now();
        assert_eq!(*l.get(|| Ok(8)).unwrap(), 8);
    }

    #[test]
    fn run_retries_a_broken_connection_once_and_a_refusal_never() {
        let mut l: Link<u32> = Link::new("db".into());
        let mut calls = 0;
        let r = l.run(
            || Ok(1),
            |_| {
                calls += 1;
                if calls == 1 {
                    Err(("reset".into(), true))
                } else {
                    Ok(())
                }
            },
        );
        assert!(r.is_ok() && calls == 2);
        let mut calls = 0;
        let r = l.run(
            || Ok(1),
            |_| {
                calls += 1;
                Err(("disk full".into(), false))
            },
        );
        assert!(r.unwrap_err().0.contains("disk full") && calls == 1);
        assert!(l.conn.is_some(), "a refusal keeps the connection");
    }

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let mut l: Link<u32> = Link::new("db".into());
        for _ in 0..10 {
            l.failed("x".into());
        }
        assert_eq!(l.delay, MAX_DELAY);
    }
}
