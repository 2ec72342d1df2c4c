//! What `_impl` of a `gearman_worker_st` ([`WorkerImpl`]: the core [`Worker`] plus what only C
//! has) and of a `gearman_job_st` ([`JobImpl`]) point to, their typed handles, and the logic
//! several worker and job exports share. A job belongs to its worker (the worker frees what C
//! did not), which is why both live here.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::allocator::WorkloadAllocator;
use super::boundary::{self, CBuf, Handle, Shell, Storage};
use super::client_impl::ClientImpl;
use super::enums::gearman_worker_options_t as Opt;
use super::error::{to_c, LogSettings};
use super::function::gearman_function_t;
use super::reducer::Reducer;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::shells::{gearman_client_st, gearman_job_st, gearman_worker_st};
use super::task_impl;
use crate::error::{Error, ReturnCode};
use crate::worker::{Callback, GrabMode, Job, Worker};

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
    pub(crate) context: *mut c_void,
    pub(crate) log: LogSettings,
    pub(crate) allocator: WorkloadAllocator,
    pub(crate) functions: Vec<ForeignFunction>,
    grab_uniq: bool,
    grab_all: bool,
    /// 1.1.20's quirk Q7 (docs/libgearman-quirks.md): after a failed job `work()` returns the
    /// failure code and the next `work()` only returns SUCCESS without grabbing.
    pub(crate) deferred_noop: bool,
    /// The failed job, kept until that next `work()` (or the worker is freed), as 1.1.20
    /// keeps it: its allocator sees the job's buffers released then.
    pub(crate) deferred_job: Option<*mut JobImpl>,
    /// The result buffer of a failed v1 function, kept until the next job's function runs (or
    /// the worker is freed), as 1.1.20 keeps it.
    pub(crate) kept_result: *mut c_void,
    /// Jobs from `gearman_worker_grab_job` not freed yet (freed with the worker, as 1.1.20).
    pub(crate) jobs: Vec<*mut JobImpl>,
}

impl WorkerImpl {
    /// A worker around `core` with 1.1.20's default grab flags.
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
            deferred_noop: false,
            deferred_job: None,
            kept_result: std::ptr::null_mut(),
            jobs: Vec::new(),
        }
    }

    /// A new worker, with `GEARMAN_SERVERS` applied when `from_env` (a list that does not
    /// resolve: None); None too when the wake-up pipe cannot be made.
    pub fn create(from_env: bool) -> Option<WorkerImpl> {
        let core = if from_env {
            Worker::from_env()
        } else {
            Worker::new()
        };
        core.ok().map(WorkerImpl::new)
    }

    /// Boxes the worker and installs it in `storage` (or a library-allocated shell).
    pub fn install(self, storage: Storage<'_, gearman_worker_st>) -> *mut gearman_worker_st {
        let raw = Box::into_raw(Box::new(self));
        let shell = storage.attach(raw.cast());
        // SAFETY: `raw` is the live box just made, not shared yet.
        unsafe { (*raw).shell = shell };
        shell
    }

    /// Releases a worker made by [`WorkerImpl::install`]: the jobs C did not free, the kept
    /// failed job and result, the core (connections, wake-up pipe), then the shell (caller
    /// storage keeps `is_initialized`, as 1.1.20 does).
    ///
    /// # Safety
    ///
    /// `this` must come from [`WorkerImpl::install`], be live and not be used afterwards.
    pub unsafe fn destroy(this: *mut WorkerImpl) {
        // SAFETY: made by `install` with `Box::into_raw`; released once (caller guarantee).
        let mut imp = unsafe { Box::from_raw(this) };
        imp.dispose_deferred();
        imp.release_kept_result();
        imp.free_jobs();
        let shell = imp.shell;
        drop(imp);
        // SAFETY: the shell `install` attached, which refers to the released worker.
        unsafe {
            let caller_storage = !(*shell).is_allocated();
            boundary::shell_release(shell);
            // Measured with 1.1.20: a worker in caller storage keeps `is_initialized` set after
            // `gearman_worker_free` (only `_impl` and `is_allocated` are cleared).
            if caller_storage {
                (*shell).options.is_initialized = true;
            }
        }
    }

    /// The shell C sees.
    pub fn shell(&self) -> *mut gearman_worker_st {
        self.shell
    }

    /// Records an error raised by the C layer itself (argument checks); returns its code.
    pub fn record(&mut self, code: ReturnCode, operation: &str, detail: &str) -> GearmanReturn {
        self.record_error(&Error::new(code, operation, detail))
    }

    /// Records `e`; returns its code.
    pub fn record_error(&mut self, e: &Error) -> GearmanReturn {
        self.core.error_state_mut().record(e);
        to_c(e.code())
    }

    /// Hands the messages recorded since the last call to the log callback (level ERROR, or
    /// FATAL for allocation failures, when the worker's verbosity reaches it).
    pub fn flush_log(&mut self) {
        if self.core.error_state().has_log() {
            let log = self.log;
            // SAFETY: the log fn was installed by C with the gearman_log_fn signature.
            unsafe { log.flush(self.core.error_state_mut()) };
        }
    }

    /// `gearman_worker_error()`: NULL for SUCCESS, else the core's NUL-terminated text.
    pub fn error_ptr(&self) -> *const c_char {
        self.core.error_state().c_text()
    }

    /// Registers a C callback under `name`.
    pub fn register_foreign(
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
                to_c(e.code())
            }
        }
    }

    /// `gearman_worker_options()`.
    pub fn option_bits(&self) -> u32 {
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
            (self.core.tls_enabled(), Opt::GEARMAN_WORKER_SSL),
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

    /// `gearman_worker_add_options`.
    pub fn add_options(&mut self, options: u32) {
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
            self.core.set_tls_enabled(true);
        }
        if has(Opt::GEARMAN_WORKER_IDENTIFIER) {
            let id = crate::client::unique::uuid_v1();
            // A UUID is always a valid identifier.
            let _ = self.core.remember_identifier(id.as_bytes());
        }
    }

    /// `gearman_worker_remove_options`.
    pub fn remove_options(&mut self, options: u32) {
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
            self.core.set_tls_enabled(false);
        }
        if has(Opt::GEARMAN_WORKER_IDENTIFIER) {
            self.core.clear_identifier();
        }
    }

    /// `gearman_worker_set_options`: for NON_BLOCKING, GRAB_UNIQ, GRAB_ALL, TIMEOUT_RETURN,
    /// SSL, IDENTIFIER in that order: present → added, absent → removed.
    pub fn set_options(&mut self, options: u32) {
        for bit in [
            Opt::GEARMAN_WORKER_NON_BLOCKING,
            Opt::GEARMAN_WORKER_GRAB_UNIQ,
            Opt::GEARMAN_WORKER_GRAB_ALL,
            Opt::GEARMAN_WORKER_TIMEOUT_RETURN,
            Opt::GEARMAN_WORKER_SSL,
            Opt::GEARMAN_WORKER_IDENTIFIER,
        ] {
            if options & bit as u32 != 0 {
                self.add_options(bit as u32);
            } else {
                self.remove_options(bit as u32);
            }
        }
    }

    /// `gearman_worker_clone`: a worker (no `GEARMAN_SERVERS`) with this one's option flags,
    /// timeout, namespace, identifier, log function, servers (in reverse order, as 1.1.20) and
    /// every function (same callbacks, contexts and timeouts, re-registered oldest first so
    /// dispatch order is kept).
    pub fn cloned(&self) -> Option<WorkerImpl> {
        let src = self;
        let mut imp = WorkerImpl::create(false)?;
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
        imp.grab_uniq = src.grab_uniq;
        imp.grab_all = src.grab_all;
        // The TLS files too (1.1.20 copies only the flag).
        imp.core.set_tls(Some(src.core.tls_config().clone()));
        imp.core.set_tls_enabled(src.core.tls_enabled());
        imp.log = src.log;
        Some(imp)
    }

    /// Frees every job obtained with `grab_job` that C has not freed.
    pub fn free_jobs(&mut self) {
        for job in std::mem::take(&mut self.jobs) {
            // SAFETY: the list only holds live jobs of this worker; each is released once.
            unsafe { JobImpl::destroy(job, false) };
        }
    }

    /// Releases the job `work()` kept after a failure (see `deferred_job`).
    pub fn dispose_deferred(&mut self) {
        if let Some(job) = self.deferred_job.take() {
            // SAFETY: the job `work()` made and kept, released once.
            unsafe { JobImpl::destroy(job, false) };
        }
    }

    /// Releases the result buffer a failed v1 function returned (see `kept_result`).
    pub fn release_kept_result(&mut self) {
        let result = std::mem::replace(&mut self.kept_result, std::ptr::null_mut());
        // SAFETY: the v1 callback handed the buffer to the library; it comes from the
        // worker's allocator (libc unless C installed one) and is released once.
        unsafe { self.allocator.free(result) };
    }

    /// A client configured like this worker (`gearman_job_use_client`, map jobs' reducers),
    /// installed in a library-allocated shell; NULL when it cannot be made.
    pub fn client_like(&self) -> *mut gearman_client_st {
        let servers = self.core.servers();
        let non_blocking = self.core.non_blocking();
        match ClientImpl::configured_like(self.core.settings(), &servers, self.log, non_blocking) {
            Some(c) => c.install(Storage::heap()),
            None => std::ptr::null_mut(),
        }
    }
}

/// Frees a client made by [`WorkerImpl::client_like`] (NULL: nothing).
///
/// # Safety
///
/// `client` must be NULL or a shell `client_like` installed, not used afterwards.
unsafe fn free_client(client: *mut gearman_client_st) {
    // SAFETY: forwarded caller guarantee.
    if let Some(c) = unsafe { <super::client_impl::ClientRef as Handle>::from_c(client) } {
        task_impl::release_client(c);
    }
}

/// `gearman_worker_free`: the worker and its shell (see [`WorkerImpl::destroy`]).
pub fn release_worker(worker: WorkerRef) {
    let ptr = worker.into_ptr();
    // SAFETY: a live worker made by `install` (the handle's guarantee), not used afterwards.
    unsafe { WorkerImpl::destroy(ptr) };
}

boundary::object_handle! {
    /// The typed handle of a valid worker argument. The messages recorded while it is in use
    /// go to the worker's log callback when it goes out of scope.
    WorkerRef: gearman_worker_st => WorkerImpl
}

impl WorkerRef {
    /// Gives the worker up without flushing its log (it is about to be released).
    pub fn into_ptr(self) -> *mut WorkerImpl {
        let ptr = self.ptr();
        std::mem::forget(self);
        ptr
    }
}

impl Drop for WorkerRef {
    fn drop(&mut self) {
        // The worker is still live (released workers go through `into_ptr`).
        self.flush_log();
    }
}

/// What `_impl` of a `gearman_job_st` points to.
pub struct JobImpl {
    pub(crate) job: Job,
    /// The owning worker (outlives the job: freeing a worker frees its jobs).
    pub(crate) worker: *mut WorkerImpl,
    shell: *mut gearman_job_st,
    /// `handle\0function\0unique\0`: the strings the accessors return.
    strings: Vec<u8>,
    function_at: usize,
    unique_at: usize,
    /// Registered in the worker's list of grabbed jobs.
    pub(crate) linked: bool,
    /// The client `gearman_job_use_client` created (owned by the job), or NULL.
    pub(crate) client: *mut gearman_client_st,
    /// A map job's reducer, built when a partition function runs it.
    pub(crate) reducer: Option<Reducer>,
    /// With a custom allocator, the workload in a buffer from it (1.1.20 receives it into
    /// one): what `gearman_job_workload` points at and `gearman_job_take_workload` hands over.
    /// NULL otherwise, or once taken.
    pub(crate) workload_buf: *mut c_void,
}

impl JobImpl {
    /// Wraps a job for C in `storage` (or a library shell); `linked` jobs are freed with the
    /// worker if C does not free them.
    pub fn create(
        job: Job,
        worker: &WorkerRef,
        storage: Storage<'_, gearman_job_st>,
        linked: bool,
    ) -> *mut JobImpl {
        let worker = worker.ptr();
        let mut strings = Vec::with_capacity(
            job.handle().len() + job.function_name().len() + job.unique().len() + 3,
        );
        strings.extend_from_slice(job.handle());
        strings.push(0);
        let function_at = strings.len();
        strings.extend_from_slice(job.function_name());
        strings.push(0);
        let unique_at = strings.len();
        strings.extend_from_slice(job.unique());
        strings.push(0);
        // SAFETY: a live worker (the handle's guarantee).
        let allocator = unsafe { (*worker).allocator };
        let workload_buf = if allocator.is_custom() && !job.workload().is_empty() {
            // SAFETY: the installed allocator has the C signatures.
            unsafe { allocator.copy(job.workload()) }
        } else {
            std::ptr::null_mut()
        };
        let raw = Box::into_raw(Box::new(JobImpl {
            job,
            worker,
            shell: std::ptr::null_mut(),
            strings,
            function_at,
            unique_at,
            linked,
            client: std::ptr::null_mut(),
            reducer: None,
            workload_buf,
        }));
        let shell = storage.attach(raw.cast());
        // SAFETY: `raw` is the fresh box; `worker` is live.
        unsafe {
            (*raw).shell = shell;
            if linked {
                (*worker).jobs.push(raw);
            }
        }
        raw
    }

    /// The shell C sees.
    pub fn shell(&self) -> *mut gearman_job_st {
        self.shell
    }

    /// Releases a job and its shell; `unlink` removes it from the worker's list first.
    ///
    /// # Safety
    ///
    /// `job` must come from [`JobImpl::create`] and not be used afterwards.
    pub unsafe fn destroy(job: *mut JobImpl, unlink: bool) {
        // SAFETY: caller guarantee.
        let imp = unsafe { Box::from_raw(job) };
        if unlink && imp.linked {
            // SAFETY: the owning worker outlives its jobs.
            let list = unsafe { &mut (*imp.worker).jobs };
            list.retain(|&j| j != job);
        }
        let shell = imp.shell;
        // SAFETY: the job's own client (or NULL), released with the job.
        unsafe { free_client(imp.client) };
        // SAFETY: the workload buffer came from the worker's allocator (the worker outlives
        // its jobs) and was not handed to C.
        unsafe { (*imp.worker).allocator.free(imp.workload_buf) };
        drop(imp);
        // SAFETY: the shell was attached by `create` and still refers to the released job.
        unsafe { boundary::shell_release(shell) };
    }

    /// `gearman_job_workload`: the workload (in the allocator's buffer when there is one),
    /// NULL when empty.
    pub fn workload_ptr(&self) -> *const c_void {
        if self.job.workload().is_empty() {
            std::ptr::null()
        } else if !self.workload_buf.is_null() {
            self.workload_buf.cast_const()
        } else {
            self.job.workload().as_ptr().cast()
        }
    }

    /// The job handle, NUL-terminated.
    pub fn handle_cstr(&self) -> *const c_char {
        self.strings.as_ptr().cast()
    }

    /// The function name, NUL-terminated.
    pub fn function_cstr(&self) -> *const c_char {
        self.strings[self.function_at..].as_ptr().cast()
    }

    /// The unique, NUL-terminated.
    pub fn unique_cstr(&self) -> *const c_char {
        self.strings[self.unique_at..].as_ptr().cast()
    }
}

boundary::object_handle! {
    /// The typed handle of a valid job argument.
    JobRef: gearman_job_st => JobImpl
}

impl JobRef {
    /// `gearman_job_free`: a job from `grab_job` is released with its shell. The job a
    /// function callback receives belongs to `gearman_worker_work`, which releases it when
    /// the callback returns: freeing it here would leave `work` with a dangling job (1.1.20
    /// crashes), so that is a no-op.
    pub fn free(self) {
        if self.linked {
            // SAFETY: a live grabbed job (the handle's guarantee), released once.
            unsafe { JobImpl::destroy(self.ptr(), true) };
        }
    }

    /// The job and its worker, borrowed together.
    pub fn parts(&mut self) -> (&mut Job, &mut WorkerImpl) {
        // SAFETY: a live job (`from_c`) and its worker, which outlives it; two separate
        // allocations, borrowed for the handle's borrow.
        unsafe {
            let j = &mut *self.ptr();
            (&mut j.job, &mut *j.worker)
        }
    }

    /// The owning worker.
    pub fn worker(&mut self) -> &mut WorkerImpl {
        self.parts().1
    }

    /// Sends one report with a data part for the job after checking that a packet can carry
    /// it (ARGUMENT_TOO_LARGE, recorded on the worker, before the buffer is read); see
    /// [`JobRef::send`].
    pub fn send_with_data(
        &mut self,
        operation: &str,
        data: CBuf<'_>,
        op: impl FnOnce(&mut Worker, &mut Job, &[u8]) -> Result<(), Error>,
    ) -> GearmanReturn {
        let handle_len = self.job.handle().len();
        let checked = data.checked(|len| {
            crate::endpoint::check_packet(operation, &[handle_len], len.unwrap_or(0))
        });
        match checked {
            Ok(data) => self.send(Some(data), op),
            Err(e) => {
                let worker = self.worker();
                let code = worker.record_error(&e);
                worker.flush_log();
                code
            }
        }
    }

    /// `gearman_job_take_workload`: the workload in a buffer from the worker's allocator (the
    /// one holding it when there is one) and its size; NULL and 0 when empty or out of memory.
    pub fn take_workload(&mut self) -> (*mut c_void, usize) {
        let len = self.job.workload().len();
        if len == 0 {
            return (std::ptr::null_mut(), 0);
        }
        let buffer = std::mem::replace(&mut self.workload_buf, std::ptr::null_mut());
        let (job, worker) = self.parts();
        let p = if buffer.is_null() {
            // SAFETY: the installed allocator has the C signatures (the setter's contract).
            unsafe { worker.allocator.copy(job.workload()) }
        } else {
            buffer
        };
        if p.is_null() {
            worker.record(
                ReturnCode::MemoryAllocationFailure,
                "gearman_job_take_workload",
                "workload allocation failed",
            );
            return (std::ptr::null_mut(), 0);
        }
        job.take_workload();
        (p, len)
    }

    /// Sends one report for the job through its worker (WORK_DATA, ...), then logs any error
    /// recorded; the data part, if any, goes through a copy from the worker's allocator when
    /// C installed one (1.1.20 copies each report's data into such a buffer).
    pub fn send(
        &mut self,
        data: Option<&[u8]>,
        op: impl FnOnce(&mut Worker, &mut Job, &[u8]) -> Result<(), Error>,
    ) -> GearmanReturn {
        let (job, worker) = self.parts();
        let allocator = worker.allocator;
        let r = match data {
            Some(d) if allocator.is_custom() && !job.is_finished() => {
                with_allocator_copy(allocator, d, |d| op(&mut worker.core, job, d))
            }
            d => op(&mut worker.core, job, d.unwrap_or(&[])),
        };
        worker.flush_log();
        match r {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(e) => to_c(e.code()),
        }
    }
}

/// Runs `f` on a copy of `data` in a buffer of `allocator`, released afterwards: 1.1.20
/// copies the data of each packet it sends for a job into one.
pub fn with_allocator_copy<R>(
    allocator: WorkloadAllocator,
    data: &[u8],
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    // SAFETY: the installed allocator has the C signatures.
    let p = unsafe { allocator.copy(data) };
    if p.is_null() {
        return f(data);
    }
    // SAFETY: `p` holds `data.len()` bytes just copied.
    let r = f(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), data.len()) });
    // SAFETY: from the allocator just above; released once.
    unsafe { allocator.free(p) };
    r
}
