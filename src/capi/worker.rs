//! `gearman_worker_st`: the caller-visible handle of a worker (upstream interface/worker.h), its
//! implementation object, and the worker's lifecycle, settings, servers and error accessors.
//!
//! Functions, `work`, `grab_job` and the other networked calls are in `worker_functions.rs`; jobs
//! are in `job.rs`. Everything here only presents the Rust core's [`Worker`].

use std::ffi::c_void;
use std::os::raw::{c_char, c_int};

use super::allocator::WorkloadAllocator;
use super::boundary::{self, Shell};
use super::callbacks::{
    gearman_calloc_fn, gearman_free_fn, gearman_log_fn, gearman_malloc_fn, gearman_realloc_fn,
};
use super::enums::{gearman_worker_options_t as Opt, RawVerbose, RawWorkerOptions};
use super::error::LogSettings;
use super::function::gearman_function_t;
use super::job::JobImpl;
use super::kill::gearman_id_t;
use super::return_code::{gearman_return_t, GearmanReturn};
use crate::error::{Error, ReturnCode};
use crate::worker::{Callback, GrabMode, Worker};

/// The `options` member of `gearman_worker_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_worker_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_worker_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_worker_st {
    pub options: gearman_worker_options_st,
    pub _impl: *mut c_void,
}

boundary::impl_shell!(gearman_worker_st);

/// A C callback registered for a function: the `gearman_function_t` and its context. The core's
/// registry refers to it as `Callback::Foreign(index into WorkerImpl::functions)`.
#[derive(Clone, Copy)]
pub struct ForeignFunction {
    pub function: gearman_function_t,
    pub context: *mut c_void,
}

/// What `_impl` of a `gearman_worker_st` points to.
pub struct WorkerImpl {
    pub(crate) core: Worker,
    shell: *mut gearman_worker_st,
    context: *mut c_void,
    log: LogSettings,
    pub(crate) allocator: WorkloadAllocator,
    pub(crate) functions: Vec<ForeignFunction>,
    grab_uniq: bool,
    grab_all: bool,
    ssl: bool,
    /// 1.1.20's quirk Q7: after a failed job `work()` returns the failure code and the next
    /// `work()` only returns SUCCESS without grabbing.
    pub(crate) deferred_noop: bool,
    /// The failed job, kept until that next `work()` (or the worker is freed), as 1.1.20
    /// keeps it: its allocator sees the job's buffers released then.
    pub(crate) deferred_job: Option<*mut JobImpl>,
    /// The result buffer of a failed v1 function, kept until the next job's function runs (or
    /// the worker is freed), as 1.1.20 keeps it.
    pub(crate) kept_result: *mut c_void,
    /// Jobs from `gearman_worker_grab_job` not freed yet (freed with the worker, as 1.1.20).
    pub(crate) jobs: Vec<*mut JobImpl>,
    /// The NUL-terminated copy `gearman_worker_namespace()` returns.
    namespace_text: Option<Vec<u8>>,
}

/// Raw value of a core return code.
pub(crate) use super::error::to_c as rc;

/// The implementation behind a worker shell, or None for an invalid worker.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell whose `_impl` is NULL or a live `WorkerImpl`.
pub(crate) unsafe fn worker_impl(worker: *const gearman_worker_st) -> Option<*mut WorkerImpl> {
    // SAFETY: forwarded caller guarantee.
    unsafe { boundary::impl_of(worker) }.map(|p| p.cast::<WorkerImpl>())
}

/// Borrows a C byte string of `len` bytes (empty for NULL).
///
/// # Safety
///
/// A non-NULL `ptr` must be readable for `len` bytes during `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const c_void, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: caller guarantee.
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
}

/// Borrows a NUL-terminated C string (None for NULL).
///
/// # Safety
///
/// A non-NULL `ptr` must point to a NUL-terminated string live during `'a`.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: caller guarantee.
    (!ptr.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())
}

impl WorkerImpl {
    fn new(core: Worker) -> WorkerImpl {
        WorkerImpl {
            core,
            shell: std::ptr::null_mut(),
            context: std::ptr::null_mut(),
            log: LogSettings::default(),
            allocator: WorkloadAllocator::default(),
            functions: Vec::new(),
            grab_uniq: true,
            grab_all: true,
            ssl: false,
            deferred_noop: false,
            deferred_job: None,
            kept_result: std::ptr::null_mut(),
            jobs: Vec::new(),
            namespace_text: None,
        }
    }

    /// Boxes `imp` and installs it in `caller` (or a library-allocated shell).
    ///
    /// # Safety
    ///
    /// A non-NULL `caller` must be writable storage for a shell.
    unsafe fn install(imp: WorkerImpl, caller: *mut gearman_worker_st) -> *mut gearman_worker_st {
        let raw = Box::into_raw(Box::new(imp));
        // SAFETY: forwarded caller guarantee.
        let shell = unsafe { boundary::shell_attach(caller, raw.cast()) };
        // SAFETY: `raw` is the live box just created.
        unsafe { (*raw).shell = shell };
        shell
    }

    /// The log settings (copied to clients made for jobs).
    pub(crate) fn log_settings(&self) -> LogSettings {
        self.log
    }

    /// The shell C sees.
    pub(crate) fn shell(&self) -> *mut gearman_worker_st {
        self.shell
    }

    /// Records an error raised by the C layer itself (argument checks).
    pub(crate) fn record(
        &mut self,
        code: ReturnCode,
        operation: &str,
        detail: &str,
    ) -> GearmanReturn {
        self.core
            .error_state_mut()
            .record(&Error::new(code, operation, detail));
        rc(code)
    }

    /// Registers a C callback under `name`.
    pub(crate) fn register_foreign(
        &mut self,
        name: &[u8],
        timeout: u32,
        function: gearman_function_t,
        context: *mut c_void,
    ) -> GearmanReturn {
        let id = self.functions.len();
        self.functions.push(ForeignFunction { function, context });
        match self
            .core
            .register_with(name, timeout, Callback::Foreign(id))
        {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(e) => {
                self.functions.pop();
                rc(e.code())
            }
        }
    }

    /// `gearman_worker_options()`.
    fn options(&self) -> u32 {
        let mut o = Opt::GEARMAN_WORKER_PACKET_INIT as u32;
        // SAFETY: `shell` is the live shell this implementation is installed in.
        if !self.shell.is_null() && unsafe { (*self.shell).is_allocated() } {
            o |= Opt::GEARMAN_WORKER_ALLOCATED as u32;
        }
        let flags = [
            (self.core.non_blocking(), Opt::GEARMAN_WORKER_NON_BLOCKING),
            (
                self.core.registry().has_changes(),
                Opt::GEARMAN_WORKER_CHANGE,
            ),
            (self.grab_uniq, Opt::GEARMAN_WORKER_GRAB_UNIQ),
            (self.grab_all, Opt::GEARMAN_WORKER_GRAB_ALL),
            (
                self.core.timeout_return(),
                Opt::GEARMAN_WORKER_TIMEOUT_RETURN,
            ),
            (self.ssl, Opt::GEARMAN_WORKER_SSL),
            (
                self.core.identifier().is_some(),
                Opt::GEARMAN_WORKER_IDENTIFIER,
            ),
        ];
        for (on, bit) in flags {
            if on {
                o |= bit as u32;
            }
        }
        o
    }

    fn add_options(&mut self, options: u32) {
        let has = |bit: Opt| options & bit as u32 != 0;
        if has(Opt::GEARMAN_WORKER_NON_BLOCKING) {
            self.core.set_non_blocking(true);
        }
        if has(Opt::GEARMAN_WORKER_GRAB_UNIQ) {
            self.core.set_grab_mode(GrabMode::Uniq);
            self.grab_uniq = true;
        }
        if has(Opt::GEARMAN_WORKER_GRAB_ALL) {
            self.core.set_grab_mode(GrabMode::All);
            self.grab_all = true;
        }
        if has(Opt::GEARMAN_WORKER_TIMEOUT_RETURN) {
            self.core.set_timeout_return(true);
        }
        if has(Opt::GEARMAN_WORKER_SSL) {
            self.ssl = true;
        }
        if has(Opt::GEARMAN_WORKER_IDENTIFIER) {
            let id = crate::client::unique::uuid_v1();
            // A UUID is always a valid identifier.
            let _ = self.core.remember_identifier(id.as_bytes());
        }
    }

    fn remove_options(&mut self, options: u32) {
        let has = |bit: Opt| options & bit as u32 != 0;
        if has(Opt::GEARMAN_WORKER_NON_BLOCKING) {
            self.core.set_non_blocking(false);
        }
        if has(Opt::GEARMAN_WORKER_TIMEOUT_RETURN) {
            // Also installs the 10 s re-poll timeout, as 1.1.20.
            self.core.set_timeout_return(false);
        }
        // Removing either grab flag switches to plain GRAB_JOB even if the other stays set.
        if has(Opt::GEARMAN_WORKER_GRAB_UNIQ) {
            self.core.set_grab_mode(GrabMode::Plain);
            self.grab_uniq = false;
        }
        if has(Opt::GEARMAN_WORKER_GRAB_ALL) {
            self.core.set_grab_mode(GrabMode::Plain);
            self.grab_all = false;
        }
        if has(Opt::GEARMAN_WORKER_SSL) {
            self.ssl = false;
        }
        if has(Opt::GEARMAN_WORKER_IDENTIFIER) {
            self.core.clear_identifier();
        }
    }

    /// `gearman_worker_error()`: NULL for SUCCESS, else the core's NUL-terminated text.
    pub(crate) fn error_ptr(&self) -> *const c_char {
        self.core.error_state().c_text()
    }

    /// Frees every job obtained with `grab_job` that C has not freed.
    pub(crate) fn free_jobs(&mut self) {
        for job in std::mem::take(&mut self.jobs) {
            // SAFETY: the list only holds live jobs of this worker; each is released once.
            unsafe { JobImpl::destroy(job, false) };
        }
    }

    /// Releases the job `work()` kept after a failure (see `deferred_job`).
    pub(crate) fn dispose_deferred(&mut self) {
        if let Some(job) = self.deferred_job.take() {
            // SAFETY: the job `work()` made and kept, released once.
            unsafe { JobImpl::destroy(job, false) };
        }
    }

    /// Releases the result buffer a failed v1 function returned (see `kept_result`).
    pub(crate) fn release_kept_result(&mut self) {
        let result = std::mem::replace(&mut self.kept_result, std::ptr::null_mut());
        // SAFETY: the v1 callback handed the buffer to the library; it comes from the
        // worker's allocator (libc unless C installed one) and is released once.
        unsafe { self.allocator.free(result) };
    }
}

/// Hands the messages the core recorded since the last call to the log callback (level ERROR, or
/// FATAL for allocation failures, when the worker's verbosity reaches it).
///
/// # Safety
///
/// `w` must be a live `WorkerImpl`; its log function (if any) a `gearman_log_fn` that does not
/// free the worker.
pub(crate) unsafe fn emit_log(w: *mut WorkerImpl) {
    // SAFETY: caller guarantee.
    let wi = unsafe { &mut *w };
    if wi.core.error_state().has_log() {
        let log = wi.log;
        // SAFETY: forwarded caller guarantee about the log function.
        unsafe { log.flush(wi.core.error_state_mut()) };
    }
}

/// Runs `body` on the implementation of a valid worker (`invalid` otherwise, or on a panic), then
/// passes recorded errors to the log callback.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
pub(crate) unsafe fn with_worker<R>(
    worker: *const gearman_worker_st,
    invalid: R,
    body: impl FnOnce(*mut WorkerImpl) -> R,
) -> R
where
    R: Copy,
{
    boundary::guard(invalid, || {
        // SAFETY: forwarded caller guarantee.
        let Some(w) = (unsafe { worker_impl(worker) }) else {
            return invalid;
        };
        let r = body(w);
        // SAFETY: `w` is still live (freeing a worker goes through other paths).
        unsafe { emit_log(w) };
        r
    })
}

/// A new worker implementation, with `GEARMAN_SERVERS` applied when `from_env`.
fn new_impl(from_env: bool) -> Option<WorkerImpl> {
    let mut core = Worker::new().ok()?;
    if from_env {
        if let Ok(list) = std::env::var("GEARMAN_SERVERS") {
            core.add_servers(&list).ok()?;
        }
    }
    Some(WorkerImpl::new(core))
}

/// `gearman_worker_st *gearman_worker_create(gearman_worker_st *worker);`
///
/// Caller storage or a library-allocated shell (spec §2.1); reads `GEARMAN_SERVERS` (a list that
/// does not resolve → NULL); creates the wake-up pipe (failure → NULL). No sockets.
///
/// # Safety
///
/// A non-NULL `worker` must be writable storage for a `gearman_worker_st` (its old contents are
/// never read).
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_create(
    worker: *mut gearman_worker_st,
) -> *mut gearman_worker_st {
    boundary::guard(std::ptr::null_mut(), || match new_impl(true) {
        // SAFETY: forwarded caller guarantee.
        Some(imp) => unsafe { WorkerImpl::install(imp, worker) },
        None => std::ptr::null_mut(),
    })
}

/// `gearman_worker_st *gearman_worker_clone(gearman_worker_st *worker, const gearman_worker_st *from);`
///
/// `from` NULL (or without implementation, where 1.1.20 crashes) → `gearman_worker_create(worker)`.
/// Otherwise a new worker (no `GEARMAN_SERVERS`) with `from`'s option flags, timeout, namespace,
/// identifier, log function, servers (in reverse order, as 1.1.20) and every function (same
/// callbacks, contexts and timeouts, re-registered oldest first so dispatch order is kept).
///
/// # Safety
///
/// As [`gearman_worker_create`]; a non-NULL `from` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_clone(
    worker: *mut gearman_worker_st,
    from: *const gearman_worker_st,
) -> *mut gearman_worker_st {
    // SAFETY: forwarded caller guarantee.
    let Some(source) = (unsafe { worker_impl(from) }) else {
        // SAFETY: forwarded caller guarantee.
        return unsafe { gearman_worker_create(worker) };
    };
    boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: `source` is a live implementation (caller guarantee).
        let src = unsafe { &*source };
        match clone_impl(src) {
            // SAFETY: forwarded caller guarantee.
            Some(imp) => unsafe { WorkerImpl::install(imp, worker) },
            None => std::ptr::null_mut(),
        }
    })
}

fn clone_impl(src: &WorkerImpl) -> Option<WorkerImpl> {
    let mut imp = new_impl(false)?;
    let core = &mut imp.core;
    core.set_non_blocking(src.core.non_blocking());
    core.set_grab_mode(src.core.grab_mode());
    core.set_timeout_raw(src.core.timeout(), src.core.timeout_return());
    if let Some(id) = src.core.identifier() {
        core.remember_identifier(id).ok()?;
    }
    for (host, port) in src.core.servers() {
        core.add_server(&host, port).ok()?;
    }
    // Oldest first, each with the namespace it was registered under.
    let entries: Vec<_> = src.core.registry().entries().collect();
    for e in entries.iter().rev() {
        let prefix_len = e.full_name().len() - e.name().len();
        let prefix = &e.full_name()[..prefix_len];
        imp.core
            .set_namespace((!prefix.is_empty()).then_some(prefix));
        let callback = match e.callback() {
            Callback::Foreign(id) => {
                let f = src.functions.get(*id)?;
                imp.functions.push(*f);
                Callback::Foreign(imp.functions.len() - 1)
            }
            _ => Callback::None,
        };
        imp.core
            .register_with(e.name(), e.timeout(), callback)
            .ok()?;
    }
    imp.core.set_namespace(src.core.namespace());
    imp.namespace_text = src.namespace_text.clone();
    imp.grab_uniq = src.grab_uniq;
    imp.grab_all = src.grab_all;
    imp.ssl = src.ssl;
    imp.log = src.log;
    Some(imp)
}

/// `void gearman_worker_free(gearman_worker_st *worker);`
///
/// Frees the jobs obtained with `grab_job` and not freed yet (their shells become invalid, as in
/// 1.1.20), closes every connection (nothing is sent: the server re-queues unfinished jobs) and
/// the wake-up pipe; caller storage is detached, a library shell released. Invalid → no-op.
///
/// # Safety
///
/// `worker` must be NULL or a live shell, not used afterwards (except caller storage, which may
/// be created again).
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_free(worker: *mut gearman_worker_st) {
    boundary::guard((), || {
        // SAFETY: forwarded caller guarantee.
        let Some(w) = (unsafe { worker_impl(worker) }) else {
            return;
        };
        // SAFETY: `w` came from `WorkerImpl::install` and is released exactly once here.
        let mut imp = unsafe { Box::from_raw(w) };
        imp.dispose_deferred();
        imp.release_kept_result();
        imp.free_jobs();
        drop(imp);
        // SAFETY: the shell is live; its implementation is gone.
        unsafe {
            let caller_storage = !(*worker).is_allocated();
            boundary::shell_release(worker);
            // Measured with 1.1.20: a worker in caller storage keeps `is_initialized` set after
            // `gearman_worker_free` (only `_impl` and `is_allocated` are cleared).
            if caller_storage {
                (*worker).options.is_initialized = true;
            }
        }
    })
}

/// `const char *gearman_worker_error(const gearman_worker_st *worker);`: NULL for a fresh worker
/// (SUCCESS), `"GEARMAN_UNKNOWN_STATE"` after a successful networked call, else the last message
/// or code name (spec §4). Valid until the worker's error changes. Invalid → NULL.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_error(worker: *const gearman_worker_st) -> *const c_char {
    boundary::guard(std::ptr::null(), || {
        // SAFETY: forwarded caller guarantee.
        match unsafe { worker_impl(worker) } {
            // SAFETY: a live implementation; no other borrow is active during this call.
            Some(w) => unsafe { (*w).error_ptr() },
            None => std::ptr::null(),
        }
    })
}

/// `int gearman_worker_errno(gearman_worker_st *worker);`: the saved errno; invalid → EINVAL.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_errno(worker: *mut gearman_worker_st) -> c_int {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, libc::EINVAL, |w| (*w).core.error_state().errno()) }
}

/// `gearman_worker_options_t gearman_worker_options(const gearman_worker_st *worker);`
///
/// OR of ALLOCATED, NON_BLOCKING, PACKET_INIT (always), CHANGE (registrations not sent yet),
/// GRAB_UNIQ, GRAB_ALL, TIMEOUT_RETURN, SSL, IDENTIFIER. Fresh: 645 heap / 644 caller storage.
/// Invalid → 0.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_options(
    worker: *const gearman_worker_st,
) -> RawWorkerOptions {
    // SAFETY: forwarded caller guarantee.
    RawWorkerOptions(unsafe { with_worker(worker, 0, |w| (*w).options()) })
}

/// `void gearman_worker_set_options(gearman_worker_st *worker, gearman_worker_options_t options);`
///
/// For NON_BLOCKING, GRAB_UNIQ, GRAB_ALL, TIMEOUT_RETURN, SSL, IDENTIFIER in that order: present →
/// added, absent → removed (so e.g. `set_options(NON_BLOCKING)` selects plain GRAB_JOB and a
/// 10000 ms timeout, as 1.1.20). Invalid → no-op.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_options(
    worker: *mut gearman_worker_st,
    options: RawWorkerOptions,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, (), |w| {
            let wi = &mut *w;
            for bit in [
                Opt::GEARMAN_WORKER_NON_BLOCKING,
                Opt::GEARMAN_WORKER_GRAB_UNIQ,
                Opt::GEARMAN_WORKER_GRAB_ALL,
                Opt::GEARMAN_WORKER_TIMEOUT_RETURN,
                Opt::GEARMAN_WORKER_SSL,
                Opt::GEARMAN_WORKER_IDENTIFIER,
            ] {
                if options.0 & bit as u32 != 0 {
                    wi.add_options(bit as u32);
                } else {
                    wi.remove_options(bit as u32);
                }
            }
        })
    }
}

/// `void gearman_worker_add_options(gearman_worker_st *worker, gearman_worker_options_t options);`
///
/// NON_BLOCKING; GRAB_UNIQ (GRAB_JOB_UNIQ), then GRAB_ALL (GRAB_JOB_ALL); TIMEOUT_RETURN; SSL (a
/// flag only); IDENTIFIER (a new time-based UUID as identifier). Invalid → no-op.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_options(
    worker: *mut gearman_worker_st,
    options: RawWorkerOptions,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).add_options(options.0)) }
}

/// `void gearman_worker_remove_options(gearman_worker_st *worker, gearman_worker_options_t options);`
///
/// NON_BLOCKING off; TIMEOUT_RETURN off and timeout := 10000 ms; GRAB_UNIQ or GRAB_ALL off →
/// plain GRAB_JOB; SSL off; IDENTIFIER → identifier removed. Invalid → no-op.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_remove_options(
    worker: *mut gearman_worker_st,
    options: RawWorkerOptions,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).remove_options(options.0)) }
}

/// `int gearman_worker_timeout(gearman_worker_st *worker);`: ms, −1 infinite (default). Invalid →
/// 0 (as 1.1.20; the client answers −1).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_timeout(worker: *mut gearman_worker_st) -> c_int {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, 0, |w| (*w).core.timeout()) }
}

/// `void gearman_worker_set_timeout(gearman_worker_st *worker, int timeout);`: also turns on
/// TIMEOUT_RETURN (`work()` then returns GEARMAN_TIMEOUT after `timeout` ms without a job).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_timeout(
    worker: *mut gearman_worker_st,
    timeout: c_int,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).core.set_timeout(timeout)) }
}

/// `void *gearman_worker_context(const gearman_worker_st *worker);` (invalid → NULL).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_context(worker: *const gearman_worker_st) -> *mut c_void {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, std::ptr::null_mut(), |w| (*w).context) }
}

/// `void gearman_worker_set_context(gearman_worker_st *worker, void *context);`
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_context(
    worker: *mut gearman_worker_st,
    context: *mut c_void,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).context = context) }
}

/// `void gearman_worker_set_log_fn(gearman_worker_st *worker, gearman_log_fn *function, void *context, gearman_verbose_t verbose);`
///
/// Errors recorded from now on are passed to `function` when `verbose` ≥ their level (ERROR;
/// FATAL for allocation failures). NULL `function` → no logging.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function` NULL or a `gearman_log_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_log_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_log_fn,
    context: *mut c_void,
    verbose: RawVerbose,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, (), |w| {
            (*w).log = LogSettings {
                function,
                context,
                verbosity: verbose,
            }
        })
    }
}

/// `void gearman_worker_set_workload_malloc_fn(gearman_worker_st *worker, gearman_malloc_fn *function, void *context);`
///
/// Used for buffers handed to C (`gearman_job_take_workload`). The context is shared with the
/// free function (last setter wins).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function` NULL or a `gearman_malloc_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_workload_malloc_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_malloc_fn,
    context: *mut c_void,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).allocator.set_malloc(function, context)) }
}

/// `void gearman_worker_set_workload_free_fn(gearman_worker_st *worker, gearman_free_fn *function, void *context);`
///
/// Releases the result buffers v1 functions return (PHP installs efree here).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function` NULL or a `gearman_free_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_workload_free_fn(
    worker: *mut gearman_worker_st,
    function: *mut gearman_free_fn,
    context: *mut c_void,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).allocator.set_free(function, context)) }
}

/// `gearman_return_t gearman_worker_set_memory_allocators(gearman_worker_st *, gearman_malloc_fn *malloc_fn, gearman_free_fn *free_fn, gearman_realloc_fn *realloc_fn, gearman_calloc_fn *calloc_fn, void *context);`
///
/// All four NULL → libc again; all four set → installed; a mix → GEARMAN_FATAL (WORK_FAIL), nothing
/// changed. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; each function NULL or of its slot's signature.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_memory_allocators(
    worker: *mut gearman_worker_st,
    malloc_fn: *mut gearman_malloc_fn,
    free_fn: *mut gearman_free_fn,
    realloc_fn: *mut gearman_realloc_fn,
    calloc_fn: *mut gearman_calloc_fn,
    context: *mut c_void,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            (*w).allocator
                .set_all(malloc_fn, free_fn, realloc_fn, calloc_fn, context)
                .into()
        })
    }
}

/// `gearman_return_t gearman_worker_add_server(gearman_worker_st *worker, const char *host, in_port_t port);`
///
/// Resolves now (GETADDRINFO on failure), connects later. NULL/"" host → localhost, port 0 →
/// 4730. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `host` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_server(
    worker: *mut gearman_worker_st,
    host: *const c_char,
    port: u16,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let host = c_str(host).unwrap_or_default();
            let host = String::from_utf8_lossy(host);
            match (*w).core.add_server(&host, port) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => rc(e.code()),
            }
        })
    }
}

/// `gearman_return_t gearman_worker_add_servers(gearman_worker_st *worker, const char *servers);`
///
/// A `host[:port],...` list (1.1.20's parser: no IPv6 brackets, no trimming); stops at the first
/// failure. NULL list → localhost:4730. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `servers` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_servers(
    worker: *mut gearman_worker_st,
    servers: *const c_char,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let r = match c_str(servers) {
                Some(list) => (*w).core.add_servers(&String::from_utf8_lossy(list)),
                None => (*w).core.add_server("", 0),
            };
            match r {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => rc(e.code()),
            }
        })
    }
}

/// `void gearman_worker_remove_servers(gearman_worker_st *worker);`: closes and forgets every server.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_remove_servers(worker: *mut gearman_worker_st) {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, (), |w| (*w).core.remove_servers()) }
}

/// `void gearman_worker_set_namespace(gearman_worker_st *self, const char *namespace_key, size_t namespace_key_size);`
///
/// The prefix of functions registered from now on (NULL removes it).
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell; a non-NULL key readable for `namespace_key_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_namespace(
    self_: *mut gearman_worker_st,
    namespace_key: *const c_char,
    namespace_key_size: usize,
) {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(self_, (), |w| {
            let wi = &mut *w;
            if namespace_key.is_null() {
                wi.core.set_namespace(None);
                wi.namespace_text = None;
            } else {
                let key = bytes(namespace_key.cast(), namespace_key_size);
                wi.core.set_namespace(Some(key));
                let mut text = key.to_vec();
                text.push(0);
                wi.namespace_text = Some(text);
            }
        })
    }
}

/// `const char *gearman_worker_namespace(gearman_worker_st *self);`: the prefix or NULL.
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_namespace(self_: *mut gearman_worker_st) -> *const c_char {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(self_, std::ptr::null(), |w| {
            (*w).namespace_text
                .as_ref()
                .map_or(std::ptr::null(), |t| t.as_ptr().cast())
        })
    }
}

/// `gearman_id_t gearman_worker_id(gearman_worker_st *self);`: the wake-up pipe `{read_fd,
/// write_fd}` for `gearman_kill()`. Invalid → `{-1, -1}` (1.1.20 crashes on a NULL `_impl`).
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_id(self_: *mut gearman_worker_st) -> gearman_id_t {
    let invalid = gearman_id_t {
        read_fd: -1,
        write_fd: -1,
    };
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(self_, invalid, |w| {
            let (read_fd, write_fd) = (*w).core.wake_fds();
            gearman_id_t { read_fd, write_fd }
        })
    }
}

/// `gearman_return_t gearman_worker_set_identifier(gearman_worker_st *worker, const char *id, size_t id_size);`
///
/// Validates (printable, ≤ 254 bytes), stores it and sends SET_CLIENT_ID to the connected servers
/// (new connections send it first). Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; a non-NULL `id` readable for `id_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_identifier(
    worker: *mut gearman_worker_st,
    id: *const c_char,
    id_size: usize,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            // NULL reads as empty; the length is checked before the bytes are read.
            let len = if id.is_null() { 0 } else { id_size };
            let op = "gearman_worker_set_identifier";
            if let Err(e) = crate::endpoint::check_identifier_len(op, len) {
                (*w).core.error_state_mut().record(&e);
                return rc(e.code());
            }
            match (*w).core.set_identifier(bytes(id.cast(), id_size)) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => rc(e.code()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_options_and_free_in_caller_storage() {
        let mut storage = std::mem::MaybeUninit::<gearman_worker_st>::uninit();
        // SAFETY: the storage is writable; every call gets live shells.
        unsafe {
            let w = gearman_worker_create(storage.as_mut_ptr());
            assert_eq!(w, storage.as_mut_ptr());
            assert_eq!(gearman_worker_options(w).0, 644);
            assert!(gearman_worker_error(w).is_null());
            assert_eq!(gearman_worker_timeout(w), -1);
            gearman_worker_set_options(
                w,
                RawWorkerOptions(Opt::GEARMAN_WORKER_NON_BLOCKING as u32),
            );
            assert_eq!(gearman_worker_options(w).0, 6);
            assert_eq!(gearman_worker_timeout(w), 10_000);
            gearman_worker_free(w);
            assert!((*w)._impl.is_null());
            assert_eq!(gearman_worker_options(w).0, 0);
            assert_eq!(gearman_worker_timeout(std::ptr::null_mut()), 0);
            assert_eq!(gearman_worker_errno(std::ptr::null_mut()), libc::EINVAL);
        }
    }
}
