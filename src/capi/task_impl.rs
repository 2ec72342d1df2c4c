//! What `_impl` of a `gearman_task_st` points to ([`TaskImpl`]: a thin record next to the core's
//! [`Task`]: the C callbacks and context, the shell's address, NUL-terminated copies of the
//! strings C borrows, the payload buffer of the reply being delivered), its typed handle
//! [`TaskRef`], and creating and releasing task records.

use std::ffi::c_void;

use super::actions::gearman_actions_t;
use super::boundary::{self, Storage};
use super::callbacks::callback;
use super::client_impl::{ClientImpl, ClientRef};
use super::result::gearman_result_st;
use super::shells::gearman_task_st;
use crate::client::{Request, Task, TaskEvent, TaskId, TaskKind};

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
    /// The function name as sent, NUL-terminated.
    pub function_c: Vec<u8>,
    /// The unique, NUL-terminated.
    pub unique_c: Vec<u8>,
    /// The job handle, NUL-terminated (refreshed when the core's changes).
    pub handle_c: Vec<u8>,
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
    pub event: TaskEvent,
    /// `len` bytes from the allocator.
    pub ptr: *mut c_void,
    /// The payload's size.
    pub len: usize,
}

fn with_nul(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v.push(0);
    v
}

impl TaskImpl {
    fn new(
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
                Request::StatusUnique => task.function_name(),
                _ => task.unique(),
            }),
            handle_c: with_nul(task.job_handle()),
            result: None,
            recv_offset: 0,
            workload_copy: std::ptr::null_mut(),
            packet: None,
        }
    }

    /// The NUL-terminated handle, refreshed from the core task's.
    pub fn refresh_handle(&mut self, handle: &[u8]) {
        if self.handle_c.len() != handle.len() + 1 || &self.handle_c[..handle.len()] != handle {
            self.handle_c = with_nul(handle);
        }
    }
}

boundary::object_handle! {
    /// The typed handle of a valid task argument.
    TaskRef: gearman_task_st => TaskImpl
}

impl TaskRef {
    /// The core task (None once its client dropped it).
    pub fn core(&mut self) -> Option<&mut Task> {
        let (record, client) = self.split();
        client.core.task_mut(record.id)
    }

    /// The owning client.
    pub fn client(&mut self) -> &mut ClientImpl {
        self.split().1
    }

    /// The record and its client, borrowed together.
    pub fn split(&mut self) -> (&mut TaskImpl, &mut ClientImpl) {
        // SAFETY: a live record (`from_c`) and its client, which outlives it and which this
        // thread uses; two separate allocations, borrowed for the handle's borrow.
        unsafe {
            let record = &mut *self.ptr();
            let client = &mut *record.client;
            (record, client)
        }
    }

    /// `gearman_task_take_data`: detaches the current payload into memory from the client's
    /// workload allocator (the buffer holding it when there is one); (buffer, size), NULL for
    /// no or an empty payload.
    pub fn take_data(&mut self) -> (*mut c_void, usize) {
        let (record, client) = self.split();
        let data = client.core.task_mut(record.id).and_then(Task::take_data);
        let size = data.as_ref().map_or(0, |d| d.len());
        let Some(data) = data.filter(|d| !d.is_empty()) else {
            return (std::ptr::null_mut(), size);
        };
        if let Some(p) = record.packet.take() {
            return (p.ptr, size);
        }
        // SAFETY: the installed allocator has the C signatures (the setter's contract).
        (unsafe { client.alloc.copy(&data) }, size)
    }
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

/// The C record of a core task (None for tasks made inside the library without one).
pub fn record_of(task: &Task) -> Option<*mut TaskImpl> {
    let tag = task.tag();
    (tag != 0).then_some(tag as *mut TaskImpl)
}

/// Links a core task to a new record and shell (`storage` or a heap shell); returns the shell
/// (NULL when the task does not exist).
///
pub fn attach(
    client: &ClientRef,
    storage: Storage<'_, gearman_task_st>,
    id: TaskId,
    actions: gearman_actions_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    let client = client.ptr();
    // SAFETY: a live client (the handle's guarantee); no other borrow of it is active.
    let c = unsafe { &mut *client };
    let Some(task) = c.core.task(id) else {
        return std::ptr::null_mut();
    };
    let record = Box::into_raw(Box::new(TaskImpl::new(client, id, task, actions, context)));
    let shell = storage.attach(record.cast());
    // SAFETY: `record` is live and exclusively ours here.
    unsafe { (*record).shell = shell };
    if let Some(t) = c.core.task_mut(id) {
        t.set_tag(record as usize);
    }
    shell
}

/// Destroys a task (`gearman_task_free`): see [`release_record`].
pub fn release(task: TaskRef) {
    // SAFETY: the record of a live task (the handle's guarantee), consumed here.
    unsafe { release_record(task.ptr()) };
}

/// Destroys a task: the context free fn (not for DO tasks), the core task, the shell, the record.
///
/// # Safety
///
/// `record` must be a live `TaskImpl` made by [`attach`]; it is freed here.
pub unsafe fn release_record(record: *mut TaskImpl) {
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
        if let Some(f) = unsafe { callback(free_fn) } {
            // SAFETY: the shell is still attached while the fn runs.
            unsafe { f(shell, context) };
        }
    }
    // SAFETY: made by `Box::into_raw` in `attach`, released once; the fn above must not have
    // freed it (as in 1.1.20).
    let mut r = unsafe { Box::from_raw(record) };
    // SAFETY: the client outlives its tasks.
    unsafe { r.release_packet() };
    // SAFETY: the client outlives its tasks.
    let c = unsafe { &mut *client };
    c.core.free_task(r.id);
    // SAFETY: made by the client's malloc fn in `add_task`; released once.
    unsafe { c.alloc.free(r.workload_copy) };
    // SAFETY: the shell was attached by `attach`.
    unsafe { boundary::shell_release(shell) };
}

/// Releases the record of `id` if it has one, else just the core task (no callback of the task
/// may be running).
pub fn release_id(client: &ClientRef, id: TaskId) {
    let client = client.ptr();
    // SAFETY: a live client (the handle's guarantee); the borrow ends before the release.
    let record = unsafe { (*client).core.task(id).and_then(record_of) };
    match record {
        // SAFETY: a live record of this client.
        Some(r) => unsafe { release_record(r) },
        None => {
            // SAFETY: a live client.
            unsafe { (*client).core.free_task(id) };
        }
    }
}

/// Frees every task of the client (as `gearman_task_free`; no task callback may be running).
pub fn free_all(client: &ClientRef) {
    for id in client.core.task_ids() {
        // A task may have been released by an earlier context free fn: then nothing happens.
        release_id(client, id);
    }
}

/// `gearman_client_free`: frees every task, then the client and its shell.
pub fn release_client(client: ClientRef) {
    free_all(&client);
    let ptr = client.into_ptr();
    // SAFETY: a live client made by `ClientImpl::install` (the handle's guarantee); nothing
    // refers to it any more.
    unsafe { ClientImpl::destroy(ptr) };
}

/// The shell of the next older task with a record (`gearman_next`), or NULL.
pub fn next_shell(client: &ClientImpl, id: TaskId) -> *mut gearman_task_st {
    let mut cur = client.core.next_task(id);
    while let Some(id) = cur {
        if let Some(record) = client.core.task(id).and_then(record_of) {
            // SAFETY: non-zero tags are live records of this client.
            return unsafe { (*record).shell };
        }
        cur = client.core.next_task(id);
    }
    std::ptr::null_mut()
}
