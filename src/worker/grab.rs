//! Getting jobs: connect and register, GRAB on each server in turn, PRE_SLEEP and wait for a
//! NOOP, reconnect with backoff when a server went away; and `work`, which runs a Rust handler.

use super::job::{Job, JobContext, Outcome};
use super::registry::{Callback, Change, WorkResult};
use super::{Worker, FIRST_BACKOFF, MAX_BACKOFF};
use crate::error::{Error, ReturnCode};
use crate::net::link::timeout_error;
use crate::net::poll::{poll, poll_with, PollItem};
use crate::net::wake::WakeSignal;
use crate::net::Reply;
use crate::protocol::Command;
use std::time::{Duration, Instant};

const GRAB: &str = "gearman_worker_grab_job";

/// How long a blocking grab waits for one server's answer before it goes on to the other
/// servers (a hung server must not stall the work of the others); the answer is read later.
const GRAB_ANSWER_WAIT: Duration = Duration::from_millis(500);

/// What one server said to a GRAB.
enum Grabbed {
    Job(Job),
    NoJob,
}

impl Worker {
    /// Fetches one job. `sleep == false` (libgearman's `grab_job`): NO_JOBS at once when no
    /// server has work. `sleep == true` (inside `work`): PRE_SLEEP, then wait for a NOOP (or
    /// the timeout → TIMEOUT when "timeout return" is on, else keep waiting; the wake-up pipe
    /// → SHUTDOWN_GRACEFUL / SHUTDOWN). Servers that went away are reconnected with capped
    /// exponential backoff and get every registration again; while none is reachable the
    /// worker waits for them (bounded by the timeout). A server never reached so far makes
    /// the call fail with COULD_NOT_CONNECT, as in libgearman.
    pub fn grab_job(&mut self, sleep: bool) -> Result<Job, Error> {
        self.settings.error.reset();
        match self.grab_inner(sleep) {
            Ok(j) => Ok(j),
            Err(e) => self.fail(e),
        }
    }

    fn grab_inner(&mut self, sleep: bool) -> Result<Job, Error> {
        if self.servers.is_empty() {
            return Err(Error::code_only(ReturnCode::NoServers));
        }
        self.sync_tls()?;
        self.send_changes();
        if self.registry.is_empty() {
            return Err(Error::new(
                ReturnCode::NoRegisteredFunctions,
                GRAB,
                "no functions have been registered",
            ));
        }
        // Waiting for work is bounded by the timeout as a whole, not per wake-up.
        let mut deadline = Deadline::start(self.wait_timeout());
        loop {
            let n = self.servers.len();
            let mut any_connected = false;
            let mut last_err = None;
            // A server that sent something unreadable (reported when nobody had work).
            let mut garbled = None;
            for k in 0..n {
                let si = (self.resume + k) % n;
                if let Err(e) = self.ensure_connected(si) {
                    last_err = Some(e);
                    continue;
                }
                if !self.servers[si].link.is_connected() {
                    continue;
                }
                any_connected = true;
                match self.grab_from(si) {
                    Ok(Grabbed::Job(job)) => {
                        self.resume = si;
                        return Ok(job);
                    }
                    Ok(Grabbed::NoJob) => {}
                    Err(e) if is_link_error(e.code()) => {
                        self.servers[si].lost();
                        if e.code() != ReturnCode::LostConnection {
                            garbled = Some(e.clone());
                        }
                        last_err = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            self.resume = 0;
            if !any_connected {
                let waiting = self.servers.iter().any(|s| s.ever_connected);
                if !waiting || self.non_blocking {
                    return Err(last_err.unwrap_or_else(|| {
                        Error::new(
                            ReturnCode::CouldNotConnect,
                            GRAB,
                            "no server could be reached",
                        )
                    }));
                }
                // Every server went away: wait for the next reconnection attempt.
                self.sleep_until_retry(&mut deadline)?;
                continue;
            }
            if !sleep {
                return Err(garbled
                    .unwrap_or_else(|| Error::new(ReturnCode::NoJobs, GRAB, "no jobs available")));
            }
            for s in &mut self.servers {
                if s.link.is_connected() {
                    s.link.queue(Command::PreSleep, &[]);
                    if s.link.flush().is_err() {
                        s.lost();
                    }
                }
            }
            if self.non_blocking {
                return Err(Error::new(ReturnCode::NoJobs, GRAB, "no jobs available"));
            }
            self.sleep_for_noop(&mut deadline)?;
        }
    }

    /// Connects server `si` unless connected or still backing off after a failure.
    fn ensure_connected(&mut self, si: usize) -> Result<(), Error> {
        let s = &self.servers[si];
        if s.link.is_connected() {
            return Ok(());
        }
        if let Some(at) = s.retry_at {
            if Instant::now() < at {
                return match (&s.last_error, s.ever_connected) {
                    (Some(e), false) => Err(e.clone()),
                    _ => Ok(()),
                };
            }
        }
        self.connect(si)
    }

    /// Connects server `si` (blocking, worker timeout per wait) and sends the preamble:
    /// SET_CLIENT_ID, remembered server options, every registration.
    pub(crate) fn connect(&mut self, si: usize) -> Result<(), Error> {
        let timeout = self.wait_timeout();
        let packets = self.registry.registration_packets();
        let tls = self.link_tls()?;
        let s = &mut self.servers[si];
        s.link.close();
        s.link.set_tls(tls);
        s.option_replies = 0;
        s.grab_pending = false;
        let r = s
            .link
            .connect_blocking(timeout.or(Some(Duration::from_secs(30))));
        if let Err(e) = r {
            let now = Instant::now();
            s.retry_at = Some(now + s.backoff);
            s.backoff = (s.backoff * 2).min(MAX_BACKOFF);
            s.last_error = Some(e.clone());
            return Err(e);
        }
        s.generation += 1;
        s.ever_connected = true;
        s.retry_at = None;
        s.backoff = FIRST_BACKOFF;
        s.last_error = None;
        if let Some(id) = self.settings.identifier() {
            s.link.queue(Command::SetClientId, &[id]);
        }
        for opt in self.settings.server_options() {
            s.link.queue(Command::OptionReq, &[opt]);
            s.option_replies += 1;
        }
        for (cmd, args) in packets {
            let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
            s.link.queue(cmd, &args);
        }
        if let Err(e) = s.link.flush_blocking(timeout) {
            s.lost();
            return Err(e);
        }
        Ok(())
    }

    /// Sends queued registration changes to the connected servers (the others get the full
    /// list when they connect).
    fn send_changes(&mut self) {
        if !self.registry.has_changes() {
            return;
        }
        let changes = self.registry.take_changes();
        for s in &mut self.servers {
            if !s.link.is_connected() {
                continue;
            }
            for c in &changes {
                match c {
                    Change::Add(cmd, args) => {
                        let args: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
                        s.link.queue(*cmd, &args);
                    }
                    Change::Remove(name) => s.link.queue(Command::CantDo, &[name]),
                    Change::Reset => s.link.queue(Command::ResetAbilities, &[]),
                }
            }
            if s.link.flush().is_err() {
                s.lost();
            }
        }
    }

    /// Sends the grab command to server `si` and reads its answer.
    fn grab_from(&mut self, si: usize) -> Result<Grabbed, Error> {
        let grab = self.grab.command();
        let timeout = if self.non_blocking {
            Some(Duration::ZERO)
        } else {
            self.wait_timeout()
        };
        let send_timeout = self.wait_timeout();
        let s = &mut self.servers[si];
        if let Some(reply) = s.early_job.take() {
            return Ok(Grabbed::Job(s.claim(reply)));
        }
        // A server that already had its chance to answer the GRAB sent earlier is only
        // looked at, not waited for again.
        let timeout = match timeout {
            _ if self.non_blocking => timeout,
            _ if s.grab_pending => Some(Duration::ZERO),
            Some(t) => Some(t.min(GRAB_ANSWER_WAIT)),
            None => Some(GRAB_ANSWER_WAIT),
        };
        if !s.grab_pending {
            s.link.queue(grab, &[]);
            s.grab_pending = true;
            if self.non_blocking {
                // As libgearman 1.1.20: a non-blocking grab that has just been sent returns
                // IO_WAIT; the caller waits (`wait`) and the next grab reads the answer.
                s.link.flush_blocking(send_timeout)?;
                return Err(Error::code_only(ReturnCode::IoWait));
            }
        }
        s.link.flush_blocking(send_timeout)?;
        loop {
            let reply = match s.link.recv_blocking(timeout) {
                Ok(r) => r,
                Err(e) if e.code() == ReturnCode::Timeout && self.non_blocking => {
                    // The answer is still on its way; the next grab reads it.
                    return Err(Error::code_only(ReturnCode::IoWait));
                }
                // Slow or hung: the GRAB stays pending, the other servers are served, and
                // the answer is read by a later grab (or while sleeping).
                Err(e) if e.code() == ReturnCode::Timeout => return Ok(Grabbed::NoJob),
                Err(e) => return Err(e),
            };
            match reply.command {
                Command::Noop => {}
                Command::NoJob => {
                    s.grab_pending = false;
                    return Ok(Grabbed::NoJob);
                }
                Command::OptionRes | Command::Error if s.option_replies > 0 => {
                    s.option_replies -= 1;
                }
                Command::OptionRes => return Ok(Grabbed::NoJob),
                // A late answer to an earlier work result (e.g. JOB_NOT_FOUND for a job the
                // server already re-queued after CAN_DO_TIMEOUT): not an unexpected packet.
                Command::Error => s.late_error(&reply),
                Command::JobAssign | Command::JobAssignUniq | Command::JobAssignAll => {
                    s.grab_pending = false;
                    return Ok(Grabbed::Job(s.claim(reply)));
                }
                _ => {
                    return Err(Error::new(
                        ReturnCode::UnexpectedPacket,
                        GRAB,
                        format!("unexpected {} packet", reply.command.name()),
                    ))
                }
            }
        }
    }

    /// After PRE_SLEEP: waits for a NOOP on any connection, the wake-up pipe, or the timeout.
    fn sleep_for_noop(&mut self, deadline: &mut Deadline) -> Result<(), Error> {
        // A NOOP read together with an earlier answer is already here: no need to sleep.
        let mut woke = false;
        for s in &mut self.servers {
            if s.link.is_connected() && s.link.has_buffered_reply() {
                woke = true;
                if drain_noops(s).is_err() || s.link.is_eof() {
                    s.lost();
                }
            }
        }
        if woke {
            return Ok(());
        }
        let mut items = vec![PollItem::new(self.wake.read_fd(), true, false)];
        let mut which = Vec::new();
        for (i, s) in self.servers.iter().enumerate() {
            if let (true, Some(fd)) = (s.link.is_connected(), s.link.fd()) {
                items.push(PollItem::new(fd, true, false));
                which.push(i);
            }
        }
        // Lost servers are retried while sleeping, so their return is noticed.
        let retry = self.next_retry();
        let (timeout, is_retry) = shorter(deadline.remaining(), retry);
        let n = poll_with(&mut items, timeout, Some(&mut self.spin))
            .map_err(|e| Error::from_io(GRAB, &e))?;
        if n == 0 {
            if is_retry {
                return Ok(());
            }
            if !self.timeout_return {
                *deadline = Deadline::start(self.wait_timeout());
                return Ok(());
            }
            return Err(timeout_error(GRAB, which.len(), true));
        }
        if items[0].got.readable || items[0].got.error {
            self.check_wake()?;
        }
        for (it, si) in items[1..].iter().zip(which) {
            if !(it.got.readable || it.got.error) {
                continue;
            }
            let s = &mut self.servers[si];
            // Anything readable ends the sleep; NOOPs (and stray NO_JOBs) are dropped here.
            let ok = s.link.fill().is_ok() && drain_noops(s).is_ok();
            if !ok || !s.link.is_connected() || s.link.is_eof() {
                s.lost();
            }
        }
        Ok(())
    }

    /// Waits (wake-up pipe only) until the next reconnection attempt or the timeout.
    fn sleep_until_retry(&mut self, deadline: &mut Deadline) -> Result<(), Error> {
        let (timeout, is_retry) = shorter(deadline.remaining(), self.next_retry());
        let mut items = [PollItem::new(self.wake.read_fd(), true, false)];
        let n = poll(&mut items, timeout).map_err(|e| Error::from_io(GRAB, &e))?;
        if n > 0 {
            return self.check_wake();
        }
        if !is_retry {
            if self.timeout_return {
                return Err(timeout_error(GRAB, 0, true));
            }
            *deadline = Deadline::start(self.wait_timeout());
        }
        Ok(())
    }

    fn check_wake(&mut self) -> Result<(), Error> {
        match self.wake.check() {
            WakeSignal::Interrupt => Err(Error::code_only(ReturnCode::ShutdownGraceful)),
            WakeSignal::Kill => Err(Error::code_only(ReturnCode::Shutdown)),
            WakeSignal::None => Ok(()),
        }
    }

    /// Time until the earliest reconnection attempt of a server that went away.
    fn next_retry(&self) -> Option<Duration> {
        let now = Instant::now();
        self.servers
            .iter()
            .filter(|s| s.ever_connected && !s.link.is_connected())
            .filter_map(|s| s.retry_at)
            .map(|at| at.saturating_duration_since(now))
            .min()
    }

    /// Non-blocking helper: waits (worker timeout) until a connection is readable or the
    /// wake-up pipe fires. NO_ACTIVE_FDS when no connection is open.
    pub fn wait(&mut self) -> Result<(), Error> {
        if self
            .servers
            .iter()
            .any(|s| s.link.is_connected() && s.link.has_buffered_reply())
        {
            return Ok(());
        }
        let mut items = vec![PollItem::new(self.wake.read_fd(), true, false)];
        for s in &self.servers {
            if let (true, Some(fd)) = (s.link.is_connected(), s.link.fd()) {
                items.push(PollItem::new(fd, true, s.link.has_output()));
            }
        }
        if items.len() == 1 {
            return self.fail(Error::new(
                ReturnCode::NoActiveFds,
                "gearman_worker_wait",
                "no active file descriptors",
            ));
        }
        let n = match poll(&mut items, self.wait_timeout()) {
            Ok(n) => n,
            Err(e) => return self.fail(Error::from_io("gearman_worker_wait", &e)),
        };
        if n == 0 {
            return self.fail(timeout_error("gearman_worker_wait", items.len() - 1, true));
        }
        if items[0].got.readable || items[0].got.error {
            if let Err(e) = self.check_wake() {
                return self.fail(e);
            }
        }
        Ok(())
    }

    /// Grabs one job and runs its Rust handler, then reports the result: SUCCESS after a
    /// completed (or retried) job; a failed job → Err(WORK_FAIL), an exception →
    /// Err(WORK_EXCEPTION). Grab errors (TIMEOUT, COULD_NOT_CONNECT, SHUTDOWN...) are returned
    /// as they are. A job for a function without a Rust handler → INVALID_FUNCTION_NAME.
    pub fn work(&mut self) -> Result<(), Error> {
        let mut job = self.grab_job(true)?;
        let Some(index) = self.registry.dispatch_index(&job.function) else {
            return self.fail(Error::new(
                ReturnCode::InvalidFunctionName,
                "gearman_worker_work",
                "Function not found",
            ));
        };
        let callback =
            std::mem::replace(&mut self.registry.entries[index].callback, Callback::None);
        let Callback::Rust(mut handler) = callback else {
            self.registry.entries[index].callback = callback;
            return self.fail(Error::new(
                ReturnCode::InvalidFunctionName,
                "gearman_worker_work",
                "no Rust handler for this function",
            ));
        };
        let result = handler(&mut JobContext {
            worker: self,
            job: &mut job,
        });
        // The handler cannot touch the registry, so the entry is still at `index`.
        self.registry.entries[index].callback = Callback::Rust(handler);
        let outcome = match result {
            WorkResult::Complete(r) => Outcome::Success(r),
            WorkResult::Fail => Outcome::Fail(ReturnCode::WorkFail),
            WorkResult::Exception(text) => {
                let _ = self.job_send_exception(&mut job, &text);
                Outcome::Fail(ReturnCode::WorkException)
            }
            WorkResult::Retry => Outcome::Retry,
        };
        match self.finish_job(&mut job, outcome) {
            ReturnCode::Success => Ok(()),
            code => self.fail(Error::code_only(code)),
        }
    }
}

/// Builds a job from JOB_ASSIGN (handle, fn, workload), JOB_ASSIGN_UNIQ (+unique) or
/// JOB_ASSIGN_ALL (+unique, reducer).
pub(super) fn job_from(mut reply: Reply, server: u64, generation: u64) -> Job {
    let workload = reply.take_data();
    let (unique, reducer) = match reply.command {
        Command::JobAssignUniq => (reply.arg(2).to_vec(), Vec::new()),
        Command::JobAssignAll => (reply.arg(2).to_vec(), reply.arg(3).to_vec()),
        _ => (Vec::new(), Vec::new()),
    };
    Job {
        handle: reply.arg(0).to_vec(),
        function: reply.arg(1).to_vec(),
        unique,
        reducer,
        workload,
        server,
        generation,
        finished: false,
    }
}

/// Consumes buffered packets after a wake-up (NOOP, NO_JOB, preamble replies). The answer to
/// a pending GRAB is kept: a job is set aside for the next grab, never dropped.
fn drain_noops(s: &mut super::WorkerConn) -> Result<(), Error> {
    while let Some(reply) = s.link.next_reply()? {
        match reply.command {
            Command::OptionRes | Command::Error if s.option_replies > 0 => {
                s.option_replies -= 1;
            }
            Command::NoJob if s.grab_pending => s.grab_pending = false,
            Command::JobAssign | Command::JobAssignUniq | Command::JobAssignAll
                if s.grab_pending && s.early_job.is_none() =>
            {
                s.grab_pending = false;
                s.early_job = Some(reply);
            }
            Command::Error => s.late_error(&reply),
            _ => {}
        }
    }
    Ok(())
}

/// Errors after which the server is treated as gone (skipped, reconnected later).
fn is_link_error(code: ReturnCode) -> bool {
    matches!(
        code,
        ReturnCode::LostConnection
            | ReturnCode::CouldNotConnect
            | ReturnCode::Errno
            | ReturnCode::InvalidMagic
            | ReturnCode::InvalidCommand
            | ReturnCode::InvalidPacket
            | ReturnCode::ArgumentTooLarge
    )
}

/// The shorter of the caller's timeout and a retry delay, and whether the retry is shorter.
fn shorter(timeout: Option<Duration>, retry: Option<Duration>) -> (Option<Duration>, bool) {
    match (timeout, retry) {
        (Some(t), Some(r)) if r < t => (Some(r), true),
        (None, Some(r)) => (Some(r), true),
        (t, _) => (t, false),
    }
}

/// An optional point in time after which waiting stops.
struct Deadline(Option<Instant>);

impl Deadline {
    fn start(timeout: Option<Duration>) -> Deadline {
        Deadline(timeout.map(|t| Instant::now() + t))
    }

    /// Time left (None = unbounded).
    fn remaining(&self) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(Instant::now()))
    }
}
