//! The networked and function-related calls on `gearman_worker_st`: registration, `work`,
//! `grab_job`, `wait`, `echo`, server options. The core does the protocol; `work.rs` runs the C
//! callbacks and maps their results.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{buf, cstr, entry, handle, out, storage};
use super::callbacks::gearman_worker_fn;
use super::error::{code_of, to_c};
use super::function::gearman_function_t;
use super::return_code::{gearman_return_t, GearmanReturn, INVALID};
use super::shells::{gearman_job_st, gearman_worker_st};
use super::work;
use super::worker_impl::WorkerRef;
use crate::error::{Error, ReturnCode};
use crate::worker::Callback;

/// SUCCESS or the error's code, which 1.1.20 returns without recording it.
fn quietly(
    w: &mut WorkerRef,
    op: impl FnOnce(&mut WorkerRef) -> Result<(), Error>,
) -> GearmanReturn {
    let before = w.core.error_state().clone();
    let r = op(w);
    if r.is_err() {
        *w.core.error_state_mut() = before;
    }
    code_of(r)
}

/// `gearman_return_t gearman_worker_register(gearman_worker_st *worker, const char *function_name, uint32_t timeout);`
///
/// A function without callback (for `grab_job`); CAN_DO, or CAN_DO_TIMEOUT when `timeout` > 0,
/// goes out with the next grab. Name empty, longer than 512 bytes, or NULL (1.1.20 crashes) →
/// INVALID_ARGUMENT. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function_name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_register(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    timeout: u32,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        match cstr!(function_name) {
            None => w.record(
                ReturnCode::InvalidArgument,
                "gearman_worker_register",
                "function name not given",
            ),
            Some(name) => code_of(w.core.register_with(name, timeout, Callback::None)),
        }
    })
}

/// `gearman_return_t gearman_worker_unregister(gearman_worker_st *worker, const char *function_name);`
///
/// CANT_DO for the newest registration of that name (namespace excluded) with the next grab;
/// none → NO_REGISTERED_FUNCTION. NULL name → INVALID_ARGUMENT (1.1.20 crashes).
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function_name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_unregister(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        match cstr!(function_name) {
            None => INVALID,
            Some(name) => quietly(&mut w, |w| w.core.unregister(name)),
        }
    })
}

/// `gearman_return_t gearman_worker_unregister_all(gearman_worker_st *worker);`
///
/// RESET_ABILITIES with the next grab; nothing registered → NO_REGISTERED_FUNCTIONS.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_unregister_all(
    worker: *mut gearman_worker_st,
) -> GearmanReturn {
    entry!(INVALID, {
        quietly(&mut handle!(worker), |w| w.core.unregister_all())
    })
}

/// `bool gearman_worker_function_exist(gearman_worker_st *worker, const char *function_name, size_t function_length);`
///
/// True iff the newest registration of exactly that (un-namespaced) name is live. Invalid or NULL
/// name → false.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; a non-NULL name readable for `function_length` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_function_exist(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    function_length: usize,
) -> bool {
    entry!(false, {
        let w: WorkerRef = handle!(worker);
        // A name longer than any registrable one is not read.
        buf!(function_name, function_length)
            .checked(|len| match len {
                Some(len) if len <= crate::endpoint::MAX_FUNCTION_NAME => Ok(()),
                _ => Err(()),
            })
            .is_ok_and(|name| w.core.function_exists(name))
    })
}

/// `gearman_return_t gearman_worker_add_function(gearman_worker_st *worker, const char *function_name, uint32_t timeout, gearman_worker_fn *function, void *context);`
///
/// Registers a v1 callback (its result buffer is released by the library with the worker's free
/// function). NULL name → INVALID_ARGUMENT "function name not given"; NULL function →
/// INVALID_ARGUMENT "function not given"; empty or > 512 bytes → INVALID_ARGUMENT. The newest
/// registration of a name wins. No I/O.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `function_name` NULL or NUL-terminated; `function`
/// NULL or a `gearman_worker_fn`.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_add_function(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    timeout: u32,
    function: *mut gearman_worker_fn,
    context: *mut c_void,
) -> GearmanReturn {
    entry!(INVALID, {
        const OP: &str = "gearman_worker_add_function";
        let mut w: WorkerRef = handle!(worker);
        match cstr!(function_name) {
            None => w.record(ReturnCode::InvalidArgument, OP, "function name not given"),
            Some(_) if function.is_null() => {
                w.record(ReturnCode::InvalidArgument, OP, "function not given")
            }
            Some(name) => {
                w.register_foreign(name, timeout, gearman_function_t::v1(function), context)
            }
        }
    })
}

/// `gearman_return_t gearman_worker_define_function(gearman_worker_st *worker, const char *function_name, const size_t function_name_length, const gearman_function_t function, const uint32_t timeout, void *context);`
///
/// Registers a `gearman_function_t` (V1, V2, PARTITION or NULL kind) under a name of explicit
/// length. NULL name or length 0 → INVALID_ARGUMENT "function name not given". A kind without a
/// callback registers fine; its jobs fail in `work` with INVALID_FUNCTION_NAME.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; a non-NULL name readable for its length; the
/// callback pointers of `function` NULL or of the kind's signature.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_define_function(
    worker: *mut gearman_worker_st,
    function_name: *const c_char,
    function_name_length: usize,
    function: gearman_function_t,
    timeout: u32,
    context: *mut c_void,
) -> GearmanReturn {
    entry!(INVALID, {
        const OP: &str = "gearman_worker_define_function";
        let mut w: WorkerRef = handle!(worker);
        // The length is checked before the name is read.
        let name = buf!(function_name, function_name_length).checked(|len| match len {
            None | Some(0) => Err(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "function name not given",
            )),
            Some(len) => crate::endpoint::check_function_name(OP, len),
        });
        match name {
            Ok(name) => w.register_foreign(name, timeout, function, context),
            Err(e) => w.record_error(&e),
        }
    })
}

/// `gearman_return_t gearman_worker_work(gearman_worker_st *worker);`
///
/// Grabs one job (sleeping with PRE_SLEEP until there is one, bounded by the timeout when
/// TIMEOUT_RETURN is on) and runs its callback, then (as 1.1.20; see `work.rs`):
/// * v1 `*ret_ptr` SUCCESS → WORK_COMPLETE(result), SUCCESS; SHUTDOWN → WORK_COMPLETE, SHUTDOWN;
///   LOST_CONNECTION → nothing sent, connections closed (the server hands the job out again),
///   SUCCESS; anything else → WORK_FAIL and that value returned.
/// * v2: SUCCESS / SHUTDOWN → empty WORK_COMPLETE unless the function finished the job itself;
///   FAIL or WORK_EXCEPTION → WORK_FAIL, returns WORK_FAIL; ERROR → retry as above; any other
///   value → retry and INVALID_ARGUMENT recorded.
/// * After a failed job, the next call only returns SUCCESS (1.1.20's quirk Q7).
///
/// Grab errors are returned as they are (NO_SERVERS, NO_REGISTERED_FUNCTIONS, TIMEOUT,
/// COULD_NOT_CONNECT, IO_WAIT / NO_JOBS when non-blocking, SHUTDOWN(_GRACEFUL) from the wake-up
/// pipe). A job of an unknown function or one without callback → INVALID_FUNCTION_NAME, nothing
/// sent. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; registered callbacks must have their signatures.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_work(worker: *mut gearman_worker_st) -> GearmanReturn {
    entry!(INVALID, { work::work(&mut handle!(worker)) })
}

/// `gearman_job_st *gearman_worker_grab_job(gearman_worker_st *worker, gearman_job_st *job, gearman_return_t *ret_ptr);`
///
/// Fetches one job without sleeping: NULL with NO_JOBS when no server has one (IO_WAIT when a
/// non-blocking worker's answer is not there yet), or NO_SERVERS, NO_REGISTERED_FUNCTIONS,
/// COULD_NOT_CONNECT, LOST_CONNECTION, UNEXPECTED_PACKET... The job is the caller's to finish
/// (`gearman_job_send_*`) and free; `job` storage is honoured (1.1.20 crashes on it). `ret_ptr` may
/// be NULL. Invalid worker → NULL, `*ret_ptr` untouched.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; `job` NULL or writable shell storage; `ret_ptr` NULL
/// or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_grab_job(
    worker: *mut gearman_worker_st,
    job: *mut gearman_job_st,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_job_st {
    entry!(std::ptr::null_mut(), {
        work::grab_job(&mut handle!(worker), storage!(job), &mut out!(ret_ptr))
    })
}

/// `gearman_return_t gearman_worker_wait(gearman_worker_st *worker);`
///
/// Polls the open connections and the wake-up pipe with the worker's timeout (non-blocking use):
/// SUCCESS when one is ready, TIMEOUT, SHUTDOWN_GRACEFUL / SHUTDOWN from the pipe, NO_ACTIVE_FDS
/// when no connection is open. Invalid → INVALID_ARGUMENT.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_wait(worker: *mut gearman_worker_st) -> GearmanReturn {
    entry!(INVALID, { code_of(handle!(worker).core.wait()) })
}

/// `gearman_return_t gearman_worker_echo(gearman_worker_st *worker, const void *workload, size_t workload_size);`
///
/// ECHO_REQ to every server (all must answer with the same bytes). NULL/empty → INVALID_ARGUMENT;
/// no servers → NO_SERVERS. Like 1.1.20, a successful echo leaves the previous error in place.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; non-NULL `workload` readable for its size.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_echo(
    worker: *mut gearman_worker_st,
    workload: *const c_void,
    workload_size: usize,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut w: WorkerRef = handle!(worker);
        let before = w.core.error_state().clone();
        // The length is checked before the caller's buffer is read.
        let data = buf!(workload, workload_size);
        match data.checked(|len| w.core.check_echo(len)) {
            Err(e) => to_c(e.code()),
            Ok(data) => match w.core.echo(data) {
                Ok(()) => {
                    *w.core.error_state_mut() = before;
                    gearman_return_t::GEARMAN_SUCCESS.into()
                }
                Err(e) => to_c(e.code()),
            },
        }
    })
}

/// `bool gearman_worker_set_server_option(gearman_worker_st *self, const char *option_arg, size_t option_arg_size);`
///
/// OPTION_REQ to every server (each must accept), remembered for reconnects. NULL option, no
/// servers, or a refusal → false.
///
/// # Safety
///
/// A non-NULL `self_` must be a live shell; non-NULL `option_arg` readable for its size.
#[no_mangle]
pub unsafe extern "C" fn gearman_worker_set_server_option(
    self_: *mut gearman_worker_st,
    option_arg: *const c_char,
    option_arg_size: usize,
) -> bool {
    entry!(false, {
        let mut w: WorkerRef = handle!(self_);
        // The length is checked before the caller's buffer is read.
        let option = buf!(option_arg, option_arg_size);
        option
            .checked(|len| w.core.check_server_option(len))
            .is_ok_and(|option| w.core.set_server_option(option).is_ok())
    })
}
