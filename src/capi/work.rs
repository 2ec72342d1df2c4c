//! What `gearman_worker_work` and `gearman_worker_grab_job` do beyond the core: run the C
//! callback of a grabbed job and map its result the way libgearman 1.1.20 does:
//!
//! * v1 `*ret_ptr` SUCCESS → WORK_COMPLETE(result), SUCCESS; SHUTDOWN → WORK_COMPLETE, SHUTDOWN;
//!   LOST_CONNECTION → nothing sent, connections closed (the server hands the job out again),
//!   SUCCESS; anything else → WORK_FAIL and that value returned.
//! * v2: SUCCESS / SHUTDOWN → empty WORK_COMPLETE unless the function finished the job itself;
//!   FAIL or WORK_EXCEPTION → WORK_FAIL, returns WORK_FAIL; ERROR → retry as above; any other
//!   value → retry and INVALID_ARGUMENT recorded.
//! * After a failed job, the next call only returns SUCCESS (docs/libgearman-quirks.md, Q7).

use std::ffi::c_void;

use super::boundary::{Out, Storage};
use super::callbacks::callback;
use super::enums::gearman_function_kind_t as Kind;
use super::error::{from_c, to_c};
use super::function::gearman_function_t;
use super::reducer::Reducer;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::shells::gearman_job_st;
use super::worker_impl::{with_allocator_copy, JobImpl, WorkerImpl, WorkerRef};
use crate::error::{Error, ReturnCode};
use crate::worker::{Callback, Job, Outcome};

const SUCCESS: GearmanReturn = GearmanReturn(gearman_return_t::GEARMAN_SUCCESS as u32);

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
/// `job` must be a live job shell; the callback pointers must have their kind's signature
/// (the contract of the exports registering them).
unsafe fn run_callback(
    function: gearman_function_t,
    context: *mut c_void,
    job: *mut gearman_job_st,
) -> Option<Ran> {
    let kind = function.kind;
    if kind == Kind::GEARMAN_WORKER_FUNCTION_V1 {
        // SAFETY: the caller guarantees the signature.
        let f = unsafe { callback(function.v1_fn()) }?;
        let mut size = 0usize;
        let mut ret: GearmanReturn = SUCCESS;
        // SAFETY: calling the user's function with valid out-parameters.
        let result = unsafe { f(job, context, &mut size, &mut ret) };
        Some(Ran::V1(ret, result, size))
    } else if kind == Kind::GEARMAN_WORKER_FUNCTION_V2
        || kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION
    {
        // SAFETY: the caller guarantees the signature.
        let f = unsafe { callback(function.v2_fn()) }?;
        let partition = kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION;
        // SAFETY: calling the user's function.
        Some(Ran::V2(unsafe { f(job, context) }, partition))
    } else {
        None
    }
}

/// `gearman_worker_work`: grabs one job (sleeping until there is one), runs its callback and
/// ends the job as the module docs say.
pub fn work(w: &mut WorkerRef) -> GearmanReturn {
    const OP: &str = "gearman_worker_work";
    w.core.error_state_mut().reset();
    if w.deferred_noop {
        w.deferred_noop = false;
        w.dispose_deferred();
        return SUCCESS;
    }
    let job = match w.core.grab_job(true) {
        Ok(job) => job,
        Err(e) => return grab_failed(w, &e),
    };
    let found = match w.core.registry().dispatch(job.function_name()) {
        None => Err("Function not found"),
        Some(entry) => match entry.callback() {
            Callback::Foreign(id) => w.functions.get(*id).copied().ok_or(""),
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
            return w.record(ReturnCode::InvalidFunctionName, OP, detail);
        }
    };
    let is_map = !job.reducer().is_empty();
    // The job is owned by this call and released below.
    let j = JobImpl::create(job, w, Storage::heap(), false);
    if is_map && function.function.kind == Kind::GEARMAN_WORKER_FUNCTION_PARTITION {
        let client = w.client_like();
        // SAFETY: the job just made, not shared yet.
        let ji = unsafe { &mut *j };
        if client.is_null() {
            // SAFETY: the job just made, released once.
            unsafe { JobImpl::destroy(j, false) };
            let detail = "cannot create the reducer's client";
            return w.record(ReturnCode::MemoryAllocationFailure, OP, detail);
        }
        let aggregator = function.function.aggregator();
        ji.reducer = Some(Reducer::new(client, ji.job.reducer(), aggregator));
    }
    // SAFETY: the live job's shell; no Rust borrow of the worker or the job is alive while
    // the callback runs; registered callbacks have their kind's signature (the contract of
    // the registering exports).
    let ran = unsafe { run_callback(function.function, function.context, (*j).shell()) };
    // SAFETY: the callback has returned: a fresh borrow of the job (C cannot free it).
    let ji = unsafe { &mut *j };
    let wi: &mut WorkerImpl = w;
    wi.release_kept_result();
    let (code, result) = match ran {
        None => (
            wi.record(ReturnCode::InvalidFunctionName, OP, no_callback),
            std::ptr::null_mut(),
        ),
        Some(Ran::V1(ret, result, size)) => {
            let data = if result.is_null() || size == 0 {
                &[][..]
            } else {
                // SAFETY: the function returned a buffer of `size` bytes (its contract).
                unsafe { std::slice::from_raw_parts(result.cast::<u8>(), size) }
            };
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

/// `gearman_worker_grab_job`: one job without sleeping, in `storage` (or a library shell);
/// NULL and the code otherwise.
pub fn grab_job(
    w: &mut WorkerRef,
    storage: Storage<'_, gearman_job_st>,
    ret: &mut Out<'_, GearmanReturn>,
) -> *mut gearman_job_st {
    match w.core.grab_job(false) {
        Ok(grabbed) => {
            let j = JobImpl::create(grabbed, w, storage, true);
            ret.set(SUCCESS);
            // SAFETY: the job just made; the worker owns it.
            unsafe { (*j).shell() }
        }
        Err(e) => {
            let code = grab_failed(w, &e);
            ret.set(code);
            std::ptr::null_mut()
        }
    }
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
    to_c(e.code())
}

/// Ends a job whose v1 callback set `*ret_ptr` to `ret` and produced `result`.
fn finish_v1(
    wi: &mut WorkerImpl,
    job: &mut Job,
    ret: GearmanReturn,
    result: &[u8],
) -> GearmanReturn {
    let raw = ret.0 as i32;
    match Outcome::from_v1(raw, Vec::new()) {
        Ok(Outcome::Success(_)) => complete(wi, job, result, SUCCESS),
        Ok(Outcome::Shutdown(_)) => complete(wi, job, result, to_c(ReturnCode::Shutdown)),
        Ok(Outcome::Retry) => {
            wi.core.close_connections();
            SUCCESS
        }
        Ok(Outcome::Fail(code)) => fail(wi, job, to_c(code)),
        Err(_) => fail(wi, job, ret),
    }
}

/// Ends a job whose v2 (or partition) callback returned `ret`.
fn finish_v2(
    wi: &mut WorkerImpl,
    job: &mut Job,
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
        Outcome::Shutdown(_) => complete(wi, job, &[], to_c(ReturnCode::Shutdown)),
        Outcome::Fail(code) => fail(wi, job, to_c(code)),
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
    job: &mut Job,
    ret: GearmanReturn,
    mut reducer: Reducer,
) -> GearmanReturn {
    let then = match Outcome::from_v2(ret.0 as i32).0 {
        Outcome::Success(_) => SUCCESS,
        Outcome::Shutdown(_) => to_c(ReturnCode::Shutdown),
        _ => return finish_v2(wi, job, ret, true),
    };
    match reducer.complete() {
        Ok(result) => complete(wi, job, &result, then),
        Err(code) => {
            let detail = format!("{} couldn't call complete()", reducer.name());
            let code = from_c(code);
            wi.record(code, "gearman_worker_work", &detail);
            match wi.core.job_send_fail(job) {
                Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
                _ => {
                    wi.deferred_noop = true;
                    to_c(code)
                }
            }
        }
    }
}

/// WORK_COMPLETE (unless finished already); `then` on success. A lost connection counts as a retry
/// (SUCCESS: the server hands the job out again), as 1.1.20.
fn complete(
    wi: &mut WorkerImpl,
    job: &mut Job,
    result: &[u8],
    then: GearmanReturn,
) -> GearmanReturn {
    let allocator = wi.allocator;
    let sent = if allocator.is_custom() && !job.is_finished() {
        // 1.1.20 copies the result into a buffer of the worker's allocator to send it.
        with_allocator_copy(allocator, result, |d| wi.core.job_send_complete(job, d))
    } else {
        wi.core.job_send_complete(job, result)
    };
    match sent {
        Ok(()) => then,
        Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
        Err(e) => {
            wi.deferred_noop = true;
            to_c(e.code())
        }
    }
}

/// WORK_FAIL (unless finished already); returns `code` and defers the no-op `work()` (Q7).
fn fail(wi: &mut WorkerImpl, job: &mut Job, code: GearmanReturn) -> GearmanReturn {
    match wi.core.job_send_fail(job) {
        Ok(()) => {
            wi.deferred_noop = true;
            code
        }
        Err(e) if e.code() == ReturnCode::LostConnection => SUCCESS,
        Err(e) => to_c(e.code()),
    }
}
