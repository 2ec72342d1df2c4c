//! The run loop: a pull-based state machine that starts new tasks, moves bytes, and turns
//! replies into [`TaskEvent`]s without ever calling user code.

use super::task::{Request, TaskId, TaskState};
use super::Client;
use crate::error::{Error, ReturnCode};
use crate::net::link::timeout_error;
use crate::net::poll::{poll, poll_with, PollItem, Ready};
use crate::net::LinkState;
use crate::protocol::Command;
use std::time::Duration;

/// What a reply did to a task (libgearman's callback slots).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// JOB_CREATED: the handle is known.
    Created,
    /// WORK_DATA: a chunk of streamed output in the task's `data`.
    Data,
    /// WORK_WARNING: a warning in `data`.
    Warning,
    /// WORK_STATUS (numerator/denominator updated) or STATUS_RES(_UNIQUE) for status tasks.
    Status,
    /// WORK_COMPLETE: the final payload in `data`.
    Complete,
    /// WORK_EXCEPTION: the exception text in `data`.
    Exception,
    /// WORK_FAIL.
    Fail,
}

impl EventKind {
    /// The task state that remembers this event when its handling is deferred.
    pub fn resume_state(self) -> TaskState {
        match self {
            EventKind::Created => TaskState::Created,
            EventKind::Data => TaskState::Data,
            EventKind::Warning => TaskState::Warning,
            EventKind::Status => TaskState::Status,
            EventKind::Complete => TaskState::Complete,
            EventKind::Exception => TaskState::Exception,
            EventKind::Fail => TaskState::Fail,
        }
    }
}

/// A reply delivered to an event-mode task. `terminal` events end the task once completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskEvent {
    /// The task the reply belongs to.
    pub task: TaskId,
    /// What the reply was.
    pub kind: EventKind,
    /// Completing this event finishes the task.
    pub terminal: bool,
}

pub(super) const RUN: &str = "gearman_client_run_tasks";

/// A connection idle for longer than this is checked for a server-side close before it
/// carries a new request (a busy one would have shown the EOF already).
const STALE_CHECK_AFTER: Duration = Duration::from_millis(500);

impl Client {
    /// Advances the run loop until an event is ready, and returns it; `Ok(None)` when no task
    /// is active any more (libgearman's SUCCESS). Blocking clients wait (each wait bounded by
    /// the timeout → TIMEOUT); non-blocking ones return IO_WAIT instead of waiting. Errors:
    /// NO_SERVERS, COULD_NOT_CONNECT (tasks stay NEW, call again to retry), LOST_CONNECTION
    /// (the tasks of that connection end with that code), NO_ACTIVE_FDS, server ERROR codes
    /// (the submission it answered ends with that code).
    ///
    /// An event not yet completed (see [`Client::complete_event`]) is returned again.
    pub fn next_event(&mut self) -> Result<Option<TaskEvent>, Error> {
        self.pump(None)
    }

    /// Like [`Client::next_event`], but `Ok(None)` as soon as `target` is finished (or gone).
    /// Events of other tasks are still returned.
    pub fn next_event_for(&mut self, target: TaskId) -> Result<Option<TaskEvent>, Error> {
        self.pump(Some(target))
    }

    /// The current event was handled: clears the task's `data`, and a terminal event moves the
    /// task to FINISHED.
    pub fn complete_event(&mut self) {
        if let Some(ev) = self.current.take() {
            if let Some(t) = self.tasks.get_mut(ev.task) {
                t.data = None;
            }
            let state = if ev.terminal {
                TaskState::Finished
            } else {
                TaskState::Work
            };
            self.set_state(ev.task, state);
        }
    }

    /// The current event was not accepted (a callback returned non-SUCCESS, e.g. PAUSE): the
    /// task remembers it in its state and the next `next_event` returns it again.
    pub fn defer_event(&mut self) {
        if let Some(ev) = self.current {
            self.set_state(ev.task, ev.kind.resume_state());
        }
    }

    /// The event handed out and not yet completed.
    pub fn current_event(&self) -> Option<TaskEvent> {
        self.current
    }

    /// Waits (client timeout) until a connection with pending interest is ready, and
    /// remembers what is ready for the next non-blocking [`Client::next_event`]; for
    /// non-blocking use between IO_WAITs. NO_ACTIVE_FDS when nothing is pending. It sleeps in
    /// poll(2) at once (it never spins).
    pub fn wait(&mut self) -> Result<(), Error> {
        match self.wait_ready() {
            Ok(()) => Ok(()),
            Err(e) => self.fail(e),
        }
    }

    fn pump(&mut self, target: Option<TaskId>) -> Result<Option<TaskEvent>, Error> {
        if let Some(ev) = self.current {
            return Ok(Some(ev));
        }
        self.settings.error.reset();
        for s in &mut self.servers {
            s.failed = false;
            s.connect_error = None;
        }
        match self.pump_inner(target) {
            Ok(ev) => Ok(ev),
            Err(e) => self.fail(e),
        }
    }

    fn pump_inner(&mut self, target: Option<TaskId>) -> Result<Option<TaskEvent>, Error> {
        loop {
            if self.new_count > 0 {
                self.start_new_tasks()?;
            }
            self.flush_all()?;
            if let Some(ev) = self.process_buffered()? {
                return Ok(Some(ev));
            }
            let done = match target {
                Some(t) => self
                    .tasks
                    .get(t)
                    .is_none_or(|t| t.state == TaskState::Finished),
                None => self.active == 0,
            };
            if done {
                return Ok(None);
            }
            if self.new_count > 0 {
                continue;
            }
            if self.options.non_blocking {
                // As libgearman 1.1.20: a non-blocking loop never waits or polls, not even
                // briefly. It serves what the caller's last `wait` found ready, once, and
                // otherwise answers IO_WAIT (a reply is read only after a `wait` saw it).
                if self.serve_ready()? {
                    continue;
                }
                return Err(Error::code_only(ReturnCode::IoWait));
            }
            self.wait_io()?;
        }
    }

    /// Binds every NEW task (newest first) to the first server that can be connected and
    /// queues its request. Packets are coalesced in the output buffers and flushed later.
    fn start_new_tasks(&mut self) -> Result<(), Error> {
        if self.servers.is_empty() {
            return Err(Error::new(
                ReturnCode::NoServers,
                RUN,
                "no servers provided",
            ));
        }
        // Unusable TLS files fail the call itself, not one server after another.
        self.link_tls()?;
        for id in self.tasks.ids() {
            if self.tasks.get(id).map(|t| t.state) != Some(TaskState::New) {
                continue;
            }
            let mut last_err = self.servers.iter().find_map(|s| s.connect_error.clone());
            let mut bound = false;
            for si in 0..self.servers.len() {
                if self.servers[si].failed {
                    continue;
                }
                match self.prepare_link(si) {
                    Ok(()) => {
                        self.queue_request(si, id);
                        bound = true;
                        break;
                    }
                    Err(e) => {
                        self.servers[si].failed = true;
                        last_err = Some(e);
                    }
                }
            }
            if !bound {
                return Err(last_err.unwrap_or_else(|| {
                    Error::new(
                        ReturnCode::CouldNotConnect,
                        RUN,
                        "no server could be reached",
                    )
                }));
            }
        }
        Ok(())
    }

    /// Makes sure server `si` is connected or connecting, with the connection preamble
    /// (SET_CLIENT_ID, remembered server options) queued on a new connection. A connection
    /// the server has closed while idle is replaced instead of failing the next submission.
    pub(crate) fn prepare_link(&mut self, si: usize) -> Result<(), Error> {
        let tls = self.link_tls()?;
        if self.servers[si].link.set_tls(tls) {
            // Opened before TLS was switched on or off: never reuse it the other way.
            let sid = self.servers[si].id;
            self.abandon_server_tasks(sid, ReturnCode::LostConnection);
        }
        let s = &mut self.servers[si];
        let idle = s.link.state() == LinkState::Connected
            && s.link.idle_for() > STALE_CHECK_AFTER
            && s.awaiting.is_empty()
            && s.by_handle.is_empty()
            && s.status_waiting.is_empty()
            && !s.link.has_output();
        if idle && (s.link.fill().is_err() || s.link.is_eof()) {
            s.reset();
        }
        if s.link.state() != LinkState::Closed {
            return Ok(());
        }
        s.reset();
        s.link.start_connect()?;
        if let Some(id) = self.settings.identifier() {
            s.link.queue(Command::SetClientId, &[id]);
        }
        for opt in self.settings.server_options() {
            s.link.queue(Command::OptionReq, &[opt]);
            s.option_replies += 1;
        }
        Ok(())
    }

    fn queue_request(&mut self, si: usize, id: TaskId) {
        let s = &mut self.servers[si];
        let Some(t) = self.tasks.get_mut(id) else {
            return;
        };
        let command = t.request.command();
        match &t.request {
            // The workload is written from the task's own buffer (writev), not copied.
            Request::Job { .. } => {
                s.link
                    .queue_shared(command, &[&t.function, &t.unique], t.workload.clone())
            }
            Request::Epoch { when } => {
                let when = when.to_string();
                s.link.queue_shared(
                    command,
                    &[&t.function, &t.unique, when.as_bytes()],
                    t.workload.clone(),
                )
            }
            Request::Reduce { reducer, .. } => s.link.queue_shared(
                command,
                &[&t.function, &t.unique, reducer, b""],
                t.workload.clone(),
            ),
            Request::Status | Request::StatusUnique => s.link.queue(command, &[&t.workload]),
        }
        t.server = Some(s.id);
        s.submitting = Some(id);
        if t.request.is_submit() {
            s.awaiting.push_back(id);
        } else {
            s.status_waiting.push(id);
        }
        self.set_state(id, TaskState::Work);
    }

    fn flush_all(&mut self) -> Result<(), Error> {
        for si in 0..self.servers.len() {
            let flushed = if self.servers[si].link.has_output() {
                self.servers[si].link.flush()
            } else {
                Ok(true)
            };
            match flushed {
                Ok(true) => self.sent(si),
                Ok(false) => {
                    // Still connecting, or the socket is full: the last request queued waits
                    // in SUBMIT, as 1.1.20 shows a blocked send.
                    if let Some(id) = self.servers[si].submitting {
                        if self.tasks.get(id).map(|t| t.state) == Some(TaskState::Work) {
                            self.set_state(id, TaskState::Submit);
                        }
                    }
                }
                Err(e) => {
                    let sid = self.servers[si].id;
                    if self.abandon_server_tasks(sid, e.code()) {
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    /// Everything queued on server `si` is written: a request shown in SUBMIT is in WORK.
    fn sent(&mut self, si: usize) {
        if let Some(id) = self.servers[si].submitting.take() {
            if self.tasks.get(id).map(|t| t.state) == Some(TaskState::Submit) {
                self.set_state(id, TaskState::Work);
            }
        }
    }

    /// Routes replies already buffered until one produces an event.
    fn process_buffered(&mut self) -> Result<Option<TaskEvent>, Error> {
        while let Some((sid, reply)) = self.stash.pop_front() {
            if let Some(ev) = self.route(sid, reply)? {
                return Ok(Some(ev));
            }
        }
        for si in 0..self.servers.len() {
            loop {
                let sid = self.servers[si].id;
                match self.servers[si].link.next_reply() {
                    Ok(Some(reply)) => {
                        if let Some(ev) = self.route(sid, reply)? {
                            return Ok(Some(ev));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if self.abandon_server_tasks(sid, e.code()) {
                            return Err(e);
                        }
                        break;
                    }
                }
            }
        }
        Ok(None)
    }

    /// The connections with pending interest (connecting, output queued, replies owed), as
    /// poll items with their server indexes.
    fn pollable(&self) -> (Vec<PollItem>, Vec<usize>) {
        let mut items: Vec<PollItem> = Vec::with_capacity(self.servers.len());
        let mut which: Vec<usize> = Vec::with_capacity(self.servers.len());
        for (i, s) in self.servers.iter().enumerate() {
            let busy = s.link.state() == LinkState::Connecting
                || s.link.has_output()
                || !s.awaiting.is_empty()
                || !s.by_handle.is_empty()
                || !s.status_waiting.is_empty()
                || s.option_replies > 0;
            if let (true, Some(it)) = (busy, s.link.poll_item()) {
                items.push(it);
                which.push(i);
            }
        }
        (items, which)
    }

    fn no_active_fds() -> Error {
        Error::new(ReturnCode::NoActiveFds, RUN, "no active file descriptors")
    }

    /// [`Client::wait`]: polls (no spinning) and records what is ready on each connection.
    fn wait_ready(&mut self) -> Result<(), Error> {
        // Replies already read (e.g. by a synchronous helper) need no waiting.
        if !self.stash.is_empty() || self.servers.iter().any(|s| s.link.has_buffered_reply()) {
            return Ok(());
        }
        let (mut items, which) = self.pollable();
        if items.is_empty() {
            return Err(Self::no_active_fds());
        }
        let n = poll(&mut items, self.wait_timeout()).map_err(|e| Error::from_io("poll", &e))?;
        if n == 0 {
            return Err(timeout_error(RUN, items.len(), false));
        }
        for (it, si) in items.iter().zip(which) {
            self.servers[si].ready = it.got;
        }
        Ok(())
    }

    /// The blocking run loop's wait: polls every connection with pending interest (client
    /// timeout, spinning briefly first as [`Spin`](crate::net::poll::Spin) allows), then
    /// finishes connects, reads and writes what is ready.
    fn wait_io(&mut self) -> Result<(), Error> {
        let (mut items, which) = self.pollable();
        if items.is_empty() {
            return Err(Self::no_active_fds());
        }
        let timeout = self.wait_timeout();
        let n = poll_with(&mut items, timeout, Some(&mut self.spin))
            .map_err(|e| Error::from_io("poll", &e))?;
        if n == 0 {
            return Err(timeout_error(RUN, items.len(), false));
        }
        let mut result = Ok(());
        for (it, si) in items.iter().zip(which) {
            if let Err(e) = self.serve(si, it.got) {
                result = result.and(Err(e));
            }
        }
        result
    }

    /// The non-blocking loop's step: serves the connections the last [`Client::wait`] found
    /// ready (each once). False when there were none.
    fn serve_ready(&mut self) -> Result<bool, Error> {
        let mut served = false;
        let mut result = Ok(());
        for si in 0..self.servers.len() {
            let got = std::mem::take(&mut self.servers[si].ready);
            if got == Ready::default() {
                continue;
            }
            served = true;
            if let Err(e) = self.serve(si, got) {
                result = result.and(Err(e));
            }
        }
        result.map(|()| served)
    }

    /// Acts on the readiness `got` of server `si`: finishes a connect, reads when readable,
    /// writes when writable. A broken connection ends its tasks (the error is returned when
    /// some task ended).
    fn serve(&mut self, si: usize, got: Ready) -> Result<(), Error> {
        if got == Ready::default() {
            return Ok(());
        }
        let sid = self.servers[si].id;
        match self.servers[si].link.state() {
            LinkState::Connecting => {
                if let Err(e) = self.servers[si].link.finish_connect() {
                    self.requeue_server_tasks(si);
                    self.servers[si].connect_error = Some(e);
                }
                Ok(())
            }
            LinkState::Connected => {
                let link = &mut self.servers[si].link;
                let read = if got.readable || got.error {
                    link.fill().map(|_| ())
                } else {
                    Ok(())
                };
                let r = read.and_then(|()| {
                    if got.writable {
                        link.flush().map(|_| ())
                    } else {
                        Ok(())
                    }
                });
                match r {
                    Err(e) if self.abandon_server_tasks(sid, e.code()) => Err(e),
                    _ => Ok(()),
                }
            }
            LinkState::Closed => Ok(()),
        }
    }

    /// A connection attempt failed: its tasks go back to NEW for the next server.
    fn requeue_server_tasks(&mut self, si: usize) {
        let sid = self.servers[si].id;
        for id in self.tasks.ids() {
            let bound = self
                .tasks
                .get(id)
                .is_some_and(|t| t.server == Some(sid) && t.state != TaskState::Finished);
            if bound {
                if let Some(t) = self.tasks.get_mut(id) {
                    t.server = None;
                }
                self.set_state(id, TaskState::New);
            }
        }
        self.servers[si].reset();
        self.servers[si].failed = true;
    }
}
