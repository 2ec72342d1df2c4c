//! `gearman_task_st`: the caller-visible handle of a task (owned by its client) (upstream interface/task.h).
//!
//! A task's implementation ([`TaskImpl`], behind `_impl`) is a thin record next to the core's
//! [`crate::client::Task`]: the C callbacks and context, the shell's address, and NUL-terminated
//! copies of the strings C borrows. Everything else is read from the core task.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::actions::gearman_actions_t;
use super::boundary::{self, Shell};
use super::client::ClientImpl;
use super::error::to_c;
use super::result::gearman_result_st;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::string::gearman_string_t;
use crate::client::{Task, TaskId, TaskKind, TaskState};
use crate::error::ReturnCode;

/// What `_impl` of a task shell points to.
#[derive(Debug)]
pub struct TaskImpl {
    /// The owning client (a task never outlives it).
    pub client: *mut ClientImpl,
    /// The core task.
    pub id: TaskId,
    /// The shell C holds (caller storage or library-allocated).
    pub shell: *mut gearman_task_st,
    /// The callbacks copied from the client when the task was created.
    pub actions: gearman_actions_t,
    /// `gearman_task_set_context`.
    pub context: *mut c_void,
    /// Which API made it (DO tasks never run the context free fn).
    pub kind: TaskKind,
    function_c: Vec<u8>,
    unique_c: Vec<u8>,
    handle_c: Vec<u8>,
    /// The result object of do/execute tasks, or the one the pause actions fill.
    pub result: Option<gearman_result_st>,
    /// Bytes of the current payload already handed out by `gearman_task_recv_data`.
    pub recv_offset: usize,
    /// With a custom workload malloc fn installed, `add_task` copies the workload with it (as
    /// 1.1.20 does, so callers tracking that allocator see the copy); the task owns that copy
    /// and releases it with the free fn. The core sends from its own buffer.
    pub workload_copy: *mut c_void,
    /// With a custom allocator, the payload of the reply being delivered, in a buffer from
    /// it (1.1.20 receives every payload into one): what `gearman_task_data` points at and
    /// `gearman_task_take_data` hands over. Released when the event is done.
    pub packet: Option<Packet>,
}

/// A reply's payload in a buffer from the client's workload allocator.
#[derive(Debug, Clone, Copy)]
pub struct Packet {
    /// The event it belongs to.
    pub event: crate::client::TaskEvent,
    /// `len` bytes from the allocator.
    pub ptr: *mut c_void,
    /// The payload's size.
    pub len: usize,
}

impl TaskImpl {
    /// Releases the held payload buffer (nothing when there is none or C took it).
    ///
    /// # Safety
    ///
    /// `self.client` must be live.
    pub unsafe fn release_packet(&mut self) {
        if let Some(p) = self.packet.take() {
            // SAFETY: from the client's allocator (see `Packet`); released once.
            unsafe { (*self.client).alloc.free(p.ptr) };
        }
    }
}

fn with_nul(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    v
}

impl TaskImpl {
    /// A record for the core task `task` (already inserted as `id`).
    pub fn new(
        client: *mut ClientImpl,
        id: TaskId,
        task: &Task,
        actions: gearman_actions_t,
        context: *mut c_void,
    ) -> TaskImpl {
        TaskImpl {
            client,
            id,
            shell: std::ptr::null_mut(),
            actions,
            context,
            kind: task.kind(),
            function_c: with_nul(task.function_name()),
            // Status-by-unique tasks show the unique they ask about (observed in 1.1.20).
            unique_c: with_nul(match task.request() {
                crate::client::Request::StatusUnique => task.function_name(),
                _ => task.unique(),
            }),
            handle_c: with_nul(task.job_handle()),
            result: None,
            recv_offset: 0,
            workload_copy: std::ptr::null_mut(),
            packet: None,
        }
    }

    /// The core task (None once the client dropped it).
    ///
    /// # Safety
    ///
    /// `self.client` must be live.
    pub unsafe fn core<'a>(&self) -> Option<&'a mut Task> {
        // SAFETY: the client outlives its tasks (caller guarantee).
        let client = unsafe { self.client.as_mut() }?;
        client.core.task_mut(self.id)
    }
}

/// The implementation of a task shell, or None for an invalid task.
///
/// # Safety
///
/// A non-NULL `task` must be a live shell; a non-NULL `_impl` must come from this module.
pub unsafe fn task_impl<'a>(task: *const gearman_task_st) -> Option<&'a mut TaskImpl> {
    // SAFETY: forwarded caller guarantee.
    let p = unsafe { boundary::impl_of(task) }?;
    // SAFETY: `_impl` of a task shell is always a `Box<TaskImpl>` made by `attach_task`.
    unsafe { p.cast::<TaskImpl>().as_mut() }
}

/// Links a new core task to a shell (`storage` or a heap shell) and returns the shell.
///
/// # Safety
///
/// `client` must be live; a non-NULL `storage` must be writable.
pub unsafe fn attach_task(
    client: *mut ClientImpl,
    storage: *mut gearman_task_st,
    id: TaskId,
    actions: gearman_actions_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    // SAFETY: live client (caller guarantee).
    let c = unsafe { &mut *client };
    let Some(task) = c.core.task(id) else {
        return std::ptr::null_mut();
    };
    let record = Box::into_raw(Box::new(TaskImpl::new(client, id, task, actions, context)));
    // SAFETY: writable storage (caller guarantee); `record` is a fresh box.
    let shell = unsafe { boundary::shell_attach(storage, record.cast()) };
    // SAFETY: `record` is live and exclusively ours here.
    unsafe { (*record).shell = shell };
    if let Some(t) = c.core.task_mut(id) {
        t.set_tag(record as usize);
    }
    shell
}

/// Destroys a task: the context free fn (not for DO tasks), the core task, the shell, the record.
///
/// # Safety
///
/// `record` must be a live `TaskImpl` made by [`attach_task`]; it is freed here.
pub unsafe fn release_task(record: *mut TaskImpl) {
    // Plain copies: the context free fn may call task and client functions, so no Rust
    // reference to the record or the client is held across it.
    // SAFETY: live record (caller guarantee).
    let (client, shell, context, kind) = unsafe {
        let r = &*record;
        (r.client, r.shell, r.context, r.kind)
    };
    // SAFETY: the client outlives its tasks.
    let free_fn = unsafe { (*client).task_context_free };
    if !context.is_null() && kind != TaskKind::Do {
        // SAFETY: the free fn was installed by C with this signature.
        if let Some(f) =
            unsafe { super::callbacks::callback::<_, super::callbacks::TaskContextFreeFn>(free_fn) }
        {
            // SAFETY: the shell is still attached while the fn runs.
            unsafe { f(shell, context) };
        }
    }
    // SAFETY: made by `Box::into_raw` in `attach_task`, released once; the fn above must not
    // have freed it (as in 1.1.20).
    let mut r = unsafe { Box::from_raw(record) };
    // SAFETY: the client outlives its tasks.
    unsafe { r.release_packet() };
    // SAFETY: the client outlives its tasks.
    let c = unsafe { &mut *client };
    c.core.free_task(r.id);
    // SAFETY: made by the client's malloc fn in `add_task`; released once.
    unsafe { c.alloc.free(r.workload_copy) };
    // SAFETY: the shell was attached by `attach_task`.
    unsafe { boundary::shell_release(shell) };
}

/// The `options` member of `gearman_task_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_task_options_st {
    pub is_allocated: bool,
}

/// `struct gearman_task_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_task_st {
    pub options: gearman_task_options_st,
    pub _impl: *mut c_void,
}

impl Shell for gearman_task_st {
    fn empty() -> Self {
        Self {
            options: Default::default(),
            _impl: std::ptr::null_mut(),
        }
    }

    fn impl_ptr(&self) -> *mut c_void {
        self._impl
    }

    fn attach(&mut self, implementation: *mut c_void, is_allocated: bool) {
        self.options.is_allocated = is_allocated;
        self._impl = implementation;
    }

    fn detach(&mut self) {
        self.options.is_allocated = false;
        self._impl = std::ptr::null_mut();
    }

    fn is_allocated(&self) -> bool {
        self.options.is_allocated
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
    boundary::guard((), || {
        // SAFETY: caller guarantee.
        if let Some(r) = unsafe { task_impl(task) } {
            // SAFETY: the record of a live shell.
            unsafe { release_task(r) };
        }
    })
}

/// `void *gearman_task_context(const gearman_task_st *task);` NULL for an invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_context(task: *const gearman_task_st) -> *mut c_void {
    // SAFETY: caller guarantee.
    boundary::guard(std::ptr::null_mut(), || {
        unsafe { task_impl(task) }.map_or(std::ptr::null_mut(), |r| r.context)
    })
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
    boundary::guard((), || {
        // SAFETY: caller guarantee.
        if let Some(r) = unsafe { task_impl(task) } {
            r.context = context;
        }
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
    // SAFETY: caller guarantee.
    boundary::guard_ptr(|| {
        unsafe { task_impl(task) }.map_or(std::ptr::null(), |r| r.function_c.as_ptr().cast())
    })
}

/// `const char *gearman_task_unique(const gearman_task_st *task);` ("" for status tasks).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_unique(task: *const gearman_task_st) -> *const c_char {
    // SAFETY: caller guarantee.
    boundary::guard_ptr(|| {
        unsafe { task_impl(task) }.map_or(std::ptr::null(), |r| r.unique_c.as_ptr().cast())
    })
}

/// `const char *gearman_task_job_handle(const gearman_task_st *task);` ("" before JOB_CREATED).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_job_handle(task: *const gearman_task_st) -> *const c_char {
    boundary::guard_ptr(|| {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return std::ptr::null();
        };
        // SAFETY: the client of a live task is live.
        if let Some(t) = unsafe { r.core() } {
            let h = t.job_handle();
            if r.handle_c.len() != h.len() + 1 || &r.handle_c[..h.len()] != h {
                r.handle_c = with_nul(h);
            }
        }
        r.handle_c.as_ptr().cast()
    })
}

/// Reads one field of the core task; `default` for an invalid task.
fn read<T: Copy>(
    task: *const gearman_task_st,
    default: T,
    f: impl FnOnce(&TaskImpl, &Task) -> T,
) -> T {
    boundary::guard(default, || {
        // SAFETY: the C entry points forward a NULL or live task shell.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return default;
        };
        // SAFETY: the client of a live task is live.
        match unsafe { r.core() } {
            Some(t) => f(r, t),
            None => default,
        }
    })
}

/// `bool gearman_task_is_known(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_known(task: *const gearman_task_st) -> bool {
    read(task, false, |_, t| t.is_known())
}

/// `bool gearman_task_is_running(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_is_running(task: *const gearman_task_st) -> bool {
    read(task, false, |_, t| t.is_running())
}

/// `uint32_t gearman_task_numerator(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_numerator(task: *const gearman_task_st) -> u32 {
    read(task, 0, |_, t| t.numerator())
}

/// `uint32_t gearman_task_denominator(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_denominator(task: *const gearman_task_st) -> u32 {
    read(task, 0, |_, t| t.denominator())
}

/// True when the client delivers payloads unbuffered (read with `gearman_task_recv_data`).
fn unbuffered(r: &TaskImpl) -> bool {
    // SAFETY: the client of a live task is live.
    unsafe { r.client.as_ref() }.is_some_and(|c| c.core.options().unbuffered_result)
}

/// `const void *gearman_task_data(const gearman_task_st *task);` the payload of the reply being
/// delivered (NULL outside a callback, and under UNBUFFERED_RESULT).
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_data(task: *const gearman_task_st) -> *const c_void {
    read(task, std::ptr::null(), |r, t| match (t.data(), r.packet) {
        (Some(d), _) if d.is_empty() || unbuffered(r) => std::ptr::null(),
        // An exception is shown NUL-terminated, as 1.1.20 shows it (the core keeps the NUL).
        (Some(_), Some(p)) if p.event.kind != crate::client::EventKind::Exception => p.ptr,
        (Some(d), _) => d.as_ptr().cast(),
        (None, _) => std::ptr::null(),
    })
}

/// `size_t gearman_task_data_size(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_data_size(task: *const gearman_task_st) -> usize {
    read(task, 0, |_, t| t.data().map_or(0, <[u8]>::len))
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
    boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the client of a live task is live.
        let data = unsafe { r.core() }.and_then(Task::take_data);
        // SAFETY: writable out pointer (caller guarantee).
        unsafe { boundary::write_out(data_size, data.as_ref().map_or(0, Vec::len)) };
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return std::ptr::null_mut();
        };
        // The payload's allocator buffer, when one holds it, is handed over as it is.
        if let Some(p) = r.packet.take() {
            return p.ptr;
        }
        // SAFETY: the client of a live task is live.
        let client = unsafe { &*r.client };
        // SAFETY: the installed allocator has the C signatures.
        unsafe { client.alloc.copy(&data) }
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
    boundary::guard(0, || {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            // SAFETY: writable out pointer (caller guarantee).
            unsafe {
                boundary::write_out(ret_ptr, gearman_return_t::GEARMAN_INVALID_ARGUMENT.into())
            };
            return 0;
        };
        let offset = r.recv_offset;
        // SAFETY: the client of a live task is live.
        let pending = unsafe { r.core() }
            .and_then(|t| t.data())
            .map_or(&[][..], |d| &d[offset.min(d.len())..]);
        let n = if data.is_null() {
            0
        } else {
            pending.len().min(data_size)
        };
        if n > 0 {
            // SAFETY: `data` is writable for `data_size >= n` bytes (caller guarantee).
            unsafe { std::ptr::copy_nonoverlapping(pending.as_ptr(), data.cast::<u8>(), n) };
        }
        r.recv_offset += n;
        // SAFETY: writable out pointer (caller guarantee).
        unsafe { boundary::write_out(ret_ptr, gearman_return_t::GEARMAN_SUCCESS.into()) };
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
    read(task, std::ptr::null(), |_, t| match t.return_code() {
        ReturnCode::UnknownState | ReturnCode::Success => std::ptr::null(),
        c => c.name_cstr().as_ptr().cast(),
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
    boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return std::ptr::null_mut();
        };
        // The core accumulates the payloads of a do/execute task; they move into the C result
        // object as they arrive, so values C stores in it stay put. No payload yet: no object
        // (a background execute has none, as 1.1.20).
        // SAFETY: the client of a live task is live.
        if let Some(bytes) = unsafe { r.core() }.and_then(Task::take_result) {
            let result = r.result.get_or_insert_with(gearman_result_st::new);
            if result.append(&bytes).is_err() {
                return std::ptr::null_mut();
            }
        }
        r.result
            .as_mut()
            .map_or(std::ptr::null_mut(), |x| x as *mut _)
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
    read(
        task,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |_, t| to_c(t.return_code()),
    )
}

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

/// `const char *gearman_task_strstate(const gearman_task_st *);` NULL for an invalid task.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_strstate(task: *const gearman_task_st) -> *const c_char {
    read(task, std::ptr::null(), |_, t| {
        state_name(t.state()).as_ptr().cast()
    })
}

/// `bool gearman_task_has_exception(const gearman_task_st *task);`
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_has_exception(task: *const gearman_task_st) -> bool {
    read(task, false, |_, t| t.exception().is_some())
}

/// `gearman_string_t gearman_task_exception(const gearman_task_st *);` task-owned, or `{NULL, 0}`.
///
/// # Safety
///
/// `task` must be NULL or a live task shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_exception(task: *const gearman_task_st) -> gearman_string_t {
    read(task, gearman_string_t::null(), |_, t| match t.exception() {
        Some(e) => gearman_string_t {
            c_str: e.as_ptr().cast(),
            size: e.len(),
        },
        None => gearman_string_t::null(),
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
    read(task, false, |_, t| t.is_finished())
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
    boundary::guard((), || {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return;
        };
        // SAFETY: readable for `workload_size` bytes (caller guarantee).
        let bytes = unsafe { boundary::bytes_from(workload, workload_size) }.to_vec();
        // SAFETY: the client of a live task is live.
        if let Some(t) = unsafe { r.core() } {
            t.set_workload(bytes);
        }
        // SAFETY: ownership was given to the library; the allocator is the client's.
        unsafe { (*r.client).alloc.free(workload.cast_mut()) };
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
    let _ = (workload, workload_size);
    boundary::guard(0, || {
        // SAFETY: caller guarantee.
        let rc = match unsafe { task_impl(task) } {
            None => gearman_return_t::GEARMAN_INVALID_ARGUMENT,
            Some(r) => {
                // SAFETY: the client of a live task is live.
                let c = unsafe { &mut *r.client };
                c.record(crate::error::Error::new(
                    ReturnCode::NotFlushing,
                    "gearman_task_send_workload",
                    "not in a state to send workload",
                ));
                gearman_return_t::GEARMAN_NOT_FLUSHING
            }
        };
        // SAFETY: writable out pointer (caller guarantee).
        unsafe { boundary::write_out(ret_ptr, rc.into()) };
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
    boundary::guard(std::ptr::null_mut(), || {
        // SAFETY: caller guarantee.
        let Some(r) = (unsafe { task_impl(task) }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: the client of a live task is live.
        let c = unsafe { &*r.client };
        let mut cur = c.core.next_task(r.id);
        while let Some(id) = cur {
            let tag = c.core.task(id).map_or(0, Task::tag);
            if tag != 0 {
                // SAFETY: non-zero tags are live `TaskImpl` records.
                return unsafe { (*(tag as *mut TaskImpl)).shell };
            }
            cur = c.core.next_task(id);
        }
        std::ptr::null_mut()
    })
}
