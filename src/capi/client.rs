//! `gearman_client_st`: the caller-visible handle of a client (upstream interface/client.h).
//!
//! A client's implementation ([`ClientImpl`], behind `_impl`) is the core [`Client`] plus what only
//! C has: the callback table, contexts, the log settings, the workload allocator and the buffer of
//! the last background handle. This file holds the lifecycle, settings, servers and error
//! accessors; submissions are in `client_submit.rs`, the run loop and server exchanges in
//! `client_run.rs`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::actions::gearman_actions_t;
use super::allocator::WorkloadAllocator;
use super::boundary::{self, Shell};
use super::callbacks::{
    gearman_calloc_fn, gearman_complete_fn, gearman_created_fn, gearman_data_fn,
    gearman_exception_fn, gearman_fail_fn, gearman_free_fn, gearman_log_fn, gearman_malloc_fn,
    gearman_realloc_fn, gearman_task_context_free_fn, gearman_universal_status_fn,
    gearman_warning_fn, gearman_workload_fn, in_port_t,
};
use super::enums::{gearman_client_options_t as Opt, RawClientOptions, RawVerbose};
use super::error::{to_c, LogSettings};
use super::return_code::{gearman_return_t, GearmanReturn};
use super::task::{release_task, TaskImpl};
use crate::client::{Client, Task};
use crate::error::Error;

/// What `_impl` of a client shell points to.
#[derive(Debug)]
pub struct ClientImpl {
    /// The Rust client doing the work.
    pub core: Client,
    /// The 8 callbacks copied into each new task.
    pub actions: gearman_actions_t,
    /// `gearman_client_set_context`.
    pub context: *mut c_void,
    /// `gearman_client_set_task_context_free_fn`.
    pub task_context_free: *mut gearman_task_context_free_fn,
    /// `gearman_client_set_log_fn`.
    pub log: LogSettings,
    /// Workload allocator (do() results, taken data).
    pub alloc: WorkloadAllocator,
    /// Handle of the last `do_*background` (NUL-padded).
    pub do_handle: [u8; 64],
    /// `GEARMAN_CLIENT_NO_NEW` (a flag only).
    pub no_new: bool,
    /// Events whose callbacks are running (outermost first): a client call made from inside a
    /// callback (e.g. `gearman_client_do`) must not deliver them again.
    pub in_callback: Vec<crate::client::TaskEvent>,
}

impl ClientImpl {
    fn new(core: Client) -> ClientImpl {
        ClientImpl {
            core,
            actions: gearman_actions_t::default(),
            context: std::ptr::null_mut(),
            task_context_free: std::ptr::null_mut(),
            log: LogSettings::default(),
            alloc: WorkloadAllocator::default(),
            do_handle: [0; 64],
            no_new: false,
            in_callback: Vec::new(),
        }
    }

    /// Records `e` in the error slot and passes it to the log callback.
    pub fn record(&mut self, e: Error) {
        self.core.error_state_mut().record(&e);
        self.flush_log();
    }

    /// Hands messages the core recorded to the log callback.
    pub fn flush_log(&mut self) {
        if self.core.error_state().has_log() {
            let log = self.log;
            // SAFETY: the log fn was installed by C with the gearman_log_fn signature.
            unsafe { log.flush(self.core.error_state_mut()) };
        }
    }

    /// The C record of a core task (None for internal tasks).
    pub fn record_of(&self, task: &Task) -> Option<*mut TaskImpl> {
        let tag = task.tag();
        (tag != 0).then_some(tag as *mut TaskImpl)
    }

    /// Frees every task that has a C record.
    ///
    /// # Safety
    ///
    /// `this` must be live; no task callback may be running.
    pub unsafe fn free_all_tasks(this: *mut ClientImpl) {
        // SAFETY: live client (caller guarantee).
        let ids = unsafe { (*this).core.task_ids() };
        for id in ids {
            // SAFETY: live client; a task may have been released by an earlier context free fn.
            let record = unsafe { (*this).core.task(id).and_then(|t| (*this).record_of(t)) };
            match record {
                // SAFETY: a live record of this client.
                Some(r) => unsafe { release_task(r) },
                None => {
                    // SAFETY: live client.
                    unsafe { (*this).core.free_task(id) };
                }
            }
        }
    }
}

/// The implementation of a client shell, or None for an invalid client.
///
/// # Safety
///
/// A non-NULL `client` must be a live shell whose `_impl` (if set) came from this module.
pub unsafe fn client_impl<'a>(client: *const gearman_client_st) -> Option<&'a mut ClientImpl> {
    // SAFETY: forwarded caller guarantee.
    let p = unsafe { boundary::impl_of(client) }?;
    // SAFETY: `_impl` of a client shell is always a `Box<ClientImpl>` made by `attach_client`.
    unsafe { p.cast::<ClientImpl>().as_mut() }
}

/// The raw implementation pointer (for code that must not hold a borrow across callbacks).
///
/// # Safety
///
/// As [`client_impl`].
pub unsafe fn client_ptr(client: *const gearman_client_st) -> Option<*mut ClientImpl> {
    // SAFETY: forwarded caller guarantee.
    unsafe { client_impl(client) }.map(|c| c as *mut ClientImpl)
}

unsafe fn attach_client(storage: *mut gearman_client_st, core: Client) -> *mut gearman_client_st {
    let record = Box::into_raw(Box::new(ClientImpl::new(core)));
    // SAFETY: writable storage (caller guarantee of the entry points).
    unsafe { boundary::shell_attach(storage, record.cast()) }
}

/// The `options` member of `gearman_client_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_client_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_client_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_client_st {
    pub options: gearman_client_options_st,
    pub _impl: *mut c_void,
}

boundary::impl_shell!(gearman_client_st);

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
    let _ = client;
    super::boundary::guard((), || {
        // SAFETY: the caller guarantees non-NULL out pointers are writable.
        unsafe {
            super::boundary::write_out(numerator, 0);
            super::boundary::write_out(denominator, 0);
        }
    })
}

/// Runs `body` on a valid client, else returns `invalid`; a panic also returns `invalid`. Messages
/// recorded during the call go to the log callback afterwards.
pub(crate) fn with_client<R: Copy>(
    client: *const gearman_client_st,
    invalid: R,
    body: impl FnOnce(&mut ClientImpl) -> R,
) -> R {
    boundary::guard(invalid, || {
        // SAFETY: the C entry points forward NULL or a live client shell.
        match unsafe { client_impl(client) } {
            Some(c) => {
                let r = body(c);
                c.flush_log();
                r
            }
            None => invalid,
        }
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
    boundary::guard(std::ptr::null_mut(), || {
        let core = match Client::from_env() {
            Ok(c) => c,
            Err(_) => return std::ptr::null_mut(),
        };
        // SAFETY: writable storage (caller guarantee).
        unsafe { attach_client(client, core) }
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
    boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: caller guarantee.
        let Some(src) = (unsafe { client_impl(from) }) else {
            // SAFETY: forwarded caller guarantee.
            return unsafe { gearman_client_create(client) };
        };
        let mut core = Client::new();
        // The TLS files too (1.1.20 copies only the flag, so a clone fell back to the
        // environment and the defaults).
        core.set_tls(Some(src.core.tls_config().clone()));
        core.set_options(src.core.options());
        core.set_timeout(src.core.timeout());
        core.set_namespace(src.core.namespace());
        if let Some(id) = src.core.identifier() {
            let _ = core.remember_identifier(id);
        }
        for (host, port) in src.core.servers() {
            if core.add_server(&host, port).is_err() {
                return std::ptr::null_mut();
            }
        }
        // SAFETY: writable storage (caller guarantee).
        let shell = unsafe { attach_client(client, core) };
        // SAFETY: just attached.
        if let Some(c) = unsafe { client_impl(shell) } {
            c.actions = src.actions;
            c.log = src.log;
            c.no_new = src.no_new;
        }
        shell
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
    boundary::guard((), || {
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            return;
        };
        // SAFETY: live client, no callback running.
        unsafe { ClientImpl::free_all_tasks(c) };
        // SAFETY: made by `attach_client` with `Box::into_raw`; released once.
        drop(unsafe { Box::from_raw(c) });
        // SAFETY: the shell of a live client.
        unsafe { boundary::shell_release(client) };
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
    with_client(client, std::ptr::null(), |c| c.core.error_state().c_text())
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
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| to_c(c.core.error_state().code()),
    )
}

/// `int gearman_client_errno(const gearman_client_st *client);` EINVAL for an invalid client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_errno(client: *const gearman_client_st) -> i32 {
    with_client(client, libc::EINVAL, |c| c.core.error_state().errno())
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
    boundary::guard(RawClientOptions(4096), || {
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_impl(client) }) else {
            return RawClientOptions(4096);
        };
        // SAFETY: a valid client's shell is live.
        let allocated = unsafe { (*client).is_allocated() };
        let o = c.core.options();
        let bits = [
            (allocated, Opt::GEARMAN_CLIENT_ALLOCATED),
            (o.non_blocking, Opt::GEARMAN_CLIENT_NON_BLOCKING),
            (o.unbuffered_result, Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT),
            (c.no_new, Opt::GEARMAN_CLIENT_NO_NEW),
            (o.free_tasks, Opt::GEARMAN_CLIENT_FREE_TASKS),
            (o.generate_unique, Opt::GEARMAN_CLIENT_GENERATE_UNIQUE),
            (o.ssl, Opt::GEARMAN_CLIENT_SSL),
        ];
        RawClientOptions(
            bits.iter()
                .filter(|(on, _)| *on)
                .fold(0, |acc, (_, b)| acc | *b as u32),
        )
    })
}

fn has(options: RawClientOptions, bit: Opt) -> bool {
    options.0 & bit as u32 != 0
}

fn add_options(c: &mut ClientImpl, options: RawClientOptions) {
    let mut o = c.core.options();
    o.non_blocking |= has(options, Opt::GEARMAN_CLIENT_NON_BLOCKING);
    o.unbuffered_result |= has(options, Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT);
    o.free_tasks |= has(options, Opt::GEARMAN_CLIENT_FREE_TASKS);
    o.generate_unique |= has(options, Opt::GEARMAN_CLIENT_GENERATE_UNIQUE);
    o.ssl |= has(options, Opt::GEARMAN_CLIENT_SSL);
    c.core.set_options(o);
    if has(options, Opt::GEARMAN_CLIENT_EXCEPTION) {
        // The flag follows the server answer (no servers: stays off).
        let _ = super::client_run::set_server_option(c, b"exceptions");
    }
}

fn remove_options(c: &mut ClientImpl, options: RawClientOptions) {
    let mut o = c.core.options();
    o.non_blocking &= !has(options, Opt::GEARMAN_CLIENT_NON_BLOCKING);
    o.unbuffered_result &= !has(options, Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT);
    o.free_tasks &= !has(options, Opt::GEARMAN_CLIENT_FREE_TASKS);
    o.generate_unique &= !has(options, Opt::GEARMAN_CLIENT_GENERATE_UNIQUE);
    c.core.set_options(o);
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
    with_client(client, (), |c| {
        let all = Opt::GEARMAN_CLIENT_NON_BLOCKING as u32
            | Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT as u32
            | Opt::GEARMAN_CLIENT_FREE_TASKS as u32
            | Opt::GEARMAN_CLIENT_GENERATE_UNIQUE as u32;
        remove_options(c, RawClientOptions(all & !options.0));
        add_options(c, options);
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
    with_client(client, (), |c| add_options(c, options))
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
    with_client(client, (), |c| remove_options(c, options))
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
    // SAFETY: caller guarantee.
    let allocated = unsafe { boundary::ref_from(client) }.is_some_and(Shell::is_allocated);
    with_client(client, false, |c| {
        let o = c.core.options();
        match option.0 {
            x if x == Opt::GEARMAN_CLIENT_ALLOCATED as u32 => allocated,
            x if x == Opt::GEARMAN_CLIENT_NON_BLOCKING as u32 => o.non_blocking,
            x if x == Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT as u32 => o.unbuffered_result,
            x if x == Opt::GEARMAN_CLIENT_NO_NEW as u32 => c.no_new,
            x if x == Opt::GEARMAN_CLIENT_FREE_TASKS as u32 => o.free_tasks,
            x if x == Opt::GEARMAN_CLIENT_GENERATE_UNIQUE as u32 => o.generate_unique,
            x if x == Opt::GEARMAN_CLIENT_EXCEPTION as u32 => c.core.exceptions_enabled(),
            x if x == Opt::GEARMAN_CLIENT_SSL as u32 => o.ssl,
            _ => false,
        }
    })
}

/// `int gearman_client_timeout(gearman_client_st *client);` −1 for an invalid client.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_timeout(client: *mut gearman_client_st) -> i32 {
    with_client(client, -1, |c| c.core.timeout())
}

/// `void gearman_client_set_timeout(gearman_client_st *client, int timeout);` ms per wait.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_timeout(client: *mut gearman_client_st, timeout: i32) {
    with_client(client, (), |c| c.core.set_timeout(timeout))
}

/// The TLS settings of `gearman_*_set_ssl`'s three paths on top of `current` (NULL or "" =
/// unset: the environment, then the default, is used at the first connection).
///
/// # Safety
///
/// Each non-NULL path must be a NUL-terminated string.
pub(crate) unsafe fn tls_config_from_c(
    current: &crate::net::tls::TlsConfig,
    ca_file: *const c_char,
    certificate: *const c_char,
    key_file: *const c_char,
) -> crate::net::tls::TlsConfig {
    let path = |p: *const c_char| -> Option<std::path::PathBuf> {
        if p.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated string (caller guarantee).
        let bytes = unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes();
        let os: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(bytes);
        (!bytes.is_empty()).then(|| os.into())
    };
    crate::net::tls::TlsConfig {
        ca_file: path(ca_file),
        certificate: path(certificate),
        key_file: path(key_file),
        verify: current.verify,
    }
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
    with_client(client, (), |c| {
        // SAFETY: caller guarantee on the paths.
        let config =
            unsafe { tls_config_from_c(c.core.tls_config(), ca_file, certificate, key_file) };
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
    with_client(client, std::ptr::null_mut(), |c| c.context)
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
    with_client(client, (), |c| c.context = context)
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
    with_client(client, (), |c| {
        c.log = LogSettings {
            function,
            context,
            verbosity: verbose,
        }
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
    with_client(client, (), |c| c.alloc.set_malloc(function, context))
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
    with_client(client, (), |c| c.alloc.set_free(function, context))
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
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            c.alloc
                .set_all(malloc_fn, free_fn, realloc_fn, calloc_fn, context)
                .into()
        },
    )
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
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            // SAFETY: a C string (caller guarantee).
            let host = unsafe { boundary::cstr_bytes(host) }.unwrap_or(b"");
            let host = String::from_utf8_lossy(host);
            match c.core.add_server(&host, port) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => to_c(e.code()),
            }
        },
    )
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
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            // SAFETY: a C string (caller guarantee).
            let r = match unsafe { boundary::cstr_bytes(servers) } {
                None => c.core.add_server("", 0),
                Some(list) => c.core.add_servers(&String::from_utf8_lossy(list)),
            };
            match r {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => to_c(e.code()),
            }
        },
    )
}

/// `void gearman_client_remove_servers(gearman_client_st *client);` closes and forgets every
/// server; tasks waiting on them end with LOST_CONNECTION (1.1.20 leaves them dangling).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_remove_servers(client: *mut gearman_client_st) {
    with_client(client, (), |c| c.core.remove_servers())
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
    with_client(client, (), |c| c.actions.workload_fn = function)
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
    with_client(client, (), |c| c.actions.created_fn = function)
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
    with_client(client, (), |c| c.actions.data_fn = function)
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
    with_client(client, (), |c| c.actions.warning_fn = function)
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
    with_client(client, (), |c| c.actions.status_fn = function)
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
    with_client(client, (), |c| c.actions.complete_fn = function)
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
    with_client(client, (), |c| c.actions.exception_fn = function)
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
    with_client(client, (), |c| c.actions.fail_fn = function)
}

/// `void gearman_client_clear_fn(gearman_client_st *client);` all 8 callbacks NULL (existing
/// tasks keep theirs).
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_clear_fn(client: *mut gearman_client_st) {
    with_client(client, (), |c| c.actions = gearman_actions_t::default())
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
    with_client(client, (), |c| c.task_context_free = function)
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
    boundary::guard(false, || {
        // SAFETY: caller guarantee.
        let (Some(a), Some(b)) = (unsafe { client_impl(first) }, unsafe {
            client_impl(second)
        }) else {
            return false;
        };
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
    with_client(self_, (), |c| {
        if namespace_key.is_null() {
            c.core.set_namespace(None);
        } else {
            // SAFETY: readable for the given size (caller guarantee).
            let key = unsafe { boundary::bytes_from(namespace_key, namespace_key_size) };
            c.core.set_namespace(Some(key));
        }
    })
}

/// `bool gearman_client_has_tasks(const gearman_client_st *client);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_tasks(client: *const gearman_client_st) -> bool {
    with_client(client, false, |c| c.core.has_tasks())
}

/// `bool gearman_client_has_active_tasks(gearman_client_st *client);`
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_has_active_tasks(client: *mut gearman_client_st) -> bool {
    with_client(client, false, |c| c.core.has_active_tasks())
}

/// `void gearman_client_task_free_all(gearman_client_st *client);` frees every task as
/// `gearman_task_free`.
///
/// # Safety
///
/// `client` must be NULL or a live client shell, not inside one of its task callbacks.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_task_free_all(client: *mut gearman_client_st) {
    boundary::guard((), || {
        // SAFETY: caller guarantee.
        if let Some(c) = unsafe { client_ptr(client) } {
            // SAFETY: live client.
            unsafe { ClientImpl::free_all_tasks(c) };
        }
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
    boundary::guard(std::ptr::null(), || {
        // SAFETY: caller guarantee.
        match unsafe { client_impl(client) } {
            Some(c) => c.do_handle.as_ptr().cast(),
            None => {
                // SAFETY: errno is thread-local and always writable.
                unsafe { *libc::__errno_location() = libc::EINVAL };
                std::ptr::null()
            }
        }
    })
}
