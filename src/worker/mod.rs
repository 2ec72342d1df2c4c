//! The Gearman worker: a function registry, connections to every server, and the
//! grab / pre-sleep / wake-up loop.
//!
//! ```no_run
//! use gearman::worker::{Worker, WorkResult};
//! let mut worker = Worker::new()?;
//! worker.add_server("127.0.0.1", 4730)?;
//! worker.add_function("reverse", 0, |ctx| {
//!     let mut out = ctx.workload().to_vec();
//!     out.reverse();
//!     WorkResult::Complete(out)
//! })?;
//! loop {
//!     worker.work()?;
//! }
//! # Ok::<(), gearman::Error>(())
//! ```
//!
//! For foreign callers (the C layer) the loop is split: [`Worker::grab_job`] returns a [`Job`],
//! the caller runs its callback, then [`Worker::finish_job`] applies libgearman's result rules:
//!
//! * `gearman_worker_work`: `grab_job(true)`; find the entry with
//!   [`Registry::dispatch`] on the job's function name (none → INVALID_FUNCTION_NAME, job
//!   dropped); run the callback registered as [`Callback::Foreign`]; map its result with
//!   [`Outcome::from_v1`] / [`Outcome::from_v2`]; return [`Worker::finish_job`]'s code. The
//!   1.1.20 "no-op `work()` after a failed job" quirk is left to the caller.
//! * `gearman_worker_grab_job`: `grab_job(false)` (NO_JOBS at once when idle).
//! * `gearman_job_send_*`: [`Worker::job_send_data`] and friends (the first terminal packet
//!   wins; a job whose connection is gone gets LOST_CONNECTION).
//! * `gearman_worker_id` / `gearman_kill`: [`Worker::wake_fds`] and
//!   [`crate::net::wake::interrupt_fd`] (or closing the write end for KILL).

mod grab;
pub mod job;
pub mod registry;

pub use job::{Job, JobContext, Outcome};
pub use registry::{Callback, FunctionEntry, Registry, WorkResult};

use crate::endpoint::{self, server_error, Settings};
use crate::error::{Error, ReturnCode};
use crate::net::servers::{parse_servers, ServerAddress};
use crate::net::tls::{ClientTls, TlsConfig, TlsSlot};
use crate::net::wake::WakePipe;
use crate::net::Link;
use crate::protocol::Command;
use std::time::{Duration, Instant};

pub use crate::endpoint::MAX_FUNCTION_NAME;
/// The timeout `remove_options(TIMEOUT_RETURN)` installs (`GEARMAN_WORKER_WAIT_TIMEOUT`).
pub const WAIT_TIMEOUT_MS: i32 = 10_000;

/// First and largest pause between reconnection attempts to a server that went away.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Which grab command the worker sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrabMode {
    /// GRAB_JOB: jobs without unique.
    Plain,
    /// GRAB_JOB_UNIQ.
    Uniq,
    /// GRAB_JOB_ALL (the default).
    All,
}

impl GrabMode {
    fn command(self) -> Command {
        match self {
            GrabMode::Plain => Command::GrabJob,
            GrabMode::Uniq => Command::GrabJobUniq,
            GrabMode::All => Command::GrabJobAll,
        }
    }
}

/// One server of a worker.
#[derive(Debug)]
pub(crate) struct WorkerConn {
    pub(crate) id: u64,
    pub(crate) link: Link,
    /// Incremented on every new connection: jobs of an older one cannot report back.
    pub(crate) generation: u64,
    pub(crate) option_replies: usize,
    /// Was connected once: when lost, the worker waits for it to come back.
    pub(crate) ever_connected: bool,
    pub(crate) retry_at: Option<Instant>,
    pub(crate) backoff: Duration,
    pub(crate) last_error: Option<Error>,
    /// A GRAB was sent and its answer not read yet (non-blocking grabs resume with it, and so
    /// does a blocking grab that stopped waiting for a slow or hung server).
    pub(crate) grab_pending: bool,
    /// A JOB_ASSIGN that answered a pending GRAB, read while waiting for a NOOP: the next grab
    /// from this server returns it.
    pub(crate) early_job: Option<crate::net::Reply>,
    /// The handle of the last job whose result went out on this connection.
    pub(crate) last_reported: Option<Vec<u8>>,
    /// Jobs whose results this server refused (ERROR JOB_NOT_FOUND): it took them back after
    /// their CAN_DO_TIMEOUT and queued them again (see [`WorkerConn::claim`]).
    pub(crate) overran: Vec<Vec<u8>>,
}

impl WorkerConn {
    /// Most jobs remembered as overrun per connection.
    const MAX_OVERRAN: usize = 64;

    /// A late ERROR: JOB_NOT_FOUND right after results means the server no longer had the
    /// job (it re-queued it when its CAN_DO_TIMEOUT expired). Nothing is reported to the
    /// caller (it is not an unexpected packet); the job is remembered for when it comes back.
    pub(crate) fn late_error(&mut self, reply: &crate::net::Reply) {
        if ReturnCode::from_server_text(reply.arg(0)) != Some(ReturnCode::JobNotFound) {
            return;
        }
        if let Some(handle) = self.last_reported.take() {
            if self.overran.len() >= Self::MAX_OVERRAN {
                self.overran.remove(0);
            }
            self.overran.push(handle);
        }
    }

    /// Turns an assignment into a job. A job this server took back once after its
    /// CAN_DO_TIMEOUT would time out the same way on every retry (the function still takes
    /// longer than its timeout), so its client would never get a result; the worker sends
    /// PRE_SLEEP with it, which makes gearmand 1.1.20 (and ours) drop the connection's job
    /// timer, and this run can report. libgearman 1.1.20 gets the same effect by accident:
    /// its misread ERROR replies leave extra GRAB/PRE_SLEEP packets in flight.
    pub(crate) fn claim(&mut self, reply: crate::net::Reply) -> Job {
        let job = grab::job_from(reply, self.id, self.generation);
        if let Some(i) = self.overran.iter().position(|h| *h == job.handle) {
            self.overran.remove(i);
            self.link.queue(Command::PreSleep, &[]);
            if self.link.flush().is_err() {
                self.lost();
            }
        }
        job
    }

    /// The connection broke: close it; reconnect attempts start right away, then back off.
    pub(crate) fn lost(&mut self) {
        self.link.close();
        self.option_replies = 0;
        self.grab_pending = false;
        self.early_job = None;
        self.retry_at = Some(Instant::now());
    }
}

/// A Gearman worker. See the [module documentation](self). `Send`: one thread at a time.
pub struct Worker {
    pub(crate) servers: Vec<WorkerConn>,
    next_server_id: u64,
    pub(crate) registry: Registry,
    pub(crate) non_blocking: bool,
    pub(crate) grab: GrabMode,
    pub(crate) timeout_return: bool,
    pub(crate) settings: Settings,
    pub(crate) wake: WakePipe,
    /// Server index tried first by the next grab (the one that gave the last job).
    pub(crate) resume: usize,
    /// How the sleep for a NOOP waits (off in non-blocking mode).
    pub(crate) spin: crate::net::poll::Spin,
    /// New connections use TLS (`GEARMAN_WORKER_SSL`).
    tls_on: bool,
    /// The TLS files and verification.
    tls: TlsSlot,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("servers", &self.servers.len())
            .field("functions", &self.registry.names().len())
            .finish()
    }
}

impl Worker {
    /// A worker with no servers, blocking, timeout −1, grabbing with GRAB_JOB_ALL.
    /// Fails only if the wake-up pipe cannot be created.
    pub fn new() -> Result<Worker, Error> {
        let wake = WakePipe::new().map_err(|e| Error::from_io("gearman_worker_create", &e))?;
        Ok(Worker {
            servers: Vec::new(),
            next_server_id: 0,
            registry: Registry::default(),
            non_blocking: false,
            grab: GrabMode::All,
            timeout_return: false,
            settings: Settings::default(),
            wake,
            resume: 0,
            spin: crate::net::poll::Spin::new(),
            tls_on: false,
            tls: TlsSlot::default(),
        })
    }

    /// A worker configured from `GEARMAN_SERVERS`, if set.
    pub fn from_env() -> Result<Worker, Error> {
        let mut w = Worker::new()?;
        if let Ok(list) = std::env::var("GEARMAN_SERVERS") {
            w.add_servers(&list)?;
        }
        Ok(w)
    }

    // ----- servers -----

    /// Adds a server (resolved now; empty host → localhost, port 0 → 4730). Newest first.
    pub fn add_server(&mut self, host: &str, port: u16) -> Result<(), Error> {
        match ServerAddress::resolve(host, port) {
            Ok(a) => {
                let id = self.next_server_id;
                self.next_server_id += 1;
                let mut link = Link::new(a);
                link.set_spin_enabled(!self.non_blocking);
                self.servers.insert(
                    0,
                    WorkerConn {
                        id,
                        link,
                        generation: 0,
                        option_replies: 0,
                        ever_connected: false,
                        retry_at: None,
                        backoff: FIRST_BACKOFF,
                        last_error: None,
                        grab_pending: false,
                        early_job: None,
                        last_reported: None,
                        overran: Vec::new(),
                    },
                );
                self.resume = 0;
                Ok(())
            }
            Err(e) => self.fail(e),
        }
    }

    /// Adds every `host[:port]` of a comma-separated list; stops at the first failure.
    pub fn add_servers(&mut self, list: &str) -> Result<(), Error> {
        for (host, port) in parse_servers(list) {
            self.add_server(&host, port)?;
        }
        Ok(())
    }

    /// Closes and forgets every server.
    pub fn remove_servers(&mut self) {
        self.servers.clear();
        self.resume = 0;
    }

    /// `(host, port)` of each server, newest first.
    pub fn servers(&self) -> Vec<(String, u16)> {
        self.servers
            .iter()
            .map(|s| (s.link.server.host.clone(), s.link.server.port))
            .collect()
    }

    /// Closes every connection (the servers re-queue jobs in progress); the next grab
    /// reconnects and registers again.
    pub fn close_connections(&mut self) {
        for s in &mut self.servers {
            s.link.close();
            s.option_replies = 0;
            s.grab_pending = false;
            s.early_job = None;
        }
    }

    // ----- settings -----

    /// Turns TLS on with `config` (files and verification; unset files come from the
    /// environment, then the defaults) or, with `None`, off. The files are loaded at the next
    /// connection; open connections made the other way are replaced at the next grab.
    pub fn set_tls(&mut self, config: Option<TlsConfig>) {
        self.tls_on = config.is_some();
        if let Some(c) = config {
            self.tls.set(c);
        }
    }

    /// Switches TLS on or off, keeping the settings (`GEARMAN_WORKER_SSL`).
    pub fn set_tls_enabled(&mut self, on: bool) {
        self.tls_on = on;
    }

    /// Whether new connections use TLS.
    pub fn tls_enabled(&self) -> bool {
        self.tls_on
    }

    /// The TLS settings (in use while TLS is enabled).
    pub fn tls_config(&self) -> &TlsConfig {
        self.tls.config()
    }

    /// The TLS configuration for new connections (None without TLS), loaded once; a file
    /// that cannot be used is INVALID_ARGUMENT naming it.
    pub(crate) fn link_tls(&mut self) -> Result<Option<ClientTls>, Error> {
        if !self.tls_on {
            return Ok(None);
        }
        self.tls
            .load("gearman_worker_set_ssl", &mut self.settings.error)
            .map(Some)
    }

    /// Applies the TLS choice to every server; a connection open the other way is dropped
    /// (and made again by the next use).
    pub(crate) fn sync_tls(&mut self) -> Result<(), Error> {
        let tls = self.link_tls()?;
        for s in &mut self.servers {
            if s.link.set_tls(tls.clone()) {
                s.lost();
            }
        }
        Ok(())
    }

    crate::endpoint::settings_accessors!();

    /// Sets the timeout and turns on "timeout return": `work` then returns TIMEOUT after
    /// `ms` without a job.
    pub fn set_timeout(&mut self, ms: i32) {
        self.settings.set_timeout(ms);
        self.timeout_return = true;
    }

    /// The "timeout return" flag (`GEARMAN_WORKER_TIMEOUT_RETURN`). Turning it off installs
    /// the 10 s re-poll timeout, as libgearman does.
    pub fn set_timeout_return(&mut self, on: bool) {
        self.timeout_return = on;
        if !on {
            self.settings.set_timeout(WAIT_TIMEOUT_MS);
        }
    }

    /// Whether `work` returns TIMEOUT when the timeout passes without a job.
    pub fn timeout_return(&self) -> bool {
        self.timeout_return
    }

    /// Whether the worker is in non-blocking mode.
    pub fn non_blocking(&self) -> bool {
        self.non_blocking
    }

    /// In non-blocking mode a grab returns IO_WAIT instead of waiting for the server's
    /// reply, and NO_JOBS instead of sleeping; use [`Worker::wait`] in between.
    pub fn set_non_blocking(&mut self, on: bool) {
        self.non_blocking = on;
        // A non-blocking worker never spins, not even where it blocks anyway (echo).
        self.spin.set_enabled(!on);
        for s in &mut self.servers {
            s.link.set_spin_enabled(!on);
        }
    }

    /// The grab command in use.
    pub fn grab_mode(&self) -> GrabMode {
        self.grab
    }

    /// Chooses the grab command (GRAB_JOB_ALL by default).
    pub fn set_grab_mode(&mut self, mode: GrabMode) {
        self.grab = mode;
    }

    /// Stores an identifier without sending it now (new connections send it first), e.g. for
    /// `gearman_worker_clone` or the IDENTIFIER option. Validated like `set_identifier`.
    pub fn remember_identifier(&mut self, id: &[u8]) -> Result<(), Error> {
        self.settings
            .remember_identifier(id, "gearman_worker_set_identifier")
    }

    /// Copies a timeout as it is (the public setters couple timeout and TIMEOUT_RETURN).
    pub fn set_timeout_raw(&mut self, ms: i32, timeout_return: bool) {
        self.settings.set_timeout(ms);
        self.timeout_return = timeout_return;
    }

    /// Read and write descriptors of the wake-up pipe (`gearman_worker_id`).
    pub fn wake_fds(&self) -> (i32, i32) {
        (self.wake.read_fd(), self.wake.write_fd())
    }

    /// Makes a blocked (or the next) wait return SHUTDOWN_GRACEFUL. Callable through the
    /// descriptor from another thread with [`crate::net::wake::interrupt_fd`].
    pub fn interrupt(&self) -> Result<(), Error> {
        self.wake
            .interrupt()
            .map_err(|e| Error::from_io("gearman_kill", &e))
    }

    // ----- functions -----

    /// Registers a function run by a Rust handler. `timeout` > 0 registers with
    /// CAN_DO_TIMEOUT (seconds, enforced by the server). Sent with the next grab.
    pub fn add_function<F>(&mut self, name: &str, timeout: u32, handler: F) -> Result<(), Error>
    where
        F: FnMut(&mut JobContext<'_>) -> WorkResult + Send + 'static,
    {
        self.register_with(name.as_bytes(), timeout, Callback::Rust(Box::new(handler)))
    }

    /// Registers a function with any kind of callback (none, Rust, or foreign). Name empty or
    /// longer than 512 bytes → INVALID_ARGUMENT. The newest registration of a name wins.
    pub fn register_with(
        &mut self,
        name: &[u8],
        timeout: u32,
        callback: Callback,
    ) -> Result<(), Error> {
        if let Err(e) = crate::endpoint::check_function_name("gearman_worker_register", name.len())
        {
            return self.fail(e);
        }
        let full_name = self.settings.prefixed(name);
        self.registry.add(FunctionEntry {
            full_name,
            name: name.to_vec(),
            timeout,
            callback,
            removed: false,
        });
        Ok(())
    }

    /// Unregisters the newest registration of `name` (CANT_DO with the next grab);
    /// NO_REGISTERED_FUNCTION if there is none.
    pub fn unregister(&mut self, name: &[u8]) -> Result<(), Error> {
        if self.registry.remove(name) {
            Ok(())
        } else {
            self.fail(Error::new(
                ReturnCode::NoRegisteredFunction,
                "gearman_worker_unregister",
                "function not registered",
            ))
        }
    }

    /// Drops every registration (RESET_ABILITIES with the next grab);
    /// NO_REGISTERED_FUNCTIONS if there were none.
    pub fn unregister_all(&mut self) -> Result<(), Error> {
        if self.registry.remove_all() {
            Ok(())
        } else {
            self.fail(Error::new(
                ReturnCode::NoRegisteredFunctions,
                "gearman_worker_unregister_all",
                "no functions registered",
            ))
        }
    }

    /// True if `name` (without namespace) is registered and not being removed.
    pub fn function_exists(&self, name: &[u8]) -> bool {
        self.registry.find(name).is_some()
    }

    /// The function registrations.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    // ----- request/reply helpers -----

    /// Sends OPTION_REQ to every server; remembered and replayed on reconnects on success.
    pub fn set_server_option(&mut self, option: &[u8]) -> Result<(), Error> {
        endpoint::set_server_option(self, option)
    }

    /// Validates and stores the identifier, and sends SET_CLIENT_ID to every server now
    /// (failures ignored); new connections send it first.
    pub fn set_identifier(&mut self, id: &[u8]) -> Result<(), Error> {
        if let Err(e) = self.remember_identifier(id) {
            return self.fail(e);
        }
        let timeout = self.wait_timeout();
        for si in 0..self.servers.len() {
            if self.servers[si].link.is_connected() {
                let s = &mut self.servers[si];
                s.link.queue(Command::SetClientId, &[id]);
                if s.link.flush_blocking(timeout).is_err() {
                    s.lost();
                }
            } else {
                let _ = self.connect(si);
            }
        }
        Ok(())
    }

    /// One blocking request/reply with server `si`: replies owed to the connection preamble,
    /// NOOPs and anything else not accepted by `want` are skipped.
    fn exchange(
        &mut self,
        si: usize,
        command: Command,
        args: &[&[u8]],
        want: impl Fn(Command) -> bool,
    ) -> Result<crate::net::Reply, Error> {
        self.sync_tls()?;
        if !self.servers[si].link.is_connected() {
            self.connect(si)?;
        }
        let timeout = self.wait_timeout();
        let s = &mut self.servers[si];
        s.link.queue(command, args);
        let r = (|| {
            s.link.flush_blocking(timeout)?;
            loop {
                let reply = s.link.recv_blocking(timeout)?;
                let preamble = s.option_replies > 0
                    && matches!(reply.command, Command::OptionRes | Command::Error);
                if preamble {
                    s.option_replies -= 1;
                } else if want(reply.command) {
                    return Ok(reply);
                } else if reply.command == Command::Error {
                    return Err(server_error("exchange", &reply, ReturnCode::ServerError));
                }
            }
        })();
        // Link failures have closed the link; remember to back off before reconnecting.
        if r.is_err() && !s.link.is_connected() {
            s.lost();
        }
        r
    }
}

crate::endpoint::endpoint_impl!(
    Worker,
    "gearman_worker_echo",
    "gearman_worker_set_server_option"
);
