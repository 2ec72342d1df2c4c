//! The Gearman client: tasks in an arena, a pull-based run loop, and synchronous helpers.
//!
//! # Design
//!
//! A [`Client`] owns its server connections and its tasks. Tasks live in an arena addressed
//! by [`TaskId`]s (stale ids are detected) and form a list newest-first, so submissions go out
//! in reverse order of creation, as libgearman 1.1.20 does.
//!
//! The run loop never calls user code. [`Client::next_event`] advances the state machine
//! (connect, submit, flush, poll, read one reply) until a reply for an event-mode task arrives
//! and returns it as a [`TaskEvent`]; the task's fields (`data`, `numerator`, ...) show that
//! reply. The caller reacts, then calls [`Client::complete_event`] to move on, or
//! [`Client::defer_event`] to stop and get the same event again from the next
//! `next_event` call (libgearman's "callback returned non-SUCCESS/PAUSE" semantics). Because
//! no borrow is held between calls, a reaction may add or free tasks, or run other client
//! operations. The C layer's `gearman_client_run_tasks` is a loop over exactly this.
//!
//! # Mapping of libgearman's client calls
//!
//! * `gearman_client_run_tasks`: loop { [`Client::next_event`] → `Ok(None)`: SUCCESS;
//!   `Err(e)`: return `e.code()`; `Ok(Some(ev))`: call the task's callback for `ev.kind`
//!   (none set → treat as SUCCESS); SUCCESS → [`Client::complete_event`] (and free the task
//!   when `ev.terminal` and FREE_TASKS applies); other → [`Client::defer_event`] and return
//!   that code }.
//! * `gearman_client_do*` / `do_*background` / `gearman_execute`: [`Client::add_task_with`]
//!   with [`Mode::Collect`] (the "do" action set: no events for that task), then loop on
//!   [`Client::next_event_for`] (events of other tasks are dispatched as above) until it
//!   returns `Ok(None)`; read [`Task::return_code`], [`Task::result`] / [`Task::job_handle`],
//!   then [`Client::free_task`] (execute keeps the task).
//! * `job_status`, `unique_status`: [`Client::add_status_task`] /
//!   [`Client::add_status_unique_task`] in collect mode, same loop; or [`Client::job_status`].
//! * `echo`, `set_server_option` (and EXCEPTION), `cancel_job`, `set_identifier`: the methods of
//!   the same names; `gearman_client_wait`: [`Client::wait`].
//! * Tasks carry an opaque [`Task::tag`] for the C shell's address. Tasks that end without an
//!   event (server ERROR reply, lost connection) are FINISHED with that return code and listed
//!   by [`Client::take_quiet_ends`] (for FREE_TASKS).
//!
//! ```no_run
//! use gearman::Client;
//! let mut client = Client::new();
//! client.add_server("127.0.0.1", 4730)?;
//! let reversed = client.do_job("reverse", b"hello")?;
//! assert_eq!(reversed, b"olleh");
//! # Ok::<(), gearman::Error>(())
//! ```

mod conn;
mod route;
mod run;
mod sync;
pub mod task;
pub mod unique;

pub use run::{EventKind, TaskEvent};
pub use sync::{JobStatus, UniqueStatus};
pub use task::{Mode, Priority, Request, Task, TaskId, TaskKind, TaskState};

use crate::endpoint::Settings;
use crate::error::{Error, ReturnCode};
use crate::net::servers::{parse_servers, ServerAddress};
use crate::net::tls::{ClientTls, TlsConfig, TlsSlot};
use conn::ServerConn;
use std::collections::VecDeque;
use task::Tasks;

pub use crate::endpoint::{MAX_FUNCTION_NAME, MAX_IDENTIFIER};
/// Longest unique a caller may give (`GEARMAN_MAX_UNIQUE_SIZE`); 64 is truncated to 63.
pub const MAX_UNIQUE_INPUT: usize = 64;

/// A caller's unique longer than 64 bytes → INVALID_ARGUMENT (64 is accepted and truncated).
pub fn check_unique_len(op: &str, len: usize) -> Result<(), Error> {
    if len > MAX_UNIQUE_INPUT {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "unique name longer then GEARMAN_MAX_UNIQUE_SIZE",
        ));
    }
    Ok(())
}

/// Client flags that change behaviour (the others of `gearman_client_options_t` are kept by
/// the C layer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// Never wait: operations that would block return IO_WAIT; use [`Client::wait`].
    pub non_blocking: bool,
    /// Stored for the C layer (`GEARMAN_CLIENT_UNBUFFERED_RESULT`); results are buffered anyway.
    pub unbuffered_result: bool,
    /// Stored for the C layer, which frees finished ADD_TASK tasks.
    pub free_tasks: bool,
    /// No effect (uniques are always generated), kept for `gearman_client_options`.
    pub generate_unique: bool,
    /// New connections use TLS (`GEARMAN_CLIENT_SSL`), with the files of
    /// [`Client::tls_config`].
    pub ssl: bool,
}

/// Parameters of a new task (see [`Client::add_task_with`]).
#[derive(Debug, Clone)]
pub struct NewTask<'a> {
    /// What to send (job kind and priority, or a status request).
    pub request: Request,
    /// Function name without the namespace.
    pub function: &'a [u8],
    /// None or empty: a time-based UUID; `#`: murmur3 of the workload; else verbatim.
    pub unique: Option<&'a [u8]>,
    /// The workload (copied into the task).
    pub workload: Vec<u8>,
    /// Events for every reply, or collected silently.
    pub mode: Mode,
    /// Which API created it (for the C layer).
    pub kind: TaskKind,
}

/// A Gearman client. See the [module documentation](self) for the event model.
#[derive(Debug)]
pub struct Client {
    /// Servers in the order they are tried: the most recently added first.
    servers: Vec<ServerConn>,
    next_server_id: u64,
    tasks: Tasks,
    /// Tasks not FINISHED.
    active: usize,
    /// Tasks in state NEW.
    new_count: usize,
    /// The event handed out and not yet completed.
    current: Option<TaskEvent>,
    /// Tasks that ended without an event (server ERROR, lost connection), not yet taken.
    quiet_ends: Vec<TaskId>,
    /// Replies read by synchronous helpers that belong to the run loop.
    stash: VecDeque<(u64, crate::net::Reply)>,
    options: ClientOptions,
    exceptions: bool,
    settings: Settings,
    /// How the blocking run loop waits (off in non-blocking mode).
    spin: crate::net::poll::Spin,
    /// The TLS files and verification (used while `options.ssl` is on).
    tls: TlsSlot,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    /// A client with no servers, blocking, timeout −1 (infinite). `GEARMAN_SERVERS` is not
    /// read here; see [`Client::from_env`].
    pub fn new() -> Client {
        Client {
            servers: Vec::new(),
            next_server_id: 0,
            tasks: Tasks::default(),
            active: 0,
            new_count: 0,
            current: None,
            quiet_ends: Vec::new(),
            stash: VecDeque::new(),
            options: ClientOptions::default(),
            exceptions: false,
            settings: Settings::default(),
            spin: crate::net::poll::Spin::new(),
            tls: TlsSlot::default(),
        }
    }

    /// A client configured from the `GEARMAN_SERVERS` environment variable, if set
    /// (what `gearman_client_create` does).
    pub fn from_env() -> Result<Client, Error> {
        let mut c = Client::new();
        if let Ok(list) = std::env::var("GEARMAN_SERVERS") {
            c.add_servers(&list)?;
        }
        Ok(c)
    }

    // ----- servers -----

    /// Adds a server (empty host → localhost, port 0 → 4730), resolving its name now. The
    /// newest server is tried first; the others only when connecting to it fails.
    pub fn add_server(&mut self, host: &str, port: u16) -> Result<(), Error> {
        match ServerAddress::resolve(host, port) {
            Ok(a) => {
                self.push_server(a);
                Ok(())
            }
            Err(e) => self.fail(e),
        }
    }

    fn push_server(&mut self, address: ServerAddress) {
        let id = self.next_server_id;
        self.next_server_id += 1;
        let mut s = ServerConn::new(id, address);
        s.link.set_spin_enabled(!self.options.non_blocking);
        self.servers.insert(0, s);
    }

    /// Adds every `host[:port]` of a comma-separated list (libgearman's syntax, no IPv6);
    /// stops at the first failure, keeping the servers added before it.
    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        for (host, port) in parse_servers(list) {
            self.add_server(&host, port)?;
        }
        Ok(())
    }

    /// Closes and forgets every server; tasks waiting on them end with LOST_CONNECTION.
    pub fn remove_servers(&mut self) {
        let ids: Vec<u64> = self.servers.iter().map(|s| s.id).collect();
        for id in ids {
            self.abandon_server_tasks(id, ReturnCode::LostConnection);
        }
        self.servers.clear();
    }

    /// `(host, port)` of each server, in the order they are tried (newest first).
    pub fn servers(&self) -> Vec<(String, u16)> {
        self.servers
            .iter()
            .map(|s| (s.link.server.host.clone(), s.link.server.port))
            .collect()
    }

    /// Closes every connection (tasks bound to them end with LOST_CONNECTION).
    pub fn close_connections(&mut self) {
        let ids: Vec<u64> = self.servers.iter().map(|s| s.id).collect();
        for id in ids {
            self.abandon_server_tasks(id, ReturnCode::LostConnection);
        }
    }

    // ----- settings -----

    /// The current option flags.
    pub fn options(&self) -> ClientOptions {
        self.options
    }

    /// Replaces the option flags.
    pub fn set_options(&mut self, options: ClientOptions) {
        self.options = options;
        // A non-blocking client never spins, not even in the calls that block anyway (echo).
        self.spin.set_enabled(!options.non_blocking);
        for s in &mut self.servers {
            s.link.set_spin_enabled(!options.non_blocking);
        }
    }

    /// Turns TLS on with `config` (files and verification; unset files come from the
    /// environment, then the defaults) or, with `None`, off. The files are loaded at the next
    /// connection; connections already open the other way are closed when next used.
    pub fn set_tls(&mut self, config: Option<TlsConfig>) {
        self.options.ssl = config.is_some();
        if let Some(c) = config {
            self.tls.set(c);
        }
    }

    /// The TLS settings (in use while [`ClientOptions::ssl`] is on).
    pub fn tls_config(&self) -> &TlsConfig {
        self.tls.config()
    }

    /// The TLS configuration for new connections: None without TLS; loaded once. A file that
    /// cannot be used is INVALID_ARGUMENT naming it.
    pub(crate) fn link_tls(&mut self) -> Result<Option<ClientTls>, Error> {
        if !self.options.ssl {
            return Ok(None);
        }
        self.tls
            .load("gearman_client_set_ssl", &mut self.settings.error)
            .map(Some)
    }

    /// Switches non-blocking mode on or off.
    pub fn set_non_blocking(&mut self, on: bool) {
        self.set_options(ClientOptions {
            non_blocking: on,
            ..self.options
        });
    }

    crate::endpoint::settings_accessors!();

    /// Sets the per-wait timeout in ms (−1 = infinite, 0 = fail any wait at once).
    pub fn set_timeout(&mut self, ms: i32) {
        self.settings.set_timeout(ms);
    }

    /// True once the "exceptions" server option was accepted by every server.
    pub fn exceptions_enabled(&self) -> bool {
        self.exceptions
    }

    // ----- tasks -----

    /// Adds an event-mode task created by `add_task` (nothing is sent until the run loop).
    pub fn add_task(
        &mut self,
        request: Request,
        function: &[u8],
        unique: Option<&[u8]>,
        workload: &[u8],
    ) -> Result<TaskId, Error> {
        self.add_task_with(NewTask {
            request,
            function,
            unique,
            workload: workload.to_vec(),
            mode: Mode::Events,
            kind: TaskKind::AddTask,
        })
    }

    /// Adds a task with every parameter explicit. Validates like libgearman: function empty or
    /// longer than 512 bytes, or unique longer than 64 bytes → INVALID_ARGUMENT; a request
    /// that cannot fit one packet → ARGUMENT_TOO_LARGE.
    pub fn add_task_with(&mut self, t: NewTask<'_>) -> Result<TaskId, Error> {
        if let Err(e) = self.check_submission(t.function, t.unique, t.workload.len()) {
            return self.fail(e);
        }
        let function = self.settings.prefixed(t.function);
        let unique = unique::choose(t.unique, &t.workload);
        let task = task::Task::new(t.request, t.mode, t.kind, function, unique, t.workload);
        Ok(self.insert(task))
    }

    /// The checks of a submission that look at lengths only, in libgearman's order: function
    /// empty or longer than 512 bytes, unique longer than 64 bytes → INVALID_ARGUMENT; more
    /// than one packet can carry (namespace, function, unique and a `workload_len`-byte
    /// workload) → ARGUMENT_TOO_LARGE. Nothing is recorded. The C layer runs this before it
    /// reads the caller's workload.
    pub fn check_submission(
        &self,
        function: &[u8],
        unique: Option<&[u8]>,
        workload_len: usize,
    ) -> Result<(), Error> {
        const OP: &str = "gearman_client_add_task";
        crate::endpoint::check_function_name(OP, function.len())?;
        check_unique_len(OP, unique.map_or(0, <[u8]>::len))?;
        let namespace = self.namespace().map_or(0, <[u8]>::len);
        let unique_len = unique::sent_len(unique);
        crate::endpoint::check_packet(OP, &[namespace + function.len(), unique_len], workload_len)
    }

    fn insert(&mut self, task: Task) -> TaskId {
        self.active += 1;
        self.new_count += 1;
        self.tasks.insert_head(task)
    }

    /// Adds a GET_STATUS task for a job handle (at most 63 bytes are kept for the task's
    /// handle; the full handle is sent). Its STATUS_RES arrives as a [`EventKind::Status`].
    pub fn add_status_task(&mut self, handle: &[u8], mode: Mode) -> TaskId {
        let mut task = Task::new(
            Request::Status,
            mode,
            TaskKind::AddTask,
            Vec::new(),
            Vec::new(),
            handle.to_vec(),
        );
        task.handle = handle[..handle.len().min(63)].to_vec();
        self.insert(task)
    }

    /// Adds a GET_STATUS_UNIQUE task. INVALID_ARGUMENT when the unique is longer than 64.
    pub fn add_status_unique_task(&mut self, unique: &[u8], mode: Mode) -> Result<TaskId, Error> {
        if unique.len() > MAX_UNIQUE_INPUT {
            return Err(Error::new(
                ReturnCode::InvalidArgument,
                "gearman_client_add_task_status_by_unique",
                "unique name longer then GEARMAN_MAX_UNIQUE_SIZE",
            ));
        }
        let task = Task::new(
            Request::StatusUnique,
            mode,
            TaskKind::AddTask,
            Vec::new(),
            unique[..unique.len().min(63)].to_vec(),
            unique.to_vec(),
        );
        Ok(self.insert(task))
    }

    /// A task by id; `None` for freed (stale) ids.
    pub fn task(&self, id: TaskId) -> Option<&Task> {
        self.tasks.get(id)
    }

    /// A task by id, writable.
    pub fn task_mut(&mut self, id: TaskId) -> Option<&mut Task> {
        self.tasks.get_mut(id)
    }

    /// The newest task (head of the list).
    pub fn first_task(&self) -> Option<TaskId> {
        self.tasks.head()
    }

    /// The next older task (`gearman_next`).
    pub fn next_task(&self, id: TaskId) -> Option<TaskId> {
        self.tasks.next(id)
    }

    /// All task ids, newest first.
    pub fn task_ids(&self) -> Vec<TaskId> {
        self.tasks.ids()
    }

    /// True if any task (finished or not) is still attached.
    pub fn has_tasks(&self) -> bool {
        self.tasks.len() > 0
    }

    /// True if some task is not finished (`gearman_client_has_active_tasks`).
    pub fn has_active_tasks(&self) -> bool {
        self.active > 0
    }

    /// Removes a task. Replies that arrive for it later are dropped. Never sends anything.
    pub fn free_task(&mut self, id: TaskId) -> Option<Task> {
        let mut task = self.tasks.remove(id)?;
        // The workload is not needed any more: released now, before the caller copies the
        // result out, the allocator hands the same block to that copy (a megabyte freed and
        // taken again in the same place costs no page faults; two freed together get trimmed
        // from the heap and faulted in again by the next call).
        drop(std::mem::take(&mut task.workload));
        if task.state != TaskState::Finished {
            self.active -= 1;
        }
        if task.state == TaskState::New {
            self.new_count -= 1;
        }
        if self.current.is_some_and(|e| e.task == id) {
            self.current = None;
        }
        if !self.quiet_ends.is_empty() {
            self.quiet_ends.retain(|t| *t != id);
        }
        if let Some(sid) = task.server {
            if let Some(s) = self.servers.iter_mut().find(|s| s.id == sid) {
                s.unbind_handle(&task.handle, id);
                s.status_waiting.retain(|t| *t != id);
            }
        }
        Some(task)
    }

    /// Frees every task.
    pub fn free_all_tasks(&mut self) {
        for id in self.tasks.ids() {
            self.free_task(id);
        }
    }

    /// Ends a task without an event (its return code is already set) and remembers it for
    /// [`Client::take_quiet_ends`].
    pub(crate) fn end_quietly(&mut self, id: TaskId) {
        self.set_state(id, TaskState::Finished);
        if self.quiet_ends.len() >= 1024 {
            let tasks = &self.tasks;
            self.quiet_ends.retain(|t| tasks.get(*t).is_some());
        }
        self.quiet_ends.push(id);
    }

    /// Tasks that ended without an event since the last call (a server ERROR answered their
    /// submission, or their connection was lost): their callbacks never ran, so a caller that
    /// frees finished tasks (FREE_TASKS) frees these here.
    pub fn take_quiet_ends(&mut self) -> Vec<TaskId> {
        std::mem::take(&mut self.quiet_ends)
    }

    /// Moves a task to `state`, keeping the NEW/active counters exact.
    pub(crate) fn set_state(&mut self, id: TaskId, state: TaskState) {
        let Some(t) = self.tasks.get_mut(id) else {
            return;
        };
        let old = t.state;
        t.state = state;
        if old == TaskState::New && state != TaskState::New {
            self.new_count -= 1;
        } else if old != TaskState::New && state == TaskState::New {
            self.new_count += 1;
        }
        if old != TaskState::Finished && state == TaskState::Finished {
            self.active -= 1;
        } else if old == TaskState::Finished && state != TaskState::Finished {
            self.active += 1;
        }
    }

    /// A connection broke: requests it had not acknowledged yet (no JOB_CREATED / STATUS_RES)
    /// go back to NEW once, to be sent again on a fresh connection (foreground jobs die with
    /// their connection on the server, and the unique makes a resent background job coalesce);
    /// every other task bound to it ends with `code` (no event). Returns true if some task
    /// ended, i.e. the caller should report the error.
    pub(crate) fn abandon_server_tasks(&mut self, server: u64, code: ReturnCode) -> bool {
        let mut unanswered: std::collections::HashSet<TaskId> = Default::default();
        if let Some(s) = self.servers.iter().find(|s| s.id == server) {
            unanswered.extend(s.awaiting.iter().copied());
            unanswered.extend(s.status_waiting.iter().copied());
        }
        let mut ended = false;
        for id in self.tasks.ids() {
            let bound = self
                .tasks
                .get(id)
                .is_some_and(|t| t.server == Some(server) && t.state != TaskState::Finished);
            if !bound {
                continue;
            }
            if self.current.is_some_and(|e| e.task == id) {
                self.current = None;
            }
            // Only a plain disconnect is retried; a server that speaks garbage is not.
            let retry = code == ReturnCode::LostConnection
                && unanswered.contains(&id)
                && self.tasks.get(id).is_some_and(|t| !t.resent);
            if let Some(t) = self.tasks.get_mut(id) {
                t.server = None;
                if retry {
                    t.resent = true;
                } else {
                    t.ret = code;
                    t.known = false;
                    t.running = false;
                }
            }
            if retry {
                self.set_state(id, TaskState::New);
            } else {
                ended = true;
                self.end_quietly(id);
            }
        }
        if let Some(s) = self.servers.iter_mut().find(|s| s.id == server) {
            s.reset();
        }
        self.stash.retain(|(sid, _)| *sid != server);
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_blocking_client_never_spins() {
        let mut c = Client::new();
        c.add_server("127.0.0.1", 4730).expect("add_server");
        c.set_non_blocking(true);
        c.add_server("127.0.0.1", 4731).expect("add_server");
        assert!(!c.spin.is_enabled());
        assert!(c.servers.iter().all(|s| !s.link.spin_enabled()));
        c.set_non_blocking(false);
        assert_eq!(
            c.servers.iter().all(|s| s.link.spin_enabled()),
            c.spin.is_enabled(),
            "blocking again: spinning follows GEARMAN_BUSY_POLL_US"
        );
    }
}
