//! What `_impl` of a `gearman_client_st` points to ([`ClientImpl`]: the core [`Client`] plus
//! what only C has: the callback table, contexts, the log settings, the workload allocator and
//! the buffer of the last background handle), its typed handle [`ClientRef`], and the logic
//! several client exports share.

use std::ffi::c_void;

use super::actions::gearman_actions_t;
use super::allocator::WorkloadAllocator;
use super::boundary::{self, Shell, Storage};
use super::callbacks::gearman_task_context_free_fn;
use super::enums::gearman_client_options_t as Opt;
use super::error::LogSettings;
use super::shells::gearman_client_st;
use crate::client::{Client, ClientOptions};
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
    /// Workload allocator (do() results, received payloads, taken data).
    pub alloc: WorkloadAllocator,
    /// Handle of the last `do_*background` (NUL-padded).
    pub do_handle: [u8; 64],
    /// `GEARMAN_CLIENT_NO_NEW` (a flag only).
    pub no_new: bool,
    /// Events whose callbacks are running (outermost first): a client call made from inside a
    /// callback (e.g. `gearman_client_do`) must not deliver them again.
    pub in_callback: Vec<crate::client::TaskEvent>,
    /// The shell C holds.
    shell: *mut gearman_client_st,
}

impl ClientImpl {
    /// A client around `core` with no callbacks, contexts or allocator.
    pub fn new(core: Client) -> ClientImpl {
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
            shell: std::ptr::null_mut(),
        }
    }

    /// A new client with `GEARMAN_SERVERS` applied (None when that list does not resolve or
    /// the wake-up pipe cannot be made).
    pub fn create() -> Option<ClientImpl> {
        Client::from_env().ok().map(ClientImpl::new)
    }

    /// Boxes the client and installs it in `storage` (or a library-allocated shell).
    pub fn install(self, storage: Storage<'_, gearman_client_st>) -> *mut gearman_client_st {
        let raw = Box::into_raw(Box::new(self));
        let shell = storage.attach(raw.cast());
        // SAFETY: `raw` is the live box just made, not shared yet.
        unsafe { (*raw).shell = shell };
        shell
    }

    /// Releases a client made by [`ClientImpl::install`] and its shell (its tasks must have
    /// been released first: `task_impl::free_all`).
    ///
    /// # Safety
    ///
    /// `this` must come from [`ClientImpl::install`], be live and not be used afterwards.
    pub unsafe fn destroy(this: *mut ClientImpl) {
        // SAFETY: made by `install` with `Box::into_raw`; released once (caller guarantee).
        let imp = unsafe { Box::from_raw(this) };
        let shell = imp.shell;
        drop(imp);
        // SAFETY: the shell `install` attached, which refers to the released client.
        unsafe { boundary::shell_release(shell) };
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

    /// `options.is_allocated` of the client's shell.
    pub fn shell_allocated(&self) -> bool {
        // SAFETY: the shell of a live client is live (C frees it only with the client).
        !self.shell.is_null() && unsafe { (*self.shell).is_allocated() }
    }

    /// `gearman_client_options()`: the flags set (EXCEPTION is never reported).
    pub fn option_bits(&self) -> u32 {
        let o = self.core.options();
        [
            (self.shell_allocated(), Opt::GEARMAN_CLIENT_ALLOCATED),
            (o.non_blocking, Opt::GEARMAN_CLIENT_NON_BLOCKING),
            (o.unbuffered_result, Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT),
            (self.no_new, Opt::GEARMAN_CLIENT_NO_NEW),
            (o.free_tasks, Opt::GEARMAN_CLIENT_FREE_TASKS),
            (o.generate_unique, Opt::GEARMAN_CLIENT_GENERATE_UNIQUE),
            (o.ssl, Opt::GEARMAN_CLIENT_SSL),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .fold(0, |acc, (_, b)| acc | *b as u32)
    }

    /// `gearman_client_has_option()` for one flag.
    pub fn has_option(&self, option: u32) -> bool {
        let o = self.core.options();
        let is = |bit: Opt| option == bit as u32;
        match () {
            _ if is(Opt::GEARMAN_CLIENT_ALLOCATED) => self.shell_allocated(),
            _ if is(Opt::GEARMAN_CLIENT_NON_BLOCKING) => o.non_blocking,
            _ if is(Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT) => o.unbuffered_result,
            _ if is(Opt::GEARMAN_CLIENT_NO_NEW) => self.no_new,
            _ if is(Opt::GEARMAN_CLIENT_FREE_TASKS) => o.free_tasks,
            _ if is(Opt::GEARMAN_CLIENT_GENERATE_UNIQUE) => o.generate_unique,
            _ if is(Opt::GEARMAN_CLIENT_EXCEPTION) => self.core.exceptions_enabled(),
            _ if is(Opt::GEARMAN_CLIENT_SSL) => o.ssl,
            _ => false,
        }
    }

    /// `gearman_client_add_options`: NON_BLOCKING, UNBUFFERED_RESULT, FREE_TASKS,
    /// GENERATE_UNIQUE, SSL; EXCEPTION asks every server at once (the flag follows their
    /// answer; no servers: stays off).
    pub fn add_options(&mut self, options: u32) {
        let has = |bit: Opt| options & bit as u32 != 0;
        let mut o = self.core.options();
        o.non_blocking |= has(Opt::GEARMAN_CLIENT_NON_BLOCKING);
        o.unbuffered_result |= has(Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT);
        o.free_tasks |= has(Opt::GEARMAN_CLIENT_FREE_TASKS);
        o.generate_unique |= has(Opt::GEARMAN_CLIENT_GENERATE_UNIQUE);
        o.ssl |= has(Opt::GEARMAN_CLIENT_SSL);
        self.core.set_options(o);
        if has(Opt::GEARMAN_CLIENT_EXCEPTION) {
            self.set_server_option(b"exceptions");
        }
    }

    /// `gearman_client_remove_options`: NON_BLOCKING, UNBUFFERED_RESULT, FREE_TASKS,
    /// GENERATE_UNIQUE (SSL and EXCEPTION cannot be removed).
    pub fn remove_options(&mut self, options: u32) {
        let has = |bit: Opt| options & bit as u32 != 0;
        let mut o = self.core.options();
        o.non_blocking &= !has(Opt::GEARMAN_CLIENT_NON_BLOCKING);
        o.unbuffered_result &= !has(Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT);
        o.free_tasks &= !has(Opt::GEARMAN_CLIENT_FREE_TASKS);
        o.generate_unique &= !has(Opt::GEARMAN_CLIENT_GENERATE_UNIQUE);
        self.core.set_options(o);
    }

    /// `gearman_client_set_options`: each settable flag present is added, absent removed.
    pub fn set_options(&mut self, options: u32) {
        let settable = Opt::GEARMAN_CLIENT_NON_BLOCKING as u32
            | Opt::GEARMAN_CLIENT_UNBUFFERED_RESULT as u32
            | Opt::GEARMAN_CLIENT_FREE_TASKS as u32
            | Opt::GEARMAN_CLIENT_GENERATE_UNIQUE as u32;
        self.remove_options(settable & !options);
        self.add_options(options);
    }

    /// Sends OPTION_REQ to every server (blocking): true when every server accepted it.
    pub fn set_server_option(&mut self, option: &[u8]) -> bool {
        let ok = self.core.set_server_option(option).is_ok();
        self.flush_log();
        ok
    }

    /// `gearman_client_clone`: a client with `self`'s option flags, callbacks, timeout,
    /// namespace, identifier, log settings and servers (their order reversed, as 1.1.20 does);
    /// not the exceptions flag, server options, contexts, allocators, tasks or errors. None
    /// when a server does not resolve any more.
    pub fn cloned(&self) -> Option<ClientImpl> {
        let src = &self.core;
        let mut core = Client::new();
        // The TLS files too (1.1.20 copies only the flag, so a clone fell back to the
        // environment and the defaults).
        core.set_tls(Some(src.tls_config().clone()));
        core.set_options(src.options());
        core.set_timeout(src.timeout());
        core.set_namespace(src.namespace());
        if let Some(id) = src.identifier() {
            let _ = core.remember_identifier(id);
        }
        for (host, port) in src.servers() {
            core.add_server(&host, port).ok()?;
        }
        let mut imp = ClientImpl::new(core);
        imp.actions = self.actions;
        imp.log = self.log;
        imp.no_new = self.no_new;
        Some(imp)
    }

    /// A client configured like a worker (what `gearman_job_use_client` and a map job's
    /// reducer use): the environment's servers (`GEARMAN_SERVERS`, as `gearman_client_create`)
    /// and the worker's, its timeout, namespace, identifier, log settings and non-blocking flag.
    pub fn configured_like(
        settings: &crate::endpoint::Settings,
        servers: &[(String, u16)],
        log: LogSettings,
        non_blocking: bool,
    ) -> Option<ClientImpl> {
        let mut core = Client::from_env().ok()?;
        for (host, port) in servers {
            let _ = core.add_server(host, *port);
        }
        core.set_timeout(settings.timeout());
        core.set_namespace(settings.namespace());
        if let Some(id) = settings.identifier() {
            let _ = core.set_identifier(id);
        }
        core.set_options(ClientOptions {
            non_blocking,
            ..core.options()
        });
        let mut imp = ClientImpl::new(core);
        imp.log = log;
        Some(imp)
    }
}

boundary::object_handle! {
    /// The typed handle of a valid client argument. The messages recorded while it is in use
    /// go to the client's log callback when it goes out of scope.
    ClientRef: gearman_client_st => ClientImpl
}

impl ClientRef {
    /// Gives the client up without flushing its log (it is about to be released).
    pub fn into_ptr(self) -> *mut ClientImpl {
        let ptr = self.ptr();
        std::mem::forget(self);
        ptr
    }
}

impl Drop for ClientRef {
    fn drop(&mut self) {
        // The client is still live (released clients go through `into_ptr`).
        self.flush_log();
    }
}
