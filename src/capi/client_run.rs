//! The client's run loop as C sees it (`gearman_client_run_tasks`, `gearman_client_wait`) and the
//! request/reply exchanges with every server (`echo`, `set_server_option`, `cancel_job`,
//! `set_identifier`). The loop itself is in `run_loop.rs`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{buf, cstr, entry, handle};
use super::client_impl::ClientRef;
use super::error::{code_of, to_c};
use super::return_code::{GearmanReturn, INVALID};
use super::run_loop;
use super::shells::gearman_client_st;
use super::submit::check_handle;
use crate::error::{Error, ReturnCode};

/// `gearman_return_t gearman_client_run_tasks(gearman_client_st *client);`
///
/// Runs every task to completion, calling their callbacks: SUCCESS when no task is active; a
/// callback's non-SUCCESS answer (PAUSE ...; the same callback runs again on the next call);
/// IO_WAIT (non-blocking), TIMEOUT, NO_SERVERS, COULD_NOT_CONNECT, LOST_CONNECTION, NO_ACTIVE_FDS,
/// server ERROR codes. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell, not freed by a callback.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_run_tasks(client: *mut gearman_client_st) -> GearmanReturn {
    entry!(INVALID, { run_loop::run_tasks(&mut handle!(client)) })
}

/// `gearman_return_t gearman_client_wait(gearman_client_st *client);`
///
/// Waits (client timeout) until a connection with pending I/O is ready: SUCCESS, TIMEOUT,
/// NO_ACTIVE_FDS. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_wait(client: *mut gearman_client_st) -> GearmanReturn {
    entry!(INVALID, { code_of(handle!(client).core.wait()) })
}

/// `bool gearman_client_set_server_option(gearman_client_st *self, const char *option_arg, size_t option_arg_size);`
///
/// Sends OPTION_REQ to every server (blocking) and remembers the option for new connections;
/// `"exceptions"` turns on exception forwarding. False when there are no servers, the option is
/// empty, or any server refuses or cannot be reached.
///
/// # Safety
///
/// `self_` must be NULL or a live client shell; a non-NULL option readable for its size.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_server_option(
    self_: *mut gearman_client_st,
    option_arg: *const c_char,
    option_arg_size: usize,
) -> bool {
    entry!(false, {
        let mut c: ClientRef = handle!(self_);
        // The length is checked before the caller's buffer is read.
        let option = buf!(option_arg, option_arg_size);
        match option.checked(|len| c.core.check_server_option(len)) {
            Ok(option) => c.set_server_option(option),
            Err(_) => false,
        }
    })
}

/// `gearman_return_t gearman_client_echo(gearman_client_st *client, const void *workload, size_t workload_size);`
///
/// ECHO_REQ to every server in turn (blocking, even on a non-blocking client); stops at the first
/// failure. NO_SERVERS, INVALID_ARGUMENT (empty), ARGUMENT_TOO_LARGE, ECHO_DATA_CORRUPTION, or a
/// connection error. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `workload` readable for `workload_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_echo(
    client: *mut gearman_client_st,
    workload: *const c_void,
    workload_size: usize,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut c: ClientRef = handle!(client);
        // The length is checked before the caller's buffer is read.
        let data = buf!(workload, workload_size);
        match data.checked(|len| c.core.check_echo(len)) {
            Ok(data) => code_of(c.core.echo(data)),
            Err(e) => to_c(e.code()),
        }
    })
}

/// `gearman_return_t gearman_client_cancel_job(gearman_client_st *client_shell, gearman_job_handle_t job_handle);`
///
/// Sends a WORK_FAIL request for the handle to every server, one reply each; gearmand answers
/// JOB_NOT_FOUND (it only takes WORK_FAIL from the job's worker). NULL handle (1.1.20 crashes) or
/// one of 64 bytes or more → INVALID_ARGUMENT, before the server list is looked at.
///
/// # Safety
///
/// `client_shell` must be NULL or a live client shell; `job_handle` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_cancel_job(
    client_shell: *mut gearman_client_st,
    job_handle: *const c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        const OP: &str = "gearman_client_cancel_job";
        let mut c: ClientRef = handle!(client_shell);
        let checked = match cstr!(job_handle) {
            None => Err(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "job_handle was NULL",
            )),
            Some(handle) => check_handle(OP, handle).map(|()| handle),
        };
        match checked {
            Ok(handle) => code_of(c.core.cancel_job(handle)),
            Err(e) => {
                c.core.error_state_mut().reset();
                let code = to_c(e.code());
                c.record(e);
                code
            }
        }
    })
}

/// `gearman_return_t gearman_client_set_identifier(gearman_client_st *client, const char *id, size_t id_size);`
///
/// Validates (NULL, empty or non-`isgraph` bytes → INVALID_ARGUMENT; > 254 bytes →
/// ARGUMENT_TOO_LARGE), stores it and sends SET_CLIENT_ID to every server now (send failures
/// ignored); new connections send it first.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; a non-NULL `id` readable for `id_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_identifier(
    client: *mut gearman_client_st,
    id: *const c_char,
    id_size: usize,
) -> GearmanReturn {
    entry!(INVALID, {
        const OP: &str = "gearman_client_set_identifier";
        let mut c: ClientRef = handle!(client);
        // The length is checked before the caller's buffer is read.
        let checked = buf!(id, id_size).checked(|len| match len {
            None => Err(Error::new(ReturnCode::InvalidArgument, OP, "id was NULL")),
            Some(len) => crate::endpoint::check_identifier_len(OP, len),
        });
        match checked {
            Ok(bytes) => code_of(c.core.set_identifier(bytes)),
            Err(e) => {
                let code = to_c(e.code());
                c.record(e);
                code
            }
        }
    })
}
