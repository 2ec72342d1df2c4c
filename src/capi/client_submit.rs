//! Submissions from C: `gearman_client_add_task*`, the status tasks, the synchronous
//! `gearman_client_do*` / `do_*background`, `job_status` and `unique_status`. The argument rules
//! and the runs are in `submit.rs`.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{buf, cstr, entry, handle, handle_opt, out, storage};
use super::client_impl::ClientRef;
use super::error::to_c;
use super::return_code::{gearman_return_t, GearmanReturn, INVALID};
use super::shells::{gearman_client_st, gearman_task_st};
use super::status::gearman_status_t;
use super::submit::{self, Submission};
use super::task_impl;
use crate::client::{Mode, Priority};
use crate::error::ReturnCode;

/// `gearman_task_st *gearman_client_add_task(gearman_client_st *client, gearman_task_st *task, void *context, const char *function_name, const char *unique, const void *workload, size_t workload_size, gearman_return_t *ret_ptr);`
///
/// A SUBMIT_JOB task. Creates it (in `task` or on the heap) at the head of the client's list with the
/// client's callbacks and `context`, copying the workload; nothing is sent before
/// `gearman_client_run_tasks`. NULL + `*ret_ptr` = INVALID_ARGUMENT for an invalid client or
/// arguments (the caller's struct untouched).
///
/// # Safety
///
/// `client` NULL or a live client shell; `task` NULL or writable; strings NULL or C strings;
/// `workload` readable for `workload_size` bytes; `ret_ptr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::Normal,
                background: false,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_high(...)`: as `gearman_client_add_task`, a SUBMIT_JOB_HIGH task.
///
/// # Safety
///
/// As `gearman_client_add_task`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_high(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::High,
                background: false,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_low(...)`: as `gearman_client_add_task`, a SUBMIT_JOB_LOW task.
///
/// # Safety
///
/// As `gearman_client_add_task`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_low(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::Low,
                background: false,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_background(...)`: as `gearman_client_add_task`, a SUBMIT_JOB_BG task.
///
/// # Safety
///
/// As `gearman_client_add_task`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::Normal,
                background: true,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_high_background(...)`: as `gearman_client_add_task`, a SUBMIT_JOB_HIGH_BG task.
///
/// # Safety
///
/// As `gearman_client_add_task`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_high_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::High,
                background: true,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_low_background(...)`: as `gearman_client_add_task`, a SUBMIT_JOB_LOW_BG task.
///
/// # Safety
///
/// As `gearman_client_add_task`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_low_background(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        submit::add_task(
            handle_opt!(client),
            storage!(task),
            context,
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(ret_ptr),
            Submission {
                priority: Priority::Low,
                background: true,
            },
        )
    })
}

/// `gearman_task_st *gearman_client_add_task_status(gearman_client_st *client, gearman_task_st *task, void *context, const char *job_handle, gearman_return_t *ret_ptr);`
///
/// A GET_STATUS task for `job_handle` (run by `run_tasks`; the status callback sees the answer).
/// Invalid client, NULL handle (1.1.20 crashes) or a handle of 64 bytes or more (1.1.20 truncates
/// it) → NULL + INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` NULL or a live client shell; `task` NULL or writable; `job_handle` NULL or a C string;
/// `ret_ptr` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_status(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    job_handle: *const c_char,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        let mut ret = out!(ret_ptr);
        ret.set(INVALID);
        let (Some(mut c), Some(handle)): (Option<ClientRef>, _) =
            (handle_opt!(client), cstr!(job_handle))
        else {
            return Ok(std::ptr::null_mut());
        };
        match submit::check_handle("gearman_client_add_task_status", handle) {
            Err(e) => {
                ret.set(to_c(e.code()));
                c.record(e);
                std::ptr::null_mut()
            }
            Ok(()) => {
                let id = c.core.add_status_task(handle, Mode::Events);
                let actions = c.actions;
                ret.set(to_c(ReturnCode::Success));
                task_impl::attach(&c, storage!(task), id, actions, context)
            }
        }
    })
}

/// `gearman_task_st *gearman_client_add_task_status_by_unique(gearman_client_st *client, gearman_task_st *task_ptr, const char *unique_handle, gearman_return_t *ret_ptr);`
///
/// A GET_STATUS_UNIQUE task (context NULL). Invalid client, NULL unique or one longer than 64 →
/// NULL + INVALID_ARGUMENT, not recorded (as 1.1.20).
///
/// # Safety
///
/// As `gearman_client_add_task_status`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_add_task_status_by_unique(
    client: *mut gearman_client_st,
    task_ptr: *mut gearman_task_st,
    unique_handle: *const c_char,
    ret_ptr: *mut GearmanReturn,
) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        let mut ret = out!(ret_ptr);
        ret.set(INVALID);
        let c: Option<ClientRef> = handle_opt!(client);
        match (c, cstr!(unique_handle)) {
            (Some(mut c), Some(unique)) => {
                match c.core.add_status_unique_task(unique, Mode::Events) {
                    Ok(id) => {
                        let actions = c.actions;
                        ret.set(to_c(ReturnCode::Success));
                        task_impl::attach(&c, storage!(task_ptr), id, actions, std::ptr::null_mut())
                    }
                    Err(_) => std::ptr::null_mut(),
                }
            }
            _ => std::ptr::null_mut(),
        }
    })
}

/// `void *gearman_client_do(gearman_client_st *client, const char *function_name, const char *unique, const void *workload, size_t workload_size, size_t *result_size, gearman_return_t *ret_ptr);`
///
/// Runs a foreground job (SUBMIT_JOB) to its end and returns WORK_DATA payloads + the WORK_COMPLETE
/// payload, NUL-terminated, from the workload malloc fn (libc by default; the caller frees it);
/// NULL with SUCCESS for an empty result. Failures: NULL and `*ret_ptr` = WORK_FAIL,
/// WORK_EXCEPTION, NO_SERVERS, COULD_NOT_CONNECT, LOST_CONNECTION, TIMEOUT, server codes; IO_WAIT
/// on a non-blocking client (the job runs, its result is lost, as 1.1.20).
///
/// # Safety
///
/// `client` NULL or a live client shell; strings NULL or C strings; `workload` readable for
/// `workload_size` bytes; out pointers NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    result_size: *mut usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut c_void {
    entry!(std::ptr::null_mut(), {
        submit::do_job(
            handle_opt!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            out!(result_size),
            out!(ret_ptr),
            Priority::Normal,
        )
    })
}

/// `void *gearman_client_do_high(...)`: as `gearman_client_do`, submitted as SUBMIT_JOB_HIGH.
///
/// # Safety
///
/// As `gearman_client_do`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_high(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    result_size: *mut usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut c_void {
    entry!(std::ptr::null_mut(), {
        submit::do_job(
            handle_opt!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            out!(result_size),
            out!(ret_ptr),
            Priority::High,
        )
    })
}

/// `void *gearman_client_do_low(...)`: as `gearman_client_do`, submitted as SUBMIT_JOB_LOW.
///
/// # Safety
///
/// As `gearman_client_do`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_low(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    result_size: *mut usize,
    ret_ptr: *mut GearmanReturn,
) -> *mut c_void {
    entry!(std::ptr::null_mut(), {
        submit::do_job(
            handle_opt!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            out!(result_size),
            out!(ret_ptr),
            Priority::Low,
        )
    })
}

/// `gearman_return_t gearman_client_do_background(gearman_client_st *client, const char *function_name, const char *unique, const void *workload, size_t workload_size, gearman_job_handle_t job_handle);`
///
/// Submits a background job (SUBMIT_JOB_BG) and waits for JOB_CREATED; the handle is copied into
/// `job_handle` (64 bytes, zero padded, if non-NULL) and the client's do-handle buffer. Returns
/// SUCCESS, INVALID_ARGUMENT, NO_SERVERS, COULD_NOT_CONNECT, LOST_CONNECTION, TIMEOUT or a server
/// code (e.g. JOB_QUEUE_FULL).
///
/// The three `do_*background` are declared by hand in `header/epilogue.h`: cbindgen cannot spell
/// the `gearman_job_handle_t` (`char[64]`) parameter.
///
/// # Safety
///
/// `client` NULL or a live client shell; strings NULL or C strings; `workload` readable for
/// `workload_size` bytes; `job_handle` NULL or 64 writable bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_background(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    job_handle: *mut c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        submit::do_background(
            &mut handle!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(job_handle.cast::<[u8; 64]>()),
            Priority::Normal,
        )
    })
}

/// `gearman_return_t gearman_client_do_high_background(...)`: as `gearman_client_do_background`, submitted as
/// SUBMIT_JOB_HIGH_BG.
///
/// # Safety
///
/// As `gearman_client_do_background`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_high_background(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    job_handle: *mut c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        submit::do_background(
            &mut handle!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(job_handle.cast::<[u8; 64]>()),
            Priority::High,
        )
    })
}

/// `gearman_return_t gearman_client_do_low_background(...)`: as `gearman_client_do_background`, submitted as
/// SUBMIT_JOB_LOW_BG.
///
/// # Safety
///
/// As `gearman_client_do_background`.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_low_background(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    job_handle: *mut c_char,
) -> GearmanReturn {
    entry!(INVALID, {
        submit::do_background(
            &mut handle!(client),
            cstr!(function_name),
            cstr!(unique),
            buf!(workload, workload_size),
            &mut out!(job_handle.cast::<[u8; 64]>()),
            Priority::Low,
        )
    })
}

/// `gearman_return_t gearman_client_job_status(gearman_client_st *client, const gearman_job_handle_t job_handle, bool *is_known, bool *is_running, uint32_t *numerator, uint32_t *denominator);`
///
/// GET_STATUS for the handle, blocking. Fills each non-NULL output; with both flag pointers NULL
/// the answer is encoded in the return: IN_PROGRESS (running), JOB_EXISTS (known), else SUCCESS.
/// On failure the outputs are false/0, except for an invalid client (left untouched, as 1.1.20).
/// NULL handle (1.1.20 crashes) or one of 64 bytes or more → INVALID_ARGUMENT before any I/O.
///
/// # Safety
///
/// `client` NULL or a live client shell; `job_handle` NULL or a C string; outputs NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_job_status(
    client: *mut gearman_client_st,
    job_handle: *const c_char,
    is_known: *mut bool,
    is_running: *mut bool,
    numerator: *mut u32,
    denominator: *mut u32,
) -> GearmanReturn {
    entry!(INVALID, {
        // 1.1.20 leaves the outputs untouched for an invalid client.
        let mut c: ClientRef = handle!(client);
        let (mut rc, known, running, num, den) = submit::job_status(&mut c, cstr!(job_handle));
        let (mut is_known, mut is_running) = (out!(is_known), out!(is_running));
        if rc == gearman_return_t::GEARMAN_SUCCESS && is_known.is_null() && is_running.is_null() {
            if running {
                rc = gearman_return_t::GEARMAN_IN_PROGRESS.into();
            } else if known {
                rc = gearman_return_t::GEARMAN_JOB_EXISTS.into();
            }
        }
        is_known.set(known);
        is_running.set(running);
        out!(numerator).set(num);
        out!(denominator).set(den);
        rc
    })
}

/// `gearman_status_t gearman_client_unique_status(gearman_client_st *client, const char *unique, size_t unique_length);`
///
/// GET_STATUS_UNIQUE, blocking; `unique_length` is ignored (strlen is used, as 1.1.20). Invalid
/// client → rc INVALID_ARGUMENT; NULL or over-long unique → rc UNKNOWN_STATE, not recorded.
///
/// # Safety
///
/// `client` NULL or a live client shell; `unique` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_unique_status(
    client: *mut gearman_client_st,
    unique: *const c_char,
    unique_length: usize,
) -> gearman_status_t {
    entry!(submit::status(INVALID, submit::UNKNOWN_STATUS), {
        let _ = unique_length;
        submit::unique_status(&mut handle!(client), cstr!(unique))
    })
}
