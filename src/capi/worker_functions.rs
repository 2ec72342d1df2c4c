//! The networked and function-related calls on `gearman_worker_st`: registration, `work` with
//! libgearman 1.1.20's callback result mapping (spec §7.4), `grab_job`, `wait`, `echo`, server
//! options. The core does the protocol; this file runs the C callbacks and maps their results.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary;
use super::callbacks::{callback, gearman_worker_fn, FunctionFn, WorkerFn};
use super::enums::gearman_function_kind_t as Kind;
use super::function::{gearman_function_create_v1, gearman_function_t};
use super::job::{client_like, gearman_job_st, JobImpl};
use super::reducer::Reducer;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::worker::{bytes, c_str, gearman_worker_st, rc, with_worker, WorkerImpl};
use crate::error::{Error, ReturnCode};
use crate::worker::{Callback, Outcome};

const SUCCESS: GearmanReturn = GearmanReturn(gearman_return_t::GEARMAN_SUCCESS as u32);

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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let Some(name) = c_str(function_name) else {
                return (*w).record(
                    ReturnCode::InvalidArgument,
                    "gearman_worker_register",
                    "function name not given",
                );
            };
            match (*w).core.register_with(name, timeout, Callback::None) {
                Ok(()) => SUCCESS,
                Err(e) => rc(e.code()),
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let Some(name) = c_str(function_name) else {
                return rc(ReturnCode::InvalidArgument);
            };
            // 1.1.20 returns these codes without recording an error.
            let before = (*w).core.error_state().clone();
            match (*w).core.unregister(name) {
                Ok(()) => SUCCESS,
                Err(e) => {
                    *(*w).core.error_state_mut() = before;
                    rc(e.code())
                }
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            // 1.1.20 returns these codes without recording an error.
            let before = (*w).core.error_state().clone();
            match (*w).core.unregister_all() {
                Ok(()) => SUCCESS,
                Err(e) => {
                    *(*w).core.error_state_mut() = before;
                    rc(e.code())
                }
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, false, |w| {
            // A name longer than any registrable one is not read.
            !function_name.is_null()
                && function_length <= crate::endpoint::MAX_FUNCTION_NAME
                && (*w)
                    .core
                    .function_exists(bytes(function_name.cast(), function_length))
        })
    }
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
    const OP: &str = "gearman_worker_add_function";
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let Some(name) = c_str(function_name) else {
                return (*w).record(ReturnCode::InvalidArgument, OP, "function name not given");
            };
            if function.is_null() {
                return (*w).record(ReturnCode::InvalidArgument, OP, "function not given");
            }
            let f = gearman_function_create_v1(function);
            (*w).register_foreign(name, timeout, f, context)
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            const OP: &str = "gearman_worker_define_function";
            if function_name.is_null() || function_name_length == 0 {
                return (*w).record(ReturnCode::InvalidArgument, OP, "function name not given");
            }
            // The length is checked before the name is read.
            if let Err(e) = crate::endpoint::check_function_name(OP, function_name_length) {
                (*w).core.error_state_mut().record(&e);
                return rc(e.code());
            }
            let name = bytes(function_name.cast(), function_name_length);
            (*w).register_foreign(name, timeout, function, context)
        })
    }
}

/// What a function's callback produced.
enum Ran {
    /// A v1 callback: its `*ret_ptr` and result buffer (owned by the library now).
    V1(GearmanReturn, *mut c_void, usize),
    /// A v2 (false) or partition (true) callback's return value.
    V2(GearmanReturn, bool),
}

/// Runs the callback of `function` on `job`. No borrow of the worker or the job is held while C
/// runs (the callback calls back into `gearman_job_*` / `gearman_worker_*`).
///
/// # Safety
///
/// `job` must be a live job shell; the callback pointers must have their kind's signature.
unsafe fn run_callback(
    function: gearman_function_t,
    context: *mut c_void,
    job: *mut gearman_job_st,
) -> Option<Ran> {
    let kind = function.kind;
    if kind == Kind::GEARMAN_WORKER_FUNCTION_V1 {
        // SAFETY: the union member written for V1 functions.
        let f = unsafe { function.callback.function_v1.func };
        // SAFETY: the caller guarantees the signature.
        let f = unsafe { callback::<_, WorkerFn>(f) }?;
        let mut size = 0usize;
        let mut ret: GearmanReturn = SUCCESS;
        // SAFETY: calling the user's function with valid out-parameters.
        let result = unsafe { f(job, context, &mut size, &mut ret) };
        Some(Ran::V1(ret, result, size))
    } else if kind == Kind::GEARMAN_WORKER_FUNCTION_V2
        || kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION
    {
        // SAFETY: V2 and partition functions store the callback in the same place.
        let f = unsafe { function.callback.function_v2.func };
        // SAFETY: the caller guarantees the signature.
        let f = unsafe { callback::<_, FunctionFn>(f) }?;
        let partition = kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION;
        // SAFETY: calling the user's function.
        Some(Ran::V2(unsafe { f(job, context) }, partition))
    } else {
        None
    }
}

/// `gearman_return_t gearman_worker_work(gearman_worker_st *worker);`
///
/// Grabs one job (sleeping with PRE_SLEEP until there is one, bounded by the timeout when
/// TIMEOUT_RETURN is on) and runs its callback, then (spec §7.4):
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
    // SAFETY: forwarded caller guarantee.
    unsafe { with_worker(worker, rc(ReturnCode::InvalidArgument), |w| work(w)) }
}

/// # Safety
///
/// `w` must be a live worker implementation.
unsafe fn work(w: *mut WorkerImpl) -> GearmanReturn {
    const OP: &str = "gearman_worker_work";
    // SAFETY: caller guarantee; this borrow ends before the callback runs.
    let wi = unsafe { &mut *w };
    wi.core.error_state_mut().reset();
    if wi.deferred_noop {
        wi.deferred_noop = false;
        wi.dispose_deferred();
        return SUCCESS;
    }
    let job = match wi.core.grab_job(true) {
        Ok(job) => job,
        Err(e) => return grab_failed(wi, &e),
    };
    let found = match wi.core.registry().dispatch(job.function_name()) {
        None => Err("Function not found"),
        Some(entry) => match entry.callback() {
            Callback::Foreign(id) => wi.functions.get(*id).copied().ok_or(""),
            _ => Err(""),
        },
    };
    let no_callback = "Neither a gearman_worker_fn, or gearman_function_fn callback was supplied";
    let function = match found {
        Ok(f) => f,
        Err(detail) => {
            let detail = if detail.is_empty() {
                no_callback
            } else {
                detail
            };
            return wi.record(ReturnCode::InvalidFunctionName, OP, detail);
        }
    };
    let is_map = !job.reducer().is_empty();
    // SAFETY: `w` is live; the job is owned by this call and released below.
    let j = unsafe { JobImpl::create(job, w, std::ptr::null_mut(), false) };
    if is_map && function.function.kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION {
        // SAFETY: live worker and job; the union member written for partition functions.
        unsafe {
            let client = client_like(w);
            if client.is_null() {
                JobImpl::destroy(j, false);
                let detail = "cannot create the reducer's client";
                return (*w).record(ReturnCode::MemoryAllocationFailure, OP, detail);
            }
            let aggregator = function.function.callback.partitioner.aggregator;
            (*j).reducer = Some(Reducer::new(client, (*j).job.reducer(), aggregator));
        }
    }
    // SAFETY: `j` is live; the shell pointer stays valid during the callback.
    let ran = unsafe { run_callback(function.function, function.context, (*j).shell()) };
    // SAFETY: the callback has returned: fresh borrows of the worker and the job.
    let (wi, ji) = unsafe { (&mut *w, &mut *j) };
    wi.release_kept_result();
    let (code, result) = match ran {
        None => (
            wi.record(ReturnCode::InvalidFunctionName, OP, no_callback),
            std::ptr::null_mut(),
        ),
        Some(Ran::V1(ret, result, size)) => {
            // SAFETY: the function returned a buffer of `size` bytes (or NULL).
            let data = unsafe { bytes(result, size) };
            (finish_v1(wi, &mut ji.job, ret, data), result)
        }
        Some(Ran::V2(ret, partition)) => {
            let code = match ji.reducer.take() {
                Some(reducer) => finish_map(wi, &mut ji.job, ret, reducer),
                None => finish_v2(wi, &mut ji.job, ret, partition),
            };
            (code, std::ptr::null_mut())
        }
    };
    if wi.deferred_noop {
        // 1.1.20 keeps a failed job until the next `work()`, and its v1 result until the next
        // job's function has run.
        wi.dispose_deferred();
        wi.deferred_job = Some(j);
        wi.kept_result = result;
    } else {
        // SAFETY: the v1 result belongs to the library now and comes from the user's
        // allocator; the job was created above and is not referenced any more.
        unsafe {
            wi.allocator.free(result);
            JobImpl::destroy(j, false);
        }
    }
    code
}

/// A failed grab: the code as it is, with 1.1.20's side effects.
fn grab_failed(wi: &mut WorkerImpl, e: &Error) -> GearmanReturn {
    match e.code() {
        // 1.1.20 closes every socket after COULD_NOT_CONNECT.
        ReturnCode::CouldNotConnect => wi.core.close_connections(),
        // 1.1.20 reports NO_SERVERS without recording it: error() stays UNKNOWN_STATE.
        ReturnCode::NoServers => wi.core.error_state_mut().reset(),
        _ => {}
    }
    rc(e.code())
}

/// Ends a job whose v1 callback set `*ret_ptr` to `ret` and produced `result`.
fn finish_v1(
    wi: &mut WorkerImpl,
    job: &mut crate::worker::Job,
    ret: GearmanReturn,
    result: &[u8],
) -> GearmanReturn {
    let raw = ret.0 as i32;
    match Outcome::from_v1(raw, Vec::new()) {
        Ok(Outcome::Success(_)) => complete(wi, job, result, SUCCESS),
        Ok(Outcome::Shutdown(_)) => complete(wi, job, result, rc(ReturnCode::Shutdown)),
        Ok(Outcome::Retry) => {
            wi.core.close_connections();
            SUCCESS
        }
        Ok(Outcome::Fail(code)) => fail(wi, job, rc(code)),
        Err(_) => fail(wi, job, ret),
    }
}

/// Ends a job whose v2 (or partition) callback returned `ret`.
fn finish_v2(
    wi: &mut WorkerImpl,
    job: &mut crate::worker::Job,
    ret: GearmanReturn,
    partition: bool,
) -> GearmanReturn {
    let (outcome, error) = Outcome::from_v2(ret.0 as i32);
    if let Some(e) = error {
        // A partition function's invalid code is recorded as INVALID_WORKER_FUNCTION (1.1.20).
        let e = if partition {
            Error::new(
                ReturnCode::InvalidWorkerFunction,
                "gearman_worker_work",
                format!(
                    "Worker returned invalid gearman_return_t: {}",
                    ReturnCode::strerror(ret.0 as i32)
                ),
            )
        } else {
            e
        };
        wi.core.error_state_mut().record(&e);
    }
    match outcome {
        Outcome::Success(_) => complete(wi, job, &[], SUCCESS),
        Outcome::Shutdown(_) => complete(wi, job, &[], rc(ReturnCode::Shutdown)),
        Outcome::Fail(code) => fail(wi, job, rc(code)),
        Outcome::Retry => {
            wi.core.close_connections();
            SUCCESS
        }
    }
}

/// Ends a map job whose partition function returned `ret`: on SUCCESS (or SHUTDOWN) the reducer
/// jobs run and the aggregated result is the WORK_COMPLETE; a failed reducer job fails the job
/// and `work` returns its code (then the usual no-op call). Other codes as for v2 functions.
fn finish_map(
    wi: &mut WorkerImpl,
    job: &mut crate::worker::Job,
    ret: GearmanReturn,
    mut reducer: Reducer,
) -> GearmanReturn {
    let then = match Outcome::from_v2(ret.0 as i32).0 {
        Outcome::Success(_) => SUCCESS,
        Outcome::Shutdown(_) => rc(ReturnCode::Shutdown),
        _ => return finish_v2(wi, job, ret, true),
    };
    // SAFETY: the reducer's client is live; the aggregator was registered by C.
    match unsafe { reducer.complete() } {
        Ok(result) => complete(wi, job, &result, then),
        Err(code) => {
            let detail = format!("{} couldn't call complete()", reducer.name());
            let code = super::error::from_c(code);
            wi.record(code, "gearman_worker_work", &detail);
            match wi.core.job_send_fail(job) {
                Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
                _ => {
                    wi.deferred_noop = true;
                    rc(code)
                }
            }
        }
    }
}

/// WORK_COMPLETE (unless finished already); `then` on success. A lost connection counts as a retry
/// (SUCCESS: the server hands the job out again), as 1.1.20.
fn complete(
    wi: &mut WorkerImpl,
    job: &mut crate::worker::Job,
    result: &[u8],
    then: GearmanReturn,
) -> GearmanReturn {
    let allocator = wi.allocator;
    let sent = if allocator.is_custom() && !job.is_finished() {
        // 1.1.20 copies the result into a buffer of the worker's allocator to send it.
        super::job::with_allocator_copy(allocator, result, |d| wi.core.job_send_complete(job, d))
    } else {
        wi.core.job_send_complete(job, result)
    };
    match sent {
        Ok(()) => then,
        Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
        Err(e) => {
            wi.deferred_noop = true;
            rc(e.code())
        }
    }
}

/// WORK_FAIL (unless finished already); returns `code` and defers the no-op `work()` (Q7).
fn fail(wi: &mut WorkerImpl, job: &mut crate::worker::Job, code: GearmanReturn) -> GearmanReturn {
    match wi.core.job_send_fail(job) {
        Ok(()) => {
            wi.deferred_noop = true;
            code
        }
        Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
        Err(e) => rc(e.code()),
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, std::ptr::null_mut(), |w| {
            let r = (*w).core.grab_job(false);
            match r {
                Ok(grabbed) => {
                    let j = JobImpl::create(grabbed, w, job, true);
                    boundary::write_out(ret_ptr, SUCCESS);
                    (*j).shell()
                }
                Err(e) => {
                    let code = grab_failed(&mut *w, &e);
                    boundary::write_out(ret_ptr, code);
                    std::ptr::null_mut()
                }
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            match (*w).core.wait() {
                Ok(()) => SUCCESS,
                Err(e) => rc(e.code()),
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(worker, rc(ReturnCode::InvalidArgument), |w| {
            let wi = &mut *w;
            let before = wi.core.error_state().clone();
            // The lengths are checked before the caller's buffer is read.
            let len = (!workload.is_null()).then_some(workload_size);
            if let Err(e) = wi.core.check_echo(len) {
                return rc(e.code());
            }
            match wi.core.echo(bytes(workload, workload_size)) {
                Ok(()) => {
                    *wi.core.error_state_mut() = before;
                    SUCCESS
                }
                Err(e) => rc(e.code()),
            }
        })
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        with_worker(self_, false, |w| {
            // The lengths are checked before the caller's buffer is read.
            let len = (!option_arg.is_null()).then_some(option_arg_size);
            (*w).core.check_server_option(len).is_ok()
                && (*w)
                    .core
                    .set_server_option(bytes(option_arg.cast(), option_arg_size))
                    .is_ok()
        })
    }
}
