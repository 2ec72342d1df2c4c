//! `gearman_worker_st` (upstream interface/worker.h): the lifecycle, settings, servers and error
//! accessors of a worker. The worker itself is [`WorkerImpl`]; functions, `work`, `grab_job` and
//! the other networked calls are in `worker_functions.rs`, jobs in `job.rs`.

use std::ffi::c_void;
use std::os::raw::{c_char, c_int};

use super::boundary::{buf, cstr, entry, handle, handle_opt, storage};
use super::callbacks::{
    gearman_calloc_fn, gearman_free_fn, gearman_log_fn, gearman_malloc_fn, gearman_realloc_fn,
};
use super::enums::{RawVerbose, RawWorkerOptions};
use super::error::{code_of, LogSettings};
use super::kill::gearman_id_t;
use super::return_code::{GearmanReturn, INVALID};
use super::shells::gearman_worker_st;
use super::worker_impl::{self, WorkerImpl, WorkerRef};

/// `gearman_worker_st *gearman_worker_create(gearman_worker_st *worker);`
///
/// Caller storage or a library-allocated shell; reads `GEARMAN_SERVERS` (a list that
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
    entry!(std::ptr::null_mut(), {
        match WorkerImpl::create(true) {
            Some(w) => w.install(storage!(worker)),
            None => std::ptr::null_mut(),
        }
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
    entry!(std::ptr::null_mut(), {
        let source: Option<WorkerRef> = handle_opt!(from);
        let made = match source {
            Some(src) => src.cloned(),
            None => WorkerImpl::create(true),
        };
        match made {
            Some(w) => w.install(storage!(worker)),
            None => std::ptr::null_mut(),
        }
    })
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
    entry!((), {
        worker_impl::release_worker(handle!(worker));
    })
}

/// `const char *gearman_worker_error(const gearman_worker_st *worker);`: NULL for a fresh worker
/// (SUCCESS), `"GEARMAN_UNKNOWN_STATE"` after a successful networked call, else the last message
/// or code name. Valid until the worker's error changes. Invalid → NULL.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_error(worker: *const gearman_worker_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(worker).error_ptr() })
}

/// `int gearman_worker_errno(gearman_worker_st *worker);`: the saved errno; invalid → EINVAL.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_errno(worker: *mut gearman_worker_st) -> c_int {
    entry!(libc::EINVAL, { handle!(worker).core.error_state().errno() })
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
    entry!(RawWorkerOptions(0), {
        RawWorkerOptions(handle!(worker).option_bits())
    })
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
    entry!((), {
        handle!(worker).set_options(options.0);
    })
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
    entry!((), {
        handle!(worker).add_options(options.0);
    })
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
    entry!((), {
        handle!(worker).remove_options(options.0);
    })
}

/// `int gearman_worker_timeout(gearman_worker_st *worker);`: ms, −1 infinite (default). Invalid →
/// 0 (as 1.1.20; the client answers −1).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_timeout(worker: *mut gearman_worker_st) -> c_int {
    entry!(0, { handle!(worker).core.timeout() })
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
    entry!((), {
        handle!(worker).core.set_timeout(timeout);
    })
}

/// `void gearman_worker_set_ssl(gearman_worker_st *worker, bool ssl, const char *ca_file, const char *certificate, const char *key_file);`
///
/// Declared by libgearman 1.1.20's worker.h but first exported by gearmand 2.0: as
/// `gearman_client_set_ssl`, for a worker (the flag is `GEARMAN_WORKER_SSL`).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; each non-NULL path a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_ssl(
    worker: *mut gearman_worker_st,
    ssl: bool,
    ca_file: *const c_char,
    certificate: *const c_char,
    key_file: *const c_char,
) {
    entry!((), {
        let mut w: WorkerRef = handle!(worker);
        let config =
            w.core
                .tls_config()
                .with_paths(cstr!(ca_file), cstr!(certificate), cstr!(key_file));
        w.core.set_tls(Some(config));
        w.core.set_tls_enabled(ssl);
    })
}

/// `void *gearman_worker_context(const gearman_worker_st *worker);` (invalid → NULL).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_context(worker: *const gearman_worker_st) -> *mut c_void {
    entry!(std::ptr::null_mut(), { handle!(worker).context })
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
    entry!((), {
        handle!(worker).context = context;
    })
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
    entry!((), {
        handle!(worker).log = LogSettings {
            function,
            context,
            verbosity: verbose,
        };
    })
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
    entry!((), {
        handle!(worker).allocator.set_malloc(function, context);
    })
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
    entry!((), {
        handle!(worker).allocator.set_free(function, context);
    })
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
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        w.allocator
            .set_all(malloc_fn, free_fn, realloc_fn, calloc_fn, context)
            .into()
    })
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
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        let host = String::from_utf8_lossy(cstr!(host).unwrap_or_default());
        code_of(w.core.add_server(&host, port))
    })
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
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        code_of(match cstr!(servers) {
            Some(list) => w.core.add_servers(&String::from_utf8_lossy(list)),
            None => w.core.add_server("", 0),
        })
    })
}

/// `void gearman_worker_remove_servers(gearman_worker_st *worker);`: closes and forgets every server.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_remove_servers(worker: *mut gearman_worker_st) {
    entry!((), {
        handle!(worker).core.remove_servers();
    })
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
    entry!((), {
        let mut w: WorkerRef = handle!(self_);
        let key = buf!(namespace_key, namespace_key_size);
        w.core.set_namespace((!key.is_null()).then(|| key.bytes()));
    })
}

/// `const char *gearman_worker_namespace(gearman_worker_st *self);`: the prefix or NULL.
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_namespace(self_: *mut gearman_worker_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(self_)
            .core
            .settings()
            .namespace_with_nul()
            .map_or(std::ptr::null(), |t| t.as_ptr().cast())
    })
}

/// `gearman_id_t gearman_worker_id(gearman_worker_st *self);`: the wake-up pipe `{read_fd,
/// write_fd}` for `gearman_kill()`. Invalid → `{-1, -1}` (1.1.20 crashes on a NULL `_impl`).
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_id(self_: *mut gearman_worker_st) -> gearman_id_t {
    entry!(gearman_id_t::NONE, {
        let (read_fd, write_fd) = handle!(self_).core.wake_fds();
        gearman_id_t { read_fd, write_fd }
    })
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
    entry!(INVALID, {
        const OP: &str = "gearman_worker_set_identifier";
        let mut w: WorkerRef = handle!(worker);
        // NULL reads as empty; the length is checked before the bytes are read.
        let id = buf!(id, id_size)
            .checked(|len| crate::endpoint::check_identifier_len(OP, len.unwrap_or(0)));
        match id {
            Ok(id) => code_of(w.core.set_identifier(id)),
            Err(e) => w.record_error(&e),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::enums::gearman_worker_options_t as Opt;

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
