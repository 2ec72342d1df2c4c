//! The accessors of `gearman_task_st` (upstream interface/task.h and task.h): a task belongs to
//! its client; its record ([`TaskImpl`](super::task_impl::TaskImpl)) is a thin layer next to
//! the core's [`crate::client::Task`], which most accessors read.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::allocator::given;
use super::boundary::{entry, handle, out, out_buf};
use super::error::to_c;
use super::result::gearman_result_st;
use super::return_code::{gearman_return_t, GearmanReturn, INVALID};
use super::shells::gearman_task_st;
use super::string::gearman_string_t;
use super::task_impl::{self, TaskRef};
use crate::client::{EventKind, Task, TaskState};
use crate::error::{Error, ReturnCode};

/// The NUL-terminated name of a state.
fn state_name(state: TaskState) -> &'static [u8] {
    match state {
        TaskState::New => b"GEARMAN_TASK_STATE_NEW\0",
        TaskState::Submit => b"GEARMAN_TASK_STATE_SUBMIT\0",
        TaskState::Workload => b"GEARMAN_TASK_STATE_WORKLOAD\0",
        TaskState::Work => b"GEARMAN_TASK_STATE_WORK\0",
        TaskState::Created => b"GEARMAN_TASK_STATE_CREATED\0",
        TaskState::Data => b"GEARMAN_TASK_STATE_DATA\0",
        TaskState::Warning => b"GEARMAN_TASK_STATE_WARNING\0",
        TaskState::Status => b"GEARMAN_TASK_STATE_STATUS\0",
        TaskState::Complete => b"GEARMAN_TASK_STATE_COMPLETE\0",
        TaskState::Exception => b"GEARMAN_TASK_STATE_EXCEPTION\0",
        TaskState::Fail => b"GEARMAN_TASK_STATE_FAIL\0",
        TaskState::Finished => b"GEARMAN_TASK_STATE_FINISHED\0",
    }
}

/// `void gearman_task_free(gearman_task_st *task);`
///
/// Releases the task (running the client's task-context free fn when the context is non-NULL), frees
/// a library-allocated shell and clears caller storage. NULL or a detached shell: nothing to do.
///
/// # Safety
///
/// `task` must be NULL or a live task shell; it must not be the task whose callback is running.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_free(task: *mut gearman_task_st) {
    entry!((), {
        task_impl::release(handle!(task));
    })
}

/// `void *gearman_task_context(const gearman_task_st *task);` NULL for an invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_context(task: *const gearman_task_st) -> *mut c_void {
    entry!(std::ptr::null_mut(), { handle!(task).context })
}

/// `void gearman_task_set_context(gearman_task_st *task, void *context);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_set_context(
    task: *mut gearman_task_st,
    context: *mut c_void,
) {
    entry!((), {
        handle!(task).context = context;
    })
}

/// `const char *gearman_task_function_name(const gearman_task_st *task);` with the namespace; the
/// handle for status tasks, the unique for status-by-unique tasks. NULL for an invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_function_name(task: *const gearman_task_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(task).function_c.as_ptr().cast()
    })
}

/// `const char *gearman_task_unique(const gearman_task_st *task);` ("" for status tasks).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_unique(task: *const gearman_task_st) -> *const c_char {
    entry!(std::ptr::null(), { handle!(task).unique_c.as_ptr().cast() })
}

/// `const char *gearman_task_job_handle(const gearman_task_st *task);` ("" before JOB_CREATED).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_job_handle(task: *const gearman_task_st) -> *const c_char {
    entry!(std::ptr::null(), {
        let mut r: TaskRef = handle!(task);
        let (record, client) = r.split();
        if let Some(t) = client.core.task(record.id) {
            record.refresh_handle(t.job_handle());
        }
        record.handle_c.as_ptr().cast()
    })
}

/// `bool gearman_task_is_known(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_known(task: *const gearman_task_st) -> bool {
    entry!(false, {
        handle!(task).core().is_some_and(|t| t.is_known())
    })
}

/// `bool gearman_task_is_running(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_running(task: *const gearman_task_st) -> bool {
    entry!(false, {
        handle!(task).core().is_some_and(|t| t.is_running())
    })
}

/// `uint32_t gearman_task_numerator(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_numerator(task: *const gearman_task_st) -> u32 {
    entry!(0, { handle!(task).core().map_or(0, |t| t.numerator()) })
}

/// `uint32_t gearman_task_denominator(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_denominator(task: *const gearman_task_st) -> u32 {
    entry!(0, { handle!(task).core().map_or(0, |t| t.denominator()) })
}

/// `const void *gearman_task_data(const gearman_task_st *task);` the payload of the reply being
/// delivered (NULL outside a callback, and under UNBUFFERED_RESULT).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_data(task: *const gearman_task_st) -> *const c_void {
    entry!(std::ptr::null(), {
        let mut r: TaskRef = handle!(task);
        let (record, client) = r.split();
        let unbuffered = client.core.options().unbuffered_result;
        let data = client.core.task(record.id).and_then(Task::data);
        match (data, record.packet) {
            (Some(d), _) if d.is_empty() || unbuffered => std::ptr::null(),
            // An exception is shown NUL-terminated, as 1.1.20 shows it (the core keeps the NUL).
            (Some(_), Some(p)) if p.event.kind != EventKind::Exception => p.ptr.cast_const(),
            (Some(d), _) => d.as_ptr().cast(),
            (None, _) => std::ptr::null(),
        }
    })
}

/// `size_t gearman_task_data_size(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_data_size(task: *const gearman_task_st) -> usize {
    entry!(0, {
        handle!(task)
            .core()
            .map_or(0, |t| t.data().map_or(0, <[u8]>::len))
    })
}

/// `void *gearman_task_take_data(gearman_task_st *task, size_t *data_size);` detaches the current
/// payload into memory from the client's workload allocator (libc `malloc` by default); the caller
/// frees it. No payload: NULL and size 0 (1.1.20 crashes). Invalid task: NULL, size untouched.
///
/// # Safety
///
/// `task` must be NULL or a live task shell; a non-NULL `data_size` must be writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_take_data(
    task: *mut gearman_task_st,
    data_size: *mut usize,
) -> *mut c_void {
    entry!(std::ptr::null_mut(), {
        let (data, size) = handle!(task).take_data();
        out!(data_size).set(size);
        data
    })
}

/// `size_t gearman_task_recv_data(gearman_task_st *task, void *data, size_t data_size, gearman_return_t *ret_ptr);`
///
/// UNBUFFERED_RESULT reading: copies the next bytes of the current payload (results are always
/// read whole by this library, so nothing ever waits). 0 + SUCCESS when nothing is pending.
///
/// # Safety
///
/// `task` must be NULL or a live task shell; `data` writable for `data_size` bytes; a non-NULL
/// `ret_ptr` writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_recv_data(
    task: *mut gearman_task_st,
    data: *mut c_void,
    data_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> usize {
    entry!(0, {
        let mut ret = out!(ret_ptr);
        ret.set(INVALID);
        let mut r: TaskRef = handle!(task);
        let offset = r.recv_offset;
        let pending = r
            .core()
            .and_then(|t| t.data())
            .map_or(&[][..], |d| &d[offset.min(d.len())..]);
        let n = out_buf!(data, data_size).fill(pending);
        r.recv_offset += n;
        ret.set(gearman_return_t::GEARMAN_SUCCESS.into());
        n
    })
}

/// `const char *gearman_task_error(const gearman_task_st *task);` NULL while the task code is
/// UNKNOWN_STATE or SUCCESS, else the code's name.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_error(task: *const gearman_task_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(task)
            .core()
            .map_or(std::ptr::null(), |t| match t.return_code() {
                ReturnCode::UnknownState | ReturnCode::Success => std::ptr::null(),
                c => c.name_cstr().as_ptr().cast(),
            })
    })
}

/// `gearman_result_st *gearman_task_result(gearman_task_st *task);` the accumulated result of a
/// do/execute task (NULL for `add_task` tasks unless the pause actions stored one).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_result(task: *mut gearman_task_st) -> *mut gearman_result_st {
    entry!(std::ptr::null_mut(), {
        let mut r: TaskRef = handle!(task);
        // The core accumulates the payloads of a do/execute task; they move into the C result
        // object as they arrive, so values C stores in it stay put. No payload yet: no object
        // (a background execute has none, as 1.1.20).
        let stored = match r.core().and_then(Task::take_result) {
            Some(bytes) => r
                .result
                .get_or_insert_with(gearman_result_st::new)
                .append(&bytes)
                .is_ok(),
            None => true,
        };
        match r.result.as_mut() {
            Some(result) if stored => result as *mut gearman_result_st,
            _ => std::ptr::null_mut(),
        }
    })
}

/// `gearman_return_t gearman_task_return(const gearman_task_st *task);` INVALID_ARGUMENT for an
/// invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_return(task: *const gearman_task_st) -> GearmanReturn {
    entry!(INVALID, {
        handle!(task)
            .core()
            .map_or(INVALID, |t| to_c(t.return_code()))
    })
}

/// `const char *gearman_task_strstate(const gearman_task_st *);` NULL for an invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_strstate(task: *const gearman_task_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(task)
            .core()
            .map_or(std::ptr::null(), |t| state_name(t.state()).as_ptr().cast())
    })
}

/// `bool gearman_task_has_exception(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_has_exception(task: *const gearman_task_st) -> bool {
    entry!(false, {
        handle!(task)
            .core()
            .is_some_and(|t| t.exception().is_some())
    })
}

/// `gearman_string_t gearman_task_exception(const gearman_task_st *);` task-owned, or `{NULL, 0}`.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_exception(task: *const gearman_task_st) -> gearman_string_t {
    entry!(gearman_string_t::null(), {
        handle!(task)
            .core()
            .map_or(gearman_string_t::null(), |t| match t.exception() {
                Some(e) => gearman_string_t {
                    c_str: e.as_ptr().cast(),
                    size: e.len(),
                },
                None => gearman_string_t::null(),
            })
    })
}

/// `bool gearman_task_is_finished(const gearman_task_st *task);` true in COMPLETE, EXCEPTION, FAIL
/// and FINISHED. Deviation: 1.1.20 always answers false (a missing `return`, fixed in 2.0.0).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_finished(task: *const gearman_task_st) -> bool {
    entry!(false, {
        handle!(task).core().is_some_and(|t| t.is_finished())
    })
}

/// `void gearman_task_give_workload(gearman_task_st *task, const void *workload, size_t workload_size);`
///
/// Replaces the workload of a task not yet sent and takes ownership of `workload`: it is copied and
/// released at once with the client's free fn (libc `free` by default). Invalid task: no-op.
///
/// # Safety
///
/// `task` must be NULL or a live task shell; `workload` NULL or a `workload_size`-byte buffer from
/// the client's malloc fn.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_give_workload(
    task: *mut gearman_task_st,
    workload: *const c_void,
    workload_size: usize,
) {
    entry!((), {
        let mut r: TaskRef = handle!(task);
        let workload = given!(workload, workload_size);
        if let Some(t) = r.core() {
            t.set_workload(workload.bytes().to_vec());
        }
        workload.release(&r.client().alloc);
    })
}

/// `size_t gearman_task_send_workload(gearman_task_st *task, const void *workload, size_t workload_size, gearman_return_t *ret_ptr);`
///
/// Streaming workloads are not supported (in 1.1.20 only a workload callback could use this, and
/// add_task never lets it run): a valid task is never in the "flush data" state, so this answers
/// 0 and NOT_FLUSHING, recorded on the client. Invalid task: 0 and INVALID_ARGUMENT.
///
/// # Safety
///
/// `task` must be NULL or a live task shell; a non-NULL `ret_ptr` writable.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_send_workload(
    task: *mut gearman_task_st,
    workload: *const c_void,
    workload_size: usize,
    ret_ptr: *mut GearmanReturn,
) -> usize {
    entry!(0, {
        let _ = (workload, workload_size);
        let mut ret = out!(ret_ptr);
        ret.set(INVALID);
        let mut r: TaskRef = handle!(task);
        r.client().record(Error::new(
            ReturnCode::NotFlushing,
            "gearman_task_send_workload",
            "not in a state to send workload",
        ));
        ret.set(gearman_return_t::GEARMAN_NOT_FLUSHING.into());
        0
    })
}

/// `gearman_task_st *gearman_next(gearman_task_st *task);` the next older task of the client
/// (tasks made internally by `gearman_client_do*` are skipped); NULL at the end or when invalid.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_next(task: *mut gearman_task_st) -> *mut gearman_task_st {
    entry!(std::ptr::null_mut(), {
        let mut r: TaskRef = handle!(task);
        let (record, client) = r.split();
        task_impl::next_shell(client, record.id)
    })
}
