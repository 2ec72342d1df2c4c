//! Submissions from C: `gearman_client_add_task*`, the status tasks, the synchronous
//! `gearman_client_do*` / `do_*background`, `job_status` and `unique_status`.
//!
//! Argument rules (spec §6.2): function NULL or "" → INVALID_ARGUMENT "invalid function"; unique
//! longer than 64 → INVALID_ARGUMENT; a workload is `(NULL, 0)` or `(pointer, size > 0)`, anything
//! else → INVALID_ARGUMENT "invalid workload" (so a non-NULL empty workload is refused, as 1.1.20).

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary;
use super::client::{client_ptr, gearman_client_st, ClientImpl};
use super::client_run::drive;
use super::error::{from_c, to_c};
use super::limits::GEARMAN_JOB_HANDLE_SIZE;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::status::{gearman_status_t, gearman_status_u, gearman_status_v1_t};
use super::task::{attach_task, gearman_task_st};
use crate::client::{Mode, NewTask, Priority, Request, Task, TaskKind};
use crate::error::{Error, ReturnCode};

/// The validated arguments of a submission.
pub struct Args<'a> {
    /// Function name (without namespace).
    pub function: &'a [u8],
    /// Caller's unique (None/empty: generated).
    pub unique: Option<&'a [u8]>,
    /// The workload.
    pub workload: &'a [u8],
}

/// Validates the C arguments of a submission in libgearman's order (function, unique, the
/// `(pointer, size)` workload rule, then whether it fits a packet) before the workload is read.
///
/// # Safety
///
/// `function`/`unique` NULL or C strings; `workload` NULL or readable for `size` bytes.
pub unsafe fn parse_args<'a>(
    op: &str,
    client: &crate::client::Client,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    size: usize,
) -> Result<Args<'a>, Error> {
    // SAFETY: C strings (caller guarantee).
    let function = match unsafe { boundary::cstr_bytes(function) } {
        Some(f) if !f.is_empty() => f,
        _ => {
            return Err(Error::new(
                ReturnCode::InvalidArgument,
                op,
                "invalid function",
            ))
        }
    };
    // SAFETY: as above.
    let unique = unsafe { boundary::cstr_bytes(unique) };
    client.check_submission(function, unique, 0)?;
    if workload.is_null() != (size == 0) {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "invalid workload",
        ));
    }
    client.check_submission(function, unique, size)?;
    // SAFETY: readable for `size` bytes (caller guarantee), a size that fits a packet.
    let workload = unsafe { boundary::bytes_from(workload, size) };
    Ok(Args {
        function,
        unique,
        workload,
    })
}

/// The `(pointer, size)` workload rule, and the packet limit, before the workload is read.
///
/// # Safety
///
/// `workload` NULL or readable for `size` bytes during `'a`.
pub unsafe fn workload_of<'a>(
    op: &str,
    workload: *const c_void,
    size: usize,
) -> Result<&'a [u8], Error> {
    if workload.is_null() != (size == 0) {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "invalid workload",
        ));
    }
    crate::endpoint::check_packet(op, &[], size)?;
    // SAFETY: readable for `size` bytes (caller guarantee).
    Ok(unsafe { boundary::bytes_from(workload, size) })
}

/// Checks a job handle given by C: a handle the server assigned always fits
/// `gearman_job_handle_t` (63 bytes and the NUL), so a longer one is refused with
/// INVALID_ARGUMENT (1.1.20 truncates it or sends it as is).
pub fn check_handle(op: &str, handle: &[u8]) -> Result<(), Error> {
    if handle.len() >= GEARMAN_JOB_HANDLE_SIZE as usize {
        return Err(Error::new(
            ReturnCode::InvalidArgument,
            op,
            "job handle longer than GEARMAN_JOB_HANDLE_SIZE - 1",
        ));
    }
    Ok(())
}

/// Adds a task built from `t` and links it to a C shell. Errors are recorded on the client.
///
/// # Safety
///
/// `client` must be live; `storage` NULL or writable.
pub unsafe fn add_linked(
    client: *mut ClientImpl,
    storage: *mut gearman_task_st,
    context: *mut c_void,
    t: NewTask<'_>,
) -> Result<*mut gearman_task_st, ReturnCode> {
    // SAFETY: live client.
    let c = unsafe { &mut *client };
    let id = c.core.add_task_with(t).map_err(|e| e.code())?;
    let actions = c.actions;
    // SAFETY: live client; writable storage (caller guarantee).
    let shell = unsafe { attach_task(client, storage, id, actions, context) };
    if shell.is_null() {
        c.core.free_task(id);
        return Err(ReturnCode::MemoryAllocationFailure);
    }
    Ok(shell)
}

/// With a custom workload malloc fn, makes the task's allocator-owned copy of the workload.
///
/// # Safety
///
/// `client` live; `shell` a live task of it.
unsafe fn keep_allocator_copy(
    client: *mut ClientImpl,
    shell: *mut gearman_task_st,
    workload: &[u8],
) {
    // SAFETY: live client.
    let c = unsafe { &*client };
    if !c.alloc.has_custom_malloc() || workload.is_empty() {
        return;
    }
    // SAFETY: a live task shell.
    let Some(r) = (unsafe { super::task::task_impl(shell) }) else {
        return;
    };
    // SAFETY: the installed allocator has the C signatures.
    let p = unsafe { c.alloc.malloc(workload.len()) };
    if !p.is_null() {
        // SAFETY: `p` has `workload.len()` fresh bytes.
        unsafe { std::ptr::copy_nonoverlapping(workload.as_ptr(), p.cast::<u8>(), workload.len()) };
    }
    r.workload_copy = p;
}

/// The body shared by the six `gearman_client_add_task*`.
#[allow(clippy::too_many_arguments)]
unsafe fn add_task(
    client: *mut gearman_client_st,
    task: *mut gearman_task_st,
    context: *mut c_void,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
    priority: Priority,
    background: bool,
) -> *mut gearman_task_st {
    let (shell, rc) = boundary::guard((std::ptr::null_mut(), ReturnCode::InvalidArgument), || {
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            return (std::ptr::null_mut(), ReturnCode::InvalidArgument);
        };
        const OP: &str = "gearman_client_add_task";
        // SAFETY: C arguments as documented (caller guarantee).
        // SAFETY: live client.
        let core = unsafe { &(*c).core };
        let r = match unsafe { parse_args(OP, core, function, unique, workload, workload_size) } {
            Err(e) => {
                let code = e.code();
                // SAFETY: live client.
                unsafe { (*c).record(e) };
                Err(code)
            }
            Ok(a) => {
                let t = NewTask {
                    request: Request::Job {
                        priority,
                        background,
                    },
                    function: a.function,
                    unique: a.unique,
                    workload: a.workload.to_vec(),
                    mode: Mode::Events,
                    kind: TaskKind::AddTask,
                };
                // SAFETY: live client; storage writable (caller guarantee).
                let r = unsafe { add_linked(c, task, context, t) };
                if let Ok(shell) = r {
                    // SAFETY: live client and the task just linked.
                    unsafe { keep_allocator_copy(c, shell, a.workload) };
                }
                r
            }
        };
        // SAFETY: live client.
        unsafe { (*c).flush_log() };
        match r {
            Ok(shell) => (shell, ReturnCode::Success),
            Err(code) => (std::ptr::null_mut(), code),
        }
    });
    // SAFETY: writable out pointer (caller guarantee).
    unsafe { boundary::write_out(ret_ptr, to_c(rc)) };
    shell
}

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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::Normal,
            false,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::High,
            false,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::Low,
            false,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::Normal,
            true,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::High,
            true,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        add_task(
            client,
            task,
            context,
            function_name,
            unique,
            workload,
            workload_size,
            ret_ptr,
            Priority::Low,
            true,
        )
    }
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
    let (shell, rc) = boundary::guard((std::ptr::null_mut(), ReturnCode::InvalidArgument), || {
        // SAFETY: caller guarantee.
        let (Some(c), Some(handle)) = (unsafe { client_ptr(client) }, unsafe {
            boundary::cstr_bytes(job_handle)
        }) else {
            return (std::ptr::null_mut(), ReturnCode::InvalidArgument);
        };
        if let Err(e) = check_handle("gearman_client_add_task_status", handle) {
            let code = e.code();
            // SAFETY: live client.
            unsafe { (*c).record(e) };
            return (std::ptr::null_mut(), code);
        }
        // SAFETY: live client.
        let id = unsafe { (*c).core.add_status_task(handle, Mode::Events) };
        // SAFETY: live client.
        let actions = unsafe { (*c).actions };
        // SAFETY: live client; writable storage (caller guarantee).
        let shell = unsafe { attach_task(c, task, id, actions, context) };
        (shell, ReturnCode::Success)
    });
    // SAFETY: writable out pointer (caller guarantee).
    unsafe { boundary::write_out(ret_ptr, to_c(rc)) };
    shell
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
    let (shell, rc) = boundary::guard((std::ptr::null_mut(), ReturnCode::InvalidArgument), || {
        // SAFETY: caller guarantee.
        let (Some(c), Some(unique)) = (unsafe { client_ptr(client) }, unsafe {
            boundary::cstr_bytes(unique_handle)
        }) else {
            return (std::ptr::null_mut(), ReturnCode::InvalidArgument);
        };
        // SAFETY: live client.
        let Ok(id) = (unsafe { (*c).core.add_status_unique_task(unique, Mode::Events) }) else {
            return (std::ptr::null_mut(), ReturnCode::InvalidArgument);
        };
        // SAFETY: live client.
        let actions = unsafe { (*c).actions };
        // SAFETY: live client; writable storage (caller guarantee).
        let shell = unsafe { attach_task(c, task_ptr, id, actions, std::ptr::null_mut()) };
        (shell, ReturnCode::Success)
    });
    // SAFETY: writable out pointer (caller guarantee).
    unsafe { boundary::write_out(ret_ptr, to_c(rc)) };
    shell
}

/// Submits an internal collect-mode task and runs the loop until it ends (other tasks' callbacks
/// may fire on the way); returns the finished core task, or the loop's failure code.
///
/// # Safety
///
/// `client` must be live and not freed by a callback.
pub unsafe fn run_internal(client: *mut ClientImpl, t: NewTask<'_>) -> Result<Task, GearmanReturn> {
    // SAFETY: live client.
    let id = unsafe { (*client).core.add_task_with(t) }.map_err(|e| to_c(e.code()))?;
    // SAFETY: forwarded caller guarantee.
    unsafe { run_internal_id(client, id) }
}

/// [`run_internal`] for a task already added.
///
/// # Safety
///
/// As [`run_internal`].
pub unsafe fn run_internal_id(
    client: *mut ClientImpl,
    id: crate::client::TaskId,
) -> Result<Task, GearmanReturn> {
    // SAFETY: live client for the whole call (caller guarantee).
    let r = unsafe { drive(client, Some(id)) };
    if let Err(rc) = r {
        // SAFETY: live client.
        unsafe {
            (*client)
                .core
                .submit_before_io_wait(&Error::code_only(from_c(rc)))
        };
    }
    // SAFETY: live client.
    let task = unsafe { (*client).core.free_task(id) };
    r?;
    task.ok_or_else(|| gearman_return_t::GEARMAN_UNKNOWN_STATE.into())
}

/// Stores a finished task's failure on the client the way 1.1.20 shows it: quiet codes (WORK_FAIL,
/// WORK_EXCEPTION) as the bare code, others with a message.
fn record_task_failure(c: &mut ClientImpl, code: ReturnCode, op: &str) {
    if c.core.error_state().code() == code {
        return;
    }
    c.record(Error::new(code, op, "task did not succeed"));
}

/// The body shared by `gearman_client_do`, `_high`, `_low`.
#[allow(clippy::too_many_arguments)]
unsafe fn do_job(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    result_size: *mut usize,
    ret_ptr: *mut GearmanReturn,
    priority: Priority,
) -> *mut c_void {
    // SAFETY: caller guarantee.
    if unsafe { client_ptr(client) }.is_none() {
        // 1.1.20 leaves `*result_size` untouched for an invalid client.
        // SAFETY: writable out pointer (caller guarantee).
        unsafe { boundary::write_out(ret_ptr, gearman_return_t::GEARMAN_INVALID_ARGUMENT.into()) };
        return std::ptr::null_mut();
    }
    // SAFETY: writable out pointer (caller guarantee).
    unsafe { boundary::write_out(result_size, 0) };
    let (result, size, rc) = boundary::guard(
        (
            std::ptr::null_mut(),
            0,
            gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        ),
        || {
            // SAFETY: caller guarantee.
            let Some(c) = (unsafe { client_ptr(client) }) else {
                return (
                    std::ptr::null_mut(),
                    0,
                    gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
                );
            };
            // SAFETY: live client for the whole call.
            let out = unsafe { do_job_on(c, function, unique, workload, workload_size, priority) };
            // SAFETY: live client.
            unsafe { (*c).flush_log() };
            out
        },
    );
    // SAFETY: writable out pointers (caller guarantee).
    unsafe {
        boundary::write_out(result_size, size);
        boundary::write_out(ret_ptr, rc);
    }
    result
}

unsafe fn do_job_on(
    c: *mut ClientImpl,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    priority: Priority,
) -> (*mut c_void, usize, GearmanReturn) {
    const OP: &str = "gearman_client_do";
    let null = std::ptr::null_mut();
    // SAFETY: live client.
    unsafe { (*c).core.error_state_mut().reset() };
    // SAFETY: C arguments as documented (caller guarantee).
    // SAFETY: live client.
    let core = unsafe { &(*c).core };
    let a = match unsafe { parse_args(OP, core, function, unique, workload, workload_size) } {
        Ok(a) => a,
        Err(e) => {
            let rc = to_c(e.code());
            // SAFETY: live client.
            unsafe { (*c).record(e) };
            return (null, 0, rc);
        }
    };
    let t = NewTask {
        request: Request::Job {
            priority,
            background: false,
        },
        function: a.function,
        unique: a.unique,
        workload: a.workload.to_vec(),
        mode: Mode::Events,
        kind: TaskKind::Do,
    };
    // SAFETY: live client for the whole call.
    let mut task = match unsafe { run_internal(c, t) } {
        Ok(t) => t,
        Err(rc) => return (null, 0, rc),
    };
    // SAFETY: live client, no callback running.
    let cl = unsafe { &mut *c };
    if cl.core.options().non_blocking {
        // 1.1.20 on a non-blocking client: IO_WAIT, the result is lost (§11 Q8).
        cl.core.error_state_mut().set_code(ReturnCode::IoWait);
        return (null, 0, gearman_return_t::GEARMAN_IO_WAIT.into());
    }
    match task.return_code() {
        ReturnCode::Success => {
            let Some(bytes) = task.take_result().filter(|b| !b.is_empty()) else {
                return (null, 0, gearman_return_t::GEARMAN_SUCCESS.into());
            };
            // SAFETY: the installed allocator has the C signatures.
            let p = unsafe { cl.alloc.copy_with_nul(&bytes) };
            if p.is_null() {
                cl.record(Error::new(
                    ReturnCode::MemoryAllocationFailure,
                    OP,
                    "result copy",
                ));
                return (
                    null,
                    0,
                    gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE.into(),
                );
            }
            (p, bytes.len(), gearman_return_t::GEARMAN_SUCCESS.into())
        }
        code => {
            record_task_failure(cl, code, OP);
            (null, 0, to_c(code))
        }
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_job(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            result_size,
            ret_ptr,
            Priority::Normal,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_job(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            result_size,
            ret_ptr,
            Priority::High,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_job(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            result_size,
            ret_ptr,
            Priority::Low,
        )
    }
}

/// The body shared by the three `do_*background`.
unsafe fn do_background(
    client: *mut gearman_client_st,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    job_handle: *mut c_char,
    priority: Priority,
) -> GearmanReturn {
    boundary::guard(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), || {
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
        };
        // SAFETY: live client for the whole call; arguments as documented.
        let rc = unsafe {
            do_background_on(
                c,
                function,
                unique,
                workload,
                workload_size,
                job_handle,
                priority,
            )
        };
        // SAFETY: live client.
        unsafe { (*c).flush_log() };
        rc
    })
}

unsafe fn do_background_on(
    c: *mut ClientImpl,
    function: *const c_char,
    unique: *const c_char,
    workload: *const c_void,
    workload_size: usize,
    job_handle: *mut c_char,
    priority: Priority,
) -> GearmanReturn {
    const OP: &str = "gearman_client_do_background";
    // SAFETY: live client.
    let cl = unsafe { &mut *c };
    cl.core.error_state_mut().reset();
    // SAFETY: a C string (caller guarantee).
    if !unsafe { boundary::cstr_bytes(function) }.is_some_and(|f| !f.is_empty()) {
        cl.record(Error::new(
            ReturnCode::InvalidArgument,
            OP,
            "function argument was empty",
        ));
        return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
    }
    cl.do_handle = [0; 64];
    // SAFETY: C arguments as documented (caller guarantee).
    let a = match unsafe { parse_args(OP, &cl.core, function, unique, workload, workload_size) } {
        Ok(a) => a,
        Err(e) => {
            let rc = to_c(e.code());
            cl.record(e);
            return rc;
        }
    };
    let t = NewTask {
        request: Request::Job {
            priority,
            background: true,
        },
        function: a.function,
        unique: a.unique,
        workload: a.workload.to_vec(),
        mode: Mode::Events,
        kind: TaskKind::Do,
    };
    // SAFETY: live client for the whole call.
    let mut r = unsafe { run_internal(c, t) };
    // SAFETY: live client, no callback running.
    let cl = unsafe { &mut *c };
    if cl.core.options().non_blocking && r.is_ok() {
        // 1.1.20 on a non-blocking client: the job is submitted, the call answers IO_WAIT and
        // the handle is not reported, even when JOB_CREATED was already read (§11 Q8).
        cl.core.error_state_mut().set_code(ReturnCode::IoWait);
        r = Err(gearman_return_t::GEARMAN_IO_WAIT.into());
    }
    let handle: &[u8] = match &r {
        Ok(t) => t.job_handle(),
        Err(_) => b"",
    };
    let n = handle.len().min(63);
    cl.do_handle[..n].copy_from_slice(&handle[..n]);
    if !job_handle.is_null() {
        // SAFETY: `gearman_job_handle_t` is 64 writable bytes (caller guarantee); strncpy(…, 64).
        unsafe {
            std::ptr::write_bytes(job_handle, 0, 64);
            std::ptr::copy_nonoverlapping(
                handle.as_ptr(),
                job_handle.cast::<u8>(),
                handle.len().min(64),
            );
        }
    }
    match r {
        Err(rc) => rc,
        Ok(t) if t.return_code() == ReturnCode::Success => gearman_return_t::GEARMAN_SUCCESS.into(),
        Ok(t) => {
            record_task_failure(cl, t.return_code(), OP);
            to_c(t.return_code())
        }
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_background(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            job_handle,
            Priority::Normal,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_background(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            job_handle,
            Priority::High,
        )
    }
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
    // SAFETY: forwarded caller guarantee.
    unsafe {
        do_background(
            client,
            function_name,
            unique,
            workload,
            workload_size,
            job_handle,
            Priority::Low,
        )
    }
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
    // SAFETY: caller guarantee.
    if unsafe { client_ptr(client) }.is_none() {
        // 1.1.20 leaves the outputs untouched for an invalid client.
        return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
    }
    let (rc, known, running, num, den) = boundary::guard(
        (
            gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
            false,
            false,
            0,
            0,
        ),
        || {
            let fail = |rc: GearmanReturn| (rc, false, false, 0, 0);
            // SAFETY: caller guarantee.
            let Some(c) = (unsafe { client_ptr(client) }) else {
                return fail(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into());
            };
            // SAFETY: live client.
            let cl = unsafe { &mut *c };
            cl.core.error_state_mut().reset();
            // SAFETY: a C string (caller guarantee).
            let Some(handle) = (unsafe { boundary::cstr_bytes(job_handle) }) else {
                cl.record(Error::new(
                    ReturnCode::InvalidArgument,
                    "gearman_client_job_status",
                    "job_handle was NULL",
                ));
                return fail(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into());
            };
            if let Err(e) = check_handle("gearman_client_job_status", handle) {
                let code = to_c(e.code());
                cl.record(e);
                return fail(code);
            }
            let id = cl.core.add_status_task(handle, Mode::Collect);
            // SAFETY: live client for the whole call.
            let r = unsafe { run_internal_id(c, id) };
            // SAFETY: live client.
            let cl = unsafe { &mut *c };
            cl.flush_log();
            match r {
                Err(rc) => fail(rc),
                Ok(t) if t.return_code() != ReturnCode::Success => fail(to_c(t.return_code())),
                Ok(t) => (
                    gearman_return_t::GEARMAN_SUCCESS.into(),
                    t.is_known(),
                    t.is_running(),
                    t.numerator(),
                    t.denominator(),
                ),
            }
        },
    );
    let mut rc = rc;
    if rc == gearman_return_t::GEARMAN_SUCCESS && is_known.is_null() && is_running.is_null() {
        if running {
            rc = gearman_return_t::GEARMAN_IN_PROGRESS.into();
        } else if known {
            rc = gearman_return_t::GEARMAN_JOB_EXISTS.into();
        }
    }
    // SAFETY: writable out pointers (caller guarantee).
    unsafe {
        boundary::write_out(is_known, known);
        boundary::write_out(is_running, running);
        boundary::write_out(numerator, num);
        boundary::write_out(denominator, den);
    }
    rc
}

fn status(rc: GearmanReturn, v: gearman_status_v1_t) -> gearman_status_t {
    gearman_status_t {
        version_: super::enums::gearman_status_version_t::GEARMAN_STATUS_V1.into(),
        status_: gearman_status_u {
            mesg_: gearman_status_v1_t { result_rc: rc, ..v },
        },
    }
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
    let _ = unique_length;
    let empty = gearman_status_v1_t {
        result_rc: gearman_return_t::GEARMAN_UNKNOWN_STATE.into(),
        is_known: false,
        is_running: false,
        numerator: 0,
        denominator: 0,
        client_count: 0,
    };
    boundary::guard(
        status(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), empty),
        || {
            // SAFETY: caller guarantee.
            let Some(c) = (unsafe { client_ptr(client) }) else {
                return status(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), empty);
            };
            // SAFETY: a C string (caller guarantee).
            let Some(unique) = (unsafe { boundary::cstr_bytes(unique) }) else {
                return status(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), empty);
            };
            // SAFETY: live client.
            let cl = unsafe { &mut *c };
            cl.core.error_state_mut().reset();
            let Ok(id) = cl.core.add_status_unique_task(unique, Mode::Collect) else {
                return status(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), empty);
            };
            // SAFETY: live client for the whole call.
            let r = unsafe { run_internal_id(c, id) };
            // SAFETY: live client.
            unsafe { (*c).flush_log() };
            match r {
                Err(rc) => status(rc, empty),
                Ok(t) => status(
                    to_c(t.return_code()),
                    gearman_status_v1_t {
                        is_known: t.is_known(),
                        is_running: t.is_running(),
                        numerator: t.numerator(),
                        denominator: t.denominator(),
                        client_count: t.client_count(),
                        ..empty
                    },
                ),
            }
        },
    )
}
