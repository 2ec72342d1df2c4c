//! `gearman_job_st` (upstream interface/job.h, job.h): the reports a worker sends for a job and
//! the job's accessors. A job belongs to its worker; see [`JobImpl`](super::worker_impl::JobImpl).

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{buf, entry, handle, out, Storage};
use super::return_code::{GearmanReturn, INVALID};
use super::shells::{gearman_client_st, gearman_job_st, gearman_worker_st};
use super::worker_impl::JobRef;
use crate::error::ReturnCode;

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
    entry!((), {
        let j: JobRef = handle!(job);
        j.free();
    })
}

/// `void gearman_job_free_all(gearman_worker_st *worker);`: frees every job the worker handed out
/// with `grab_job` and C has not freed. Invalid → no-op.
///
/// # Safety
///
/// A non-NULL `worker` must be a live shell; the freed jobs must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_free_all(worker: *mut gearman_worker_st) {
    entry!((), {
        handle!(worker).free_jobs();
    })
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
    entry!(INVALID, {
        const OP: &str = "gearman_job_send_data";
        let mut j: JobRef = handle!(job);
        let data = buf!(data, data_size);
        // A map job's data goes to its reducer.
        let finished = j.job.is_finished();
        match j.reducer.as_mut() {
            Some(reducer) if !finished => {
                match data.checked(|len| crate::endpoint::check_packet(OP, &[], len.unwrap_or(0))) {
                    Ok(data) => reducer.add(data),
                    Err(e) => super::error::to_c(e.code()),
                }
            }
            _ => j.send_with_data(OP, data, |w, j, d| w.job_send_data(j, d)),
        }
    })
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
    entry!(INVALID, {
        let mut j: JobRef = handle!(job);
        j.send_with_data(
            "gearman_job_send_warning",
            buf!(warning, warning_size),
            |w, j, d| w.job_send_warning(j, d),
        )
    })
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
    entry!(INVALID, {
        let mut j: JobRef = handle!(job);
        j.send(None, |w, j, _| w.job_send_status(j, numerator, denominator))
    })
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
    entry!(INVALID, {
        let mut j: JobRef = handle!(job);
        // A map job completes through its reducer when the function returns (1.1.20).
        if !j.job.is_finished() && j.reducer.is_some() {
            INVALID
        } else {
            j.send_with_data(
                "gearman_job_send_complete",
                buf!(result, result_size),
                |w, j, d| w.job_send_complete(j, d),
            )
        }
    })
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
    entry!(INVALID, {
        let mut j: JobRef = handle!(job);
        j.send_with_data(
            "gearman_job_send_exception",
            buf!(exception, exception_size),
            |w, j, d| w.job_send_exception(j, d),
        )
    })
}

/// `gearman_return_t gearman_job_send_fail(gearman_job_st *job);`: WORK_FAIL(handle) and the job
/// is finished; a finished job → SUCCESS.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_send_fail(job: *mut gearman_job_st) -> GearmanReturn {
    entry!(INVALID, {
        let mut j: JobRef = handle!(job);
        if !j.job.is_finished() && j.reducer.is_some() {
            let w = j.worker();
            let code = w.record(
                ReturnCode::InvalidArgument,
                "gearman_job_send_fail",
                "Job has a reducer",
            );
            w.flush_log();
            code
        } else {
            j.send(None, |w, j, _| w.job_send_fail(j))
        }
    })
}

/// `const char *gearman_job_handle(const gearman_job_st *job);`: "H:host:n"; invalid → NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell. The string lives as long as the job.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_handle(job: *const gearman_job_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(job).handle_cstr() })
}

/// `const char *gearman_job_function_name(const gearman_job_st *job);`: as assigned by the server
/// (namespace included); invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_function_name(job: *const gearman_job_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(job).function_cstr() })
}

/// `const char *gearman_job_unique(const gearman_job_st *job);`: the unique of JOB_ASSIGN_UNIQ /
/// JOB_ASSIGN_ALL, "" for plain JOB_ASSIGN; invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_unique(job: *const gearman_job_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(job).unique_cstr() })
}

/// `const void *gearman_job_workload(const gearman_job_st *job);`: the workload bytes (not
/// NUL-terminated by contract), NULL when empty or taken; invalid → NULL.
///
/// # Safety
///
/// As [`gearman_job_handle`].
#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload(job: *const gearman_job_st) -> *const c_void {
    entry!(std::ptr::null(), { handle!(job).workload_ptr() })
}

/// `size_t gearman_job_workload_size(const gearman_job_st *job);` (invalid → 0).
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_workload_size(job: *const gearman_job_st) -> usize {
    entry!(0, { handle!(job).job.workload().len() })
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
    entry!(std::ptr::null_mut(), {
        let (workload, size) = handle!(job).take_workload();
        out!(data_size).set(size);
        workload
    })
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
) -> *mut gearman_worker_st {
    entry!(std::ptr::null_mut(), {
        match handle!(job).worker().cloned() {
            Some(w) => w.install(Storage::heap()),
            None => std::ptr::null_mut(),
        }
    })
}

/// `const char *gearman_job_error(gearman_job_st *job);`: the owning worker's `error()`. Invalid →
/// NULL.
///
/// # Safety
///
/// A non-NULL `job` must be a live shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_job_error(job: *mut gearman_job_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(job).worker().error_ptr() })
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
    entry!(std::ptr::null_mut(), {
        let mut j: JobRef = handle!(job);
        if j.client.is_null() {
            j.client = j.worker().client_like();
        }
        j.client
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::boundary::{Handle, Storage};
    use crate::capi::error::to_c;
    use crate::capi::worker::{gearman_worker_create, gearman_worker_error, gearman_worker_free};
    use crate::capi::worker_impl::{JobImpl, WorkerRef};
    use crate::worker::Job;
    use std::ffi::CStr;

    fn job() -> Job {
        Job {
            handle: b"H:host:7".to_vec(),
            function: b"ns_fn".to_vec(),
            unique: b"u-1".to_vec(),
            reducer: Vec::new(),
            workload: b"payload".to_vec().into(),
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
            let wref = WorkerRef::from_c(w).expect("worker");
            let mut storage = std::mem::MaybeUninit::<gearman_job_st>::uninit();
            let j = JobImpl::create(job(), &wref, Storage::new(storage.as_mut_ptr()), true);
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
            assert_eq!(rc, to_c(ReturnCode::LostConnection));
            assert!(text(gearman_worker_error(w)).contains("GEARMAN_LOST_CONNECTION"));
            let rc = gearman_job_send_exception(shell, std::ptr::null(), 0);
            assert_eq!(rc, to_c(ReturnCode::InvalidArgument));
            assert_eq!(wref.jobs.len(), 1);
            gearman_job_free(shell);
            assert!(wref.jobs.is_empty());
            assert!((*shell)._impl.is_null());
            drop(wref);
            gearman_worker_free(w);
        }
    }
}
