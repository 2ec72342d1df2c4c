//! `gearman_client_st` (upstream interface/client.h): the lifecycle, settings, servers, callback
//! table and error accessors of a client. The client itself is [`ClientImpl`]; submissions are in
//! `client_submit.rs`, the run loop and server exchanges in `client_run.rs`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::actions::gearman_actions_t;
use super::boundary::{buf, cstr, entry, handle, handle_opt, out, set_errno, storage};
use super::callbacks::{
    gearman_calloc_fn, gearman_complete_fn, gearman_created_fn, gearman_data_fn,
    gearman_exception_fn, gearman_fail_fn, gearman_free_fn, gearman_log_fn, gearman_malloc_fn,
    gearman_realloc_fn, gearman_task_context_free_fn, gearman_universal_status_fn,
    gearman_warning_fn, gearman_workload_fn, in_port_t,
};
use super::client_impl::{ClientImpl, ClientRef};
use super::enums::{RawClientOptions, RawVerbose};
use super::error::{to_c, LogSettings};
use super::return_code::{gearman_return_t, GearmanReturn, INVALID};
use super::shells::gearman_client_st;
use super::task_impl;

/// `void gearman_client_do_status(gearman_client_st *client, uint32_t *numerator, uint32_t *denominator);`
///
/// Deprecated in 1.1.20 and a no-op there: writes 0 to each non-NULL out pointer and ignores `client`
/// (even NULL). PHP's `GearmanClient::doStatus()` relies on the (0, 0) answer.
///
/// # Safety
///
/// Non-NULL `numerator`/`denominator` must be writable `uint32_t`s; `client` is never read.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_status(
    client: *mut gearman_client_st,
    numerator: *mut u32,
    denominator: *mut u32,
) {
    entry!((), {
        let _ = client;
        out!(numerator).set(0);
        out!(denominator).set(0);
    })
}

/// `gearman_client_st *gearman_client_create(gearman_client_st *client);`
///
/// Builds a client in `client` (caller storage) or on the heap (NULL). `GEARMAN_SERVERS` is added
/// when set; if that fails the client is released and NULL returned.
///
/// # Safety
///
/// A non-NULL `client` must be writable for a `gearman_client_st` (its old contents are ignored).
#[no_mangle]
pub unsafe extern "C" fn gearman_client_create(
    client: *mut gearman_client_st,
) -> *mut gearman_client_st {
    entry!(std::ptr::null_mut(), {
        match ClientImpl::create() {
            Some(c) => c.install(storage!(client)),
            None => std::ptr::null_mut(),
        }
    })
}

/// `gearman_client_st *gearman_client_clone(gearman_client_st *client, const gearman_client_st *from);`
///
/// An invalid `from` → exactly `gearman_client_create(client)`. Otherwise copies the option flags,
/// callbacks, timeout, namespace, identifier, log settings and the server list (internal order
/// reversed, as 1.1.20); not the exceptions flag, server options, contexts, allocators, tasks or
/// errors. `GEARMAN_SERVERS` is not read.
///
/// # Safety
///
/// As `gearman_client_create`; `from` NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_clone(
    client: *mut gearman_client_st,
    from: *const gearman_client_st,
) -> *mut gearman_client_st {
    entry!(std::ptr::null_mut(), {
        let made = match handle_opt!(from) {
            Some(src) => src.cloned(),
            None => ClientImpl::create(),
        };
        match made {
            Some(c) => c.install(storage!(client)),
            None => std::ptr::null_mut(),
        }
    })
}

/// `void gearman_client_free(gearman_client_st *client);`
///
/// Frees every task (running the task-context free fn), closes the connections and releases the
/// client; a heap shell is freed, caller storage is cleared. Invalid client: no-op.
///
/// # Safety
///
/// `client` must be NULL or a live client shell, not used by a running callback.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_free(client: *mut gearman_client_st) {
    entry!((), {
        task_impl::release_client(handle!(client));
    })
}

/// `const char *gearman_client_error(const gearman_client_st *client);` NULL on a fresh client
/// and for an invalid one; valid until the next call on the client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_error(client: *const gearman_client_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(client).core.error_state().c_text()
    })
}

/// `gearman_return_t gearman_client_error_code(const gearman_client_st *client);` INVALID_ARGUMENT
/// for an invalid client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_error_code(
    client: *const gearman_client_st,
) -> GearmanReturn {
    entry!(INVALID, { to_c(handle!(client).core.error_state().code()) })
}

/// `int gearman_client_errno(const gearman_client_st *client);` EINVAL for an invalid client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_errno(client: *const gearman_client_st) -> i32 {
    entry!(libc::EINVAL, { handle!(client).core.error_state().errno() })
}

/// `gearman_client_options_t gearman_client_options(const gearman_client_st *client);`
///
/// The flags set (EXCEPTION never reported); 4096 for an invalid client (1.1.20's quirk).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_options(
    client: *const gearman_client_st,
) -> RawClientOptions {
    entry!(RawClientOptions(4096), {
        RawClientOptions(handle!(client).option_bits())
    })
}

/// `void gearman_client_set_options(gearman_client_st *client, gearman_client_options_t options);`
///
/// Each of NON_BLOCKING, UNBUFFERED_RESULT, FREE_TASKS, GENERATE_UNIQUE, EXCEPTION, SSL present is
/// added, absent is removed (EXCEPTION and SSL cannot be removed; EXCEPTION asks every server).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_options(
    client: *mut gearman_client_st,
    options: RawClientOptions,
) {
    entry!((), {
        handle!(client).set_options(options.0);
    })
}

/// `void gearman_client_add_options(gearman_client_st *client, gearman_client_options_t options);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_options(
    client: *mut gearman_client_st,
    options: RawClientOptions,
) {
    entry!((), {
        handle!(client).add_options(options.0);
    })
}

/// `void gearman_client_remove_options(gearman_client_st *client, gearman_client_options_t options);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_remove_options(
    client: *mut gearman_client_st,
    options: RawClientOptions,
) {
    entry!((), {
        handle!(client).remove_options(options.0);
    })
}

/// `bool gearman_client_has_option(gearman_client_st *client, gearman_client_options_t option);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_option(
    client: *mut gearman_client_st,
    option: RawClientOptions,
) -> bool {
    entry!(false, { handle!(client).has_option(option.0) })
}

/// `int gearman_client_timeout(gearman_client_st *client);` −1 for an invalid client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_timeout(client: *mut gearman_client_st) -> i32 {
    entry!(-1, { handle!(client).core.timeout() })
}

/// `void gearman_client_set_timeout(gearman_client_st *client, int timeout);` ms per wait.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_timeout(client: *mut gearman_client_st, timeout: i32) {
    entry!((), {
        handle!(client).core.set_timeout(timeout);
    })
}

/// `void gearman_client_set_ssl(gearman_client_st *client, bool ssl, const char *ca_file, const char *certificate, const char *key_file);`
///
/// Stores the flag (reported by `options()`) and the three files (copied; NULL or "" → the
/// environment variable `GEARMAND_CA_CERTIFICATE` / `GEARMAN_CLIENT_PEM` / `GEARMAN_CLIENT_KEY`,
/// then `/etc/ssl/certs/{gearmand-ca.pem,gearman.pem,gearman.key}`). The files are loaded at the
/// next connection: one that cannot be used makes that call fail with INVALID_ARGUMENT naming it.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; each non-NULL path a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_ssl(
    client: *mut gearman_client_st,
    ssl: bool,
    ca_file: *const c_char,
    certificate: *const c_char,
    key_file: *const c_char,
) {
    entry!((), {
        let mut c: ClientRef = handle!(client);
        let config =
            c.core
                .tls_config()
                .with_paths(cstr!(ca_file), cstr!(certificate), cstr!(key_file));
        c.core.set_tls(Some(config));
        let mut o = c.core.options();
        o.ssl = ssl;
        c.core.set_options(o);
    })
}

/// `void *gearman_client_context(const gearman_client_st *client);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_context(client: *const gearman_client_st) -> *mut c_void {
    entry!(std::ptr::null_mut(), { handle!(client).context })
}

/// `void gearman_client_set_context(gearman_client_st *client, void *context);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_context(
    client: *mut gearman_client_st,
    context: *mut c_void,
) {
    entry!((), {
        handle!(client).context = context;
    })
}

/// `void gearman_client_set_log_fn(gearman_client_st *client, gearman_log_fn *function, void *context, gearman_verbose_t verbose);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or a `gearman_log_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_log_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_log_fn,
    context: *mut c_void,
    verbose: RawVerbose,
) {
    entry!((), {
        handle!(client).log = LogSettings {
            function,
            context,
            verbosity: verbose,
        };
    })
}

/// `void gearman_client_set_workload_malloc_fn(gearman_client_st *client, gearman_malloc_fn *function, void *context);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or a `gearman_malloc_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_malloc_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_malloc_fn,
    context: *mut c_void,
) {
    entry!((), {
        handle!(client).alloc.set_malloc(function, context);
    })
}

/// `void gearman_client_set_workload_free_fn(gearman_client_st *client, gearman_free_fn *function, void *context);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or a `gearman_free_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_free_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_free_fn,
    context: *mut c_void,
) {
    entry!((), {
        handle!(client).alloc.set_free(function, context);
    })
}

/// `gearman_return_t gearman_client_set_memory_allocators(gearman_client_st *, gearman_malloc_fn *malloc_fn, gearman_free_fn *free_fn, gearman_realloc_fn *realloc_fn, gearman_calloc_fn *calloc_fn, void *context);`
///
/// All NULL → libc; all set → installed; a mix → GEARMAN_FATAL, nothing changes. Invalid client →
/// INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; the functions NULL or of their C types.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_memory_allocators(
    client: *mut gearman_client_st,
    malloc_fn: *mut gearman_malloc_fn,
    free_fn: *mut gearman_free_fn,
    realloc_fn: *mut gearman_realloc_fn,
    calloc_fn: *mut gearman_calloc_fn,
    context: *mut c_void,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut c: ClientRef = handle!(client);
        c.alloc
            .set_all(malloc_fn, free_fn, realloc_fn, calloc_fn, context)
            .into()
    })
}

/// `gearman_return_t gearman_client_add_server(gearman_client_st *client, const char *host, in_port_t port);`
///
/// Resolves now (NULL/"" → localhost, 0 → 4730); the newest server is tried first. GETADDRINFO on a
/// failed lookup (entry not added). Does not reset the error state.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `host` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_server(
    client: *mut gearman_client_st,
    host: *const c_char,
    port: in_port_t,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut c: ClientRef = handle!(client);
        let host = String::from_utf8_lossy(cstr!(host).unwrap_or(b""));
        match c.core.add_server(&host, port) {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(e) => to_c(e.code()),
        }
    })
}

/// `gearman_return_t gearman_client_add_servers(gearman_client_st *client, const char *servers);`
///
/// `host[:port]` items separated by commas (no IPv6), each added as `add_server`; stops at the
/// first failure. NULL → localhost:4730.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `servers` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_servers(
    client: *mut gearman_client_st,
    servers: *const c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut c: ClientRef = handle!(client);
        let r = match cstr!(servers) {
            None => c.core.add_server("", 0),
            Some(list) => c.core.add_servers(&String::from_utf8_lossy(list)),
        };
        match r {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(e) => to_c(e.code()),
        }
    })
}

/// `void gearman_client_remove_servers(gearman_client_st *client);` closes and forgets every
/// server; tasks waiting on them end with LOST_CONNECTION (1.1.20 leaves them dangling).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_remove_servers(client: *mut gearman_client_st) {
    entry!((), {
        handle!(client).core.remove_servers();
    })
}

/// `void gearman_client_set_workload_fn(gearman_client_st *client, gearman_workload_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_workload_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_workload_fn,
) {
    entry!((), {
        handle!(client).actions.workload_fn = function;
    })
}

/// `void gearman_client_set_created_fn(gearman_client_st *client, gearman_created_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_created_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_created_fn,
) {
    entry!((), {
        handle!(client).actions.created_fn = function;
    })
}

/// `void gearman_client_set_data_fn(gearman_client_st *client, gearman_data_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_data_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_data_fn,
) {
    entry!((), {
        handle!(client).actions.data_fn = function;
    })
}

/// `void gearman_client_set_warning_fn(gearman_client_st *client, gearman_warning_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_warning_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_warning_fn,
) {
    entry!((), {
        handle!(client).actions.warning_fn = function;
    })
}

/// `void gearman_client_set_status_fn(gearman_client_st *client, gearman_universal_status_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_status_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_universal_status_fn,
) {
    entry!((), {
        handle!(client).actions.status_fn = function;
    })
}

/// `void gearman_client_set_complete_fn(gearman_client_st *client, gearman_complete_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_complete_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_complete_fn,
) {
    entry!((), {
        handle!(client).actions.complete_fn = function;
    })
}

/// `void gearman_client_set_exception_fn(gearman_client_st *client, gearman_exception_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_exception_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_exception_fn,
) {
    entry!((), {
        handle!(client).actions.exception_fn = function;
    })
}

/// `void gearman_client_set_fail_fn(gearman_client_st *client, gearman_fail_fn *function);`
///
/// Stored in the client's callback table, copied into tasks created afterwards.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of the callback's type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_fail_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_fail_fn,
) {
    entry!((), {
        handle!(client).actions.fail_fn = function;
    })
}

/// `void gearman_client_clear_fn(gearman_client_st *client);` all 8 callbacks NULL (existing
/// tasks keep theirs).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_clear_fn(client: *mut gearman_client_st) {
    entry!((), {
        handle!(client).actions = gearman_actions_t::default();
    })
}

/// `void gearman_client_set_task_context_free_fn(gearman_client_st *client, gearman_task_context_free_fn *function);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `function` NULL or of that type.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_task_context_free_fn(
    client: *mut gearman_client_st,
    function: *mut gearman_task_context_free_fn,
) {
    entry!((), {
        handle!(client).task_context_free = function;
    })
}

/// `bool gearman_client_compare(const gearman_client_st *first, const gearman_client_st *second);`
///
/// True when both are valid and the first entries of their server lists have the same host and
/// port. A client without servers compares false (1.1.20 crashes).
///
/// # Safety
///
/// Both must be NULL or live client shells.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_compare(
    first: *const gearman_client_st,
    second: *const gearman_client_st,
) -> bool {
    entry!(false, {
        let (a, b): (ClientRef, ClientRef) = (handle!(first), handle!(second));
        match (a.core.servers().first(), b.core.servers().first()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        }
    })
}

/// `void gearman_client_set_namespace(gearman_client_st *self, const char *namespace_key, size_t namespace_key_size);`
///
/// NULL removes the prefix; otherwise `namespace_key[0..size)` prefixes every function name
/// submitted from now on.
///
/// # Safety
///
/// `self_` must be NULL or a live client shell; a non-NULL key readable for `size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_namespace(
    self_: *mut gearman_client_st,
    namespace_key: *const c_char,
    namespace_key_size: usize,
) {
    entry!((), {
        let mut c: ClientRef = handle!(self_);
        let key = buf!(namespace_key, namespace_key_size);
        c.core.set_namespace((!key.is_null()).then(|| key.bytes()));
    })
}

/// `bool gearman_client_has_tasks(const gearman_client_st *client);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_tasks(client: *const gearman_client_st) -> bool {
    entry!(false, { handle!(client).core.has_tasks() })
}

/// `bool gearman_client_has_active_tasks(gearman_client_st *client);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_active_tasks(client: *mut gearman_client_st) -> bool {
    entry!(false, { handle!(client).core.has_active_tasks() })
}

/// `void gearman_client_task_free_all(gearman_client_st *client);` frees every task as
/// `gearman_task_free`.
///
/// # Safety
///
/// `client` must be NULL or a live client shell, not inside one of its task callbacks.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_task_free_all(client: *mut gearman_client_st) {
    entry!((), {
        task_impl::free_all(&handle!(client));
    })
}

/// `const char *gearman_client_do_job_handle(gearman_client_st *client);` the handle of the last
/// `do_*background` ("" before). NULL with `errno = EINVAL` for an invalid client (1.1.20 crashes
/// on a NULL `_impl`).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_job_handle(
    client: *mut gearman_client_st,
) -> *const c_char {
    entry!(std::ptr::null(), {
        let c: Option<ClientRef> = handle_opt!(client);
        match c {
            Some(c) => c.do_handle.as_ptr().cast(),
            None => {
                set_errno(libc::EINVAL);
                std::ptr::null()
            }
        }
    })
}
