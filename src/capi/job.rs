//! `gearman_job_st`: the caller-visible handle of a job (owned by its worker) (upstream
//! interface/job.h), and the `gearman_job_*` functions, presenting the core's [`Job`].
//!
//! A job comes from `gearman_worker_grab_job` (the caller frees it; the worker frees what is left
//! when it is freed) or is passed to a function's callback during `gearman_worker_work` (freed
//! when `work` returns). The strings handed to C are NUL-terminated copies owned by the job.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary;
use super::client::{
    gearman_client_add_options, gearman_client_add_server, gearman_client_create,
    gearman_client_free, gearman_client_set_log_fn, gearman_client_set_namespace,
    gearman_client_set_timeout, gearman_client_st,
};
use super::client_run::gearman_client_set_identifier;
use super::enums::{gearman_client_options_t, RawClientOptions};
use super::reducer::Reducer;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::worker::{bytes, emit_log, gearman_worker_clone, gearman_worker_error, rc, WorkerImpl};
use crate::error::{Error, ReturnCode};
use crate::worker::Job;

/// The `options` member of `gearman_job_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_job_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_job_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_job_st {
    pub options: gearman_job_options_st,
    pub _impl: *mut c_void,
}

boundary::impl_shell!(gearman_job_st);

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
    linked: bool,
    /// The client `gearman_job_use_client` created (owned by the job), or NULL.
    client: *mut gearman_client_st,
    /// A map job's reducer, built when a partition function runs it.
    pub(crate) reducer: Option<Reducer>,
    /// With a custom allocator, the workload in a buffer from it (1.1.20 receives it into
    /// one): what `gearman_job_workload` points at and `gearman_job_take_workload` hands over.
    /// NULL otherwise, or once taken.
    workload_buf: *mut c_void,
}

impl JobImpl {
    /// Wraps a job for C in `caller` storage (or a library shell); `linked` jobs are freed with
    /// the worker if C does not free them.
    ///
    /// # Safety
    ///
    /// `worker` must be live; a non-NULL `caller` must be writable storage for a shell.
    pub(crate) unsafe fn create(
        job: Job,
        worker: *mut WorkerImpl,
        caller: *mut gearman_job_st,
        linked: bool,
    ) -> *mut JobImpl {
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
        // SAFETY: `worker` is live (caller guarantee).
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
        // SAFETY: forwarded caller guarantee for `caller`; `raw` is the fresh box.
        unsafe {
            (*raw).shell = boundary::shell_attach(caller, raw.cast());
            if linked {
                (*worker).jobs.push(raw);
            }
        }
        raw
    }

    /// The shell C sees.
    pub(crate) fn shell(&self) -> *mut gearman_job_st {
        self.shell
    }

    /// Releases a job and its shell; `unlink` removes it from the worker's list first.
    ///
    /// # Safety
    ///
    /// `job` must come from [`JobImpl::create`] and not be used afterwards.
    pub(crate) unsafe fn destroy(job: *mut JobImpl, unlink: bool) {
        // SAFETY: caller guarantee.
        let imp = unsafe { Box::from_raw(job) };
        if unlink && imp.linked {
            // SAFETY: the owning worker outlives its jobs.
            let list = unsafe { &mut (*imp.worker).jobs };
            list.retain(|&j| j != job);
        }
        let shell = imp.shell;
        // SAFETY: the job's own client from `gearman_job_use_client`, released once.
        unsafe { gearman_client_free(imp.client) };
        // SAFETY: the workload buffer came from the worker's allocator (the worker outlives
        // its jobs) and was not handed to C.
        unsafe { (*imp.worker).allocator.free(imp.workload_buf) };
        drop(imp);
        // SAFETY: the shell was attached by `create` and still refers to the released job.
        unsafe { boundary::shell_release(shell) };
    }

    fn c_string(&self, at: usize) -> *const c_char {
        self.strings[at..].as_ptr().cast()
    }
}

/// The implementation behind a job shell, or None for an invalid job.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell whose `_impl` is NULL or a live `JobImpl`.
unsafe fn job_impl(job: *const gearman_job_st) -> Option<*mut JobImpl> {
    // SAFETY: forwarded caller guarantee.
    unsafe { boundary::impl_of(job) }.map(|p| p.cast::<JobImpl>())
}

/// Runs `body` on a valid job (`invalid` otherwise or on a panic).
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
unsafe fn with_job<R: Copy>(
    job: *const gearman_job_st,
    invalid: R,
    body: impl FnOnce(*mut JobImpl) -> R,
) -> R {
    boundary::guard(invalid, || {
        // SAFETY: forwarded caller guarantee.
        match unsafe { job_impl(job) } {
            Some(j) => body(j),
            None => invalid,
        }
    })
}

/// Sends one report for a job through its worker, then logs any error recorded.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
unsafe fn send(
    job: *mut gearman_job_st,
    op: impl FnOnce(&mut crate::worker::Worker, &mut Job) -> Result<(), Error>,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe { send_from(job, |wi, j| op(&mut wi.core, j)) }
}

/// [`send`] with the whole worker implementation (its allocator) at hand.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
unsafe fn send_from(
    job: *mut gearman_job_st,
    op: impl FnOnce(&mut WorkerImpl, &mut Job) -> Result<(), Error>,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, rc(ReturnCode::InvalidArgument), |j| {
            let w = (*j).worker;
            let r = op(&mut *w, &mut (*j).job);
            emit_log(w);
            match r {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => rc(e.code()),
            }
        })
    }
}

/// Sends one report with a data part for a job, after checking that a packet can carry
/// `size` bytes (ARGUMENT_TOO_LARGE, recorded on the worker, before the buffer is read).
///
/// # Safety
///
/// A non-NULL `job` must be a live shell; non-NULL `data` readable for `size` bytes.
unsafe fn send_with_data(
    job: *mut gearman_job_st,
    op: &str,
    data: *const c_void,
    size: usize,
    send_op: impl FnOnce(&mut crate::worker::Worker, &mut Job, &[u8]) -> Result<(), Error>,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    if let Some(j) = unsafe { job_impl(job) } {
        // SAFETY: a live job of a live worker.
        let (w, handle_len) = unsafe { ((*j).worker, (*j).job.handle().len()) };
        if let Err(e) = crate::endpoint::check_packet(op, &[handle_len], size) {
            // SAFETY: the owning worker outlives its jobs.
            unsafe {
                (*w).core.error_state_mut().record(&e);
                emit_log(w);
            }
            return rc(e.code());
        }
    }
    // SAFETY: forwarded caller guarantee; `size` fits a packet.
    unsafe {
        send_from(job, |wi, j| {
            let data = bytes(data, size);
            let allocator = wi.allocator;
            if allocator.is_custom() && !j.is_finished() {
                with_allocator_copy(allocator, data, |d| send_op(&mut wi.core, j, d))
            } else {
                send_op(&mut wi.core, j, data)
            }
        })
    }
}

/// Runs `f` on a copy of `data` in a buffer of `allocator`, released afterwards: 1.1.20
/// copies the data of each packet it sends for a job into one.
pub(crate) fn with_allocator_copy<R>(
    allocator: super::allocator::WorkloadAllocator,
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

/// `void gearman_job_free(gearman_job_st *job);`
///
/// Releases a job from `grab_job` (nothing is sent: an unfinished job stays with this worker
/// until its connection closes); caller storage is detached, a library shell released. The job
/// passed to a function callback is released by `work` itself (a no-op here). Invalid → no-op.
///
/// # Safety
///
/// `job` must be NULL or a live shell, not used afterwards. Jobs passed to a function callback
/// belong to `gearman_worker_work` and must not be freed by C.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_free(job: *mut gearman_job_st) {
    boundary::guard((), || {
        // SAFETY: forwarded caller guarantee.
        if let Some(j) = unsafe { job_impl(job) } {
            // The job a callback receives belongs to `gearman_worker_work`, which releases it
            // when the callback returns: freeing it here would leave `work` with a dangling job
            // (1.1.20 crashes), so that is a no-op.
            // SAFETY: a live job from `JobImpl::create`.
            if unsafe { (*j).linked } {
                // SAFETY: a grabbed job, released once.
                unsafe { JobImpl::destroy(j, true) };
            }
        }
    })
}

/// `void gearman_job_free_all(gearman_worker_st *worker);`: frees every job the worker handed out
/// with `grab_job` and C has not freed. Invalid → no-op.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; the freed jobs must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_free_all(worker: *mut super::worker::gearman_worker_st) {
    // SAFETY: forwarded caller guarantee.
    unsafe { super::worker::with_worker(worker, (), |w| (*w).free_jobs()) }
}

/// `gearman_return_t gearman_job_send_data(gearman_job_st *job, const void *data, size_t data_size);`
///
/// WORK_DATA, written out before returning (also on a non-blocking worker). After the job was
/// finished → SUCCESS without sending. Send failure → its code (LOST_CONNECTION, ...). Invalid →
/// INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell; non-NULL `data` readable for `data_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_data(
    job: *mut gearman_job_st,
    data: *const c_void,
    data_size: usize,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        // A map job's data goes to its reducer.
        if let Some(j) = job_impl(job) {
            if let (false, Some(r)) = ((*j).job.is_finished(), (*j).reducer.as_mut()) {
                return boundary::guard(rc(ReturnCode::InvalidArgument), || {
                    match crate::endpoint::check_packet("gearman_job_send_data", &[], data_size) {
                        Ok(()) => r.add(bytes(data, data_size)),
                        Err(e) => rc(e.code()),
                    }
                });
            }
        }
        send_with_data(job, "gearman_job_send_data", data, data_size, |w, j, d| {
            w.job_send_data(j, d)
        })
    }
}

/// `gearman_return_t gearman_job_send_warning(gearman_job_st *job, const void *warning, size_t warning_size);`
///
/// WORK_WARNING; rules as [`gearman_job_send_data`].
///
/// # Safety
///
/// As [`gearman_job_send_data`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_warning(
    job: *mut gearman_job_st,
    warning: *const c_void,
    warning_size: usize,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        send_with_data(
            job,
            "gearman_job_send_warning",
            warning,
            warning_size,
            |w, j, d| w.job_send_warning(j, d),
        )
    }
}

/// `gearman_return_t gearman_job_send_status(gearman_job_st *job, uint32_t numerator, uint32_t denominator);`
///
/// WORK_STATUS(handle, "%u", "%u"); rules as [`gearman_job_send_data`].
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_status(
    job: *mut gearman_job_st,
    numerator: u32,
    denominator: u32,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe { send(job, |w, j| w.job_send_status(j, numerator, denominator)) }
}

/// `gearman_return_t gearman_job_send_complete(gearman_job_st *job, const void *result, size_t result_size);`
///
/// WORK_COMPLETE and the job is finished; a finished job → SUCCESS without sending (the first
/// result wins, also over the automatic completion of `work`).
///
/// # Safety
///
/// As [`gearman_job_send_data`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_complete(
    job: *mut gearman_job_st,
    result: *const c_void,
    result_size: usize,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        // A map job completes through its reducer when the function returns (1.1.20).
        if let Some(j) = job_impl(job) {
            if !(*j).job.is_finished() && (*j).reducer.is_some() {
                return rc(ReturnCode::InvalidArgument);
            }
        }
        send_with_data(
            job,
            "gearman_job_send_complete",
            result,
            result_size,
            |w, j, d| w.job_send_complete(j, d),
        )
    }
}

/// `gearman_return_t gearman_job_send_exception(gearman_job_st *job, const void *exception, size_t exception_size);`
///
/// NULL or empty exception → INVALID_ARGUMENT ("No exception was provided", recorded on the
/// worker). Sends WORK_EXCEPTION and finishes the job (the automatic WORK_FAIL/COMPLETE of `work`
/// is then suppressed). Finished job → SUCCESS.
///
/// # Safety
///
/// As [`gearman_job_send_data`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_exception(
    job: *mut gearman_job_st,
    exception: *const c_void,
    exception_size: usize,
) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        send_with_data(
            job,
            "gearman_job_send_exception",
            exception,
            exception_size,
            |w, j, d| w.job_send_exception(j, d),
        )
    }
}

/// `gearman_return_t gearman_job_send_fail(gearman_job_st *job);`: WORK_FAIL(handle) and the job
/// is finished; a finished job → SUCCESS.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_fail(job: *mut gearman_job_st) -> GearmanReturn {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        if let Some(j) = job_impl(job) {
            if !(*j).job.is_finished() && (*j).reducer.is_some() {
                let w = (*j).worker;
                let code = (*w).record(
                    ReturnCode::InvalidArgument,
                    "gearman_job_send_fail",
                    "Job has a reducer",
                );
                emit_log(w);
                return code;
            }
        }
        send(job, |w, j| w.job_send_fail(j))
    }
}

/// `const char *gearman_job_handle(const gearman_job_st *job);`: "H:host:n"; invalid → NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell. The string lives as long as the job.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_handle(job: *const gearman_job_st) -> *const c_char {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_job(job, std::ptr::null(), |j| (*j).c_string(0)) }
}

/// `const char *gearman_job_function_name(const gearman_job_st *job);`: as assigned by the server
/// (namespace included); invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_function_name(job: *const gearman_job_st) -> *const c_char {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_job(job, std::ptr::null(), |j| (*j).c_string((*j).function_at)) }
}

/// `const char *gearman_job_unique(const gearman_job_st *job);`: the unique of JOB_ASSIGN_UNIQ /
/// JOB_ASSIGN_ALL, "" for plain JOB_ASSIGN; invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_unique(job: *const gearman_job_st) -> *const c_char {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_job(job, std::ptr::null(), |j| (*j).c_string((*j).unique_at)) }
}

/// `const void *gearman_job_workload(const gearman_job_st *job);`: the workload bytes (not
/// NUL-terminated by contract), NULL when empty or taken; invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload(job: *const gearman_job_st) -> *const c_void {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, std::ptr::null(), |j| {
            let w = (*j).job.workload();
            if w.is_empty() {
                std::ptr::null()
            } else if !(*j).workload_buf.is_null() {
                (*j).workload_buf.cast_const()
            } else {
                w.as_ptr().cast()
            }
        })
    }
}

/// `size_t gearman_job_workload_size(const gearman_job_st *job);` (invalid → 0).
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload_size(job: *const gearman_job_st) -> usize {
    // SAFETY: forwarded caller guarantee.
    unsafe { with_job(job, 0, |j| (*j).job.workload().len()) }
}

/// `void *gearman_job_take_workload(gearman_job_st *job, size_t *data_size);`
///
/// Detaches the workload: a buffer from the worker's workload malloc (else libc malloc) that the
/// caller frees; the job's workload is NULL/0 afterwards. Empty → NULL and size 0. Invalid → NULL
/// (`*data_size` untouched).
///
/// # Safety
///
/// A non-NULL `job` must be a live shell; `data_size` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_take_workload(
    job: *mut gearman_job_st,
    data_size: *mut usize,
) -> *mut c_void {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, std::ptr::null_mut(), |j| {
            let imp = &mut *j;
            let len = imp.job.workload().len();
            if len == 0 {
                boundary::write_out(data_size, 0);
                return std::ptr::null_mut();
            }
            // The allocator buffer holding the workload is handed over as it is; else a copy.
            let p = if imp.workload_buf.is_null() {
                (*imp.worker).allocator.copy(imp.job.workload())
            } else {
                std::mem::replace(&mut imp.workload_buf, std::ptr::null_mut())
            };
            if p.is_null() {
                let w = imp.worker;
                (*w).record(
                    ReturnCode::MemoryAllocationFailure,
                    "gearman_job_take_workload",
                    "workload allocation failed",
                );
                boundary::write_out(data_size, 0);
                return std::ptr::null_mut();
            }
            boundary::write_out(data_size, len);
            imp.job.take_workload();
            p
        })
    }
}

/// `gearman_worker_st *gearman_job_clone_worker(gearman_job_st *job);`: `gearman_worker_clone(NULL,
/// job's worker)`, a new worker the caller frees. Invalid → NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_clone_worker(
    job: *mut gearman_job_st,
) -> *mut super::worker::gearman_worker_st {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, std::ptr::null_mut(), |j| {
            gearman_worker_clone(std::ptr::null_mut(), (*(*j).worker).shell())
        })
    }
}

/// `const char *gearman_job_error(gearman_job_st *job);`: the owning worker's `error()`. Invalid →
/// NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_error(job: *mut gearman_job_st) -> *const c_char {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, std::ptr::null(), |j| {
            gearman_worker_error((*(*j).worker).shell())
        })
    }
}

/// `gearman_client_st *gearman_job_use_client(gearman_job_st *job);`
///
/// Creates (once per job) a client configured like the job's worker: `gearman_client_create(NULL)`
/// (so `GEARMAN_SERVERS` applies too) plus the worker's servers, timeout, namespace, identifier,
/// log function and non-blocking flag; later calls return the same client. The job owns it:
/// `gearman_job_free` (or the end of `work` for a callback's job) frees it, never the caller.
/// Invalid → NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_use_client(
    job: *mut gearman_job_st,
) -> *mut gearman_client_st {
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_job(job, std::ptr::null_mut(), |j| {
            if (*j).client.is_null() {
                (*j).client = client_like((*j).worker);
            }
            (*j).client
        })
    }
}

/// A new heap client with the worker's settings (NULL when creation fails).
///
/// # Safety
///
/// `w` must be a live worker implementation.
pub(crate) unsafe fn client_like(w: *mut WorkerImpl) -> *mut gearman_client_st {
    // SAFETY: creating a library-allocated client; `w` is live (caller guarantee).
    unsafe {
        let c = gearman_client_create(std::ptr::null_mut());
        if c.is_null() {
            return c;
        }
        let core = &(*w).core;
        for (host, port) in core.servers() {
            let Ok(host) = std::ffi::CString::new(host) else {
                continue;
            };
            gearman_client_add_server(c, host.as_ptr(), port);
        }
        gearman_client_set_timeout(c, core.timeout());
        if let Some(ns) = core.namespace() {
            gearman_client_set_namespace(c, ns.as_ptr().cast(), ns.len());
        }
        if let Some(id) = core.identifier() {
            gearman_client_set_identifier(c, id.as_ptr().cast(), id.len());
        }
        let log = (*w).log_settings();
        gearman_client_set_log_fn(c, log.function, log.context, log.verbosity);
        if core.non_blocking() {
            let nb = gearman_client_options_t::GEARMAN_CLIENT_NON_BLOCKING as u32;
            gearman_client_add_options(c, RawClientOptions(nb));
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::worker::{gearman_worker_create, gearman_worker_error, gearman_worker_free};
    use std::ffi::CStr;

    fn job() -> Job {
        Job {
            handle: b"H:host:7".to_vec(),
            function: b"ns_fn".to_vec(),
            unique: b"u-1".to_vec(),
            reducer: Vec::new(),
            workload: b"payload".to_vec(),
            server: 99,
            generation: 1,
            finished: false,
        }
    }

    #[test]
    fn accessors_take_workload_and_free() {
        // SAFETY: a worker and a job created and released here; strings read while the job lives.
        unsafe {
            let w = gearman_worker_create(std::ptr::null_mut());
            let wi = super::super::worker::worker_impl(w).expect("worker");
            let mut storage = std::mem::MaybeUninit::<gearman_job_st>::uninit();
            let j = JobImpl::create(job(), wi, storage.as_mut_ptr(), true);
            let shell = (*j).shell();
            assert_eq!(shell, storage.as_mut_ptr(), "caller storage honoured");
            assert!(!(*shell).options.is_allocated);
            let text = |p: *const c_char| CStr::from_ptr(p).to_str().unwrap().to_string();
            assert_eq!(text(gearman_job_handle(shell)), "H:host:7");
            assert_eq!(text(gearman_job_function_name(shell)), "ns_fn");
            assert_eq!(text(gearman_job_unique(shell)), "u-1");
            assert_eq!(gearman_job_workload_size(shell), 7);
            let mut size = 0usize;
            let p = gearman_job_take_workload(shell, &mut size);
            assert_eq!(std::slice::from_raw_parts(p.cast::<u8>(), size), b"payload");
            libc::free(p);
            assert!(gearman_job_workload(shell).is_null());
            assert_eq!(gearman_job_workload_size(shell), 0);
            assert!(gearman_job_take_workload(shell, &mut size).is_null());
            // The job's server is not one of the worker's: nothing can be sent.
            let rc = gearman_job_send_complete(shell, b"r".as_ptr().cast(), 1);
            assert_eq!(rc, rc_of(ReturnCode::LostConnection));
            assert!(text(gearman_worker_error(w)).contains("GEARMAN_LOST_CONNECTION"));
            let rc = gearman_job_send_exception(shell, std::ptr::null(), 0);
            assert_eq!(rc, rc_of(ReturnCode::InvalidArgument));
            assert_eq!((*wi).jobs.len(), 1);
            gearman_job_free(shell);
            assert!((*wi).jobs.is_empty());
            assert!((*shell)._impl.is_null());
            gearman_worker_free(w);
        }
    }

    fn rc_of(code: ReturnCode) -> GearmanReturn {
        rc(code)
    }
}
