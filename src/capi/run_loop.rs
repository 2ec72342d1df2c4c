//! The client's run loop as C sees it: the core never calls user code, so [`drive`] pulls
//! events from it and calls each task's C callback (or applies the "do" action set of the
//! library's own do/execute tasks) with no Rust borrow alive, so a callback may call any client
//! or task function (add tasks, read accessors, take data). Also the synchronous runs the
//! do/status exports make of one internal task.

use super::callbacks::callback;
use super::client_impl::{ClientImpl, ClientRef};
use super::error::{from_c, to_c};
use super::return_code::{gearman_return_t, GearmanReturn};
use super::shells::gearman_task_st;
use super::task_impl::{record_of, release_record, Packet, TaskImpl};
use crate::client::{EventKind, NewTask, Task, TaskEvent, TaskId, TaskKind, TaskState};
use crate::error::{Error, ReturnCode};

/// Runs the core loop, dispatching each event to its task's callback, until `target` finishes
/// (Some) or no task is active (None). A callback answering anything but SUCCESS stops the loop
/// with that code and its event is delivered again by the next call.
///
/// The handle guarantees the client is live for the whole call (callbacks must not free it:
/// the contract of every export).
pub fn drive(client: &ClientRef, target: Option<TaskId>) -> Result<(), GearmanReturn> {
    let client = client.ptr();
    loop {
        // SAFETY: live client; this borrow ends before any callback runs.
        let c = unsafe { &mut *client };
        let next = match target {
            Some(t) => c.core.next_event_for(t),
            None => c.core.next_event(),
        };
        let ev = match next {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(()),
            Err(e) => {
                if e.code() == ReturnCode::CouldNotConnect {
                    // 1.1.20 leaves the tasks NEW but shows the failure as their return code.
                    for id in c.core.task_ids() {
                        if let Some(t) = c.core.task_mut(id) {
                            if t.state() == TaskState::New {
                                t.ret = ReturnCode::CouldNotConnect;
                            }
                        }
                    }
                }
                return Err(to_c(e.code()));
            }
        };
        if c.in_callback.contains(&ev) {
            // Called from inside this event's own callback: the core would hand the same event
            // out again forever. It counts as handled (the outer dispatch sees that); its payload
            // stays readable until that callback returns.
            let data = c.core.task_mut(ev.task).and_then(|t| t.data.take());
            c.core.complete_event();
            if let Some(t) = c.core.task_mut(ev.task) {
                t.data = data;
            }
            continue;
        }
        let collects = c
            .core
            .task(ev.task)
            .is_some_and(|t| matches!(t.kind(), TaskKind::Do | TaskKind::Execute));
        let record = c.core.task(ev.task).and_then(record_of);
        let record = match record {
            Some(record) if !collects => record,
            _ => {
                // The "do" action set of do/execute tasks (no C callback): data and complete
                // payloads are appended to the task's result.
                // SAFETY: live client; no callback runs here.
                unsafe { collect(client, ev) };
                continue;
            }
        };
        // SAFETY: a live record of this client.
        let r = unsafe { &mut *record };
        r.recv_offset = 0;
        // SAFETY: live client and record.
        unsafe { hold_packet(c, r, ev) };
        // SAFETY: each slot holds NULL or a function of its callback's type (C installed it
        // with `gearman_client_set_*_fn`, or the pause table did).
        let slot = unsafe {
            match ev.kind {
                EventKind::Created => callback(r.actions.created_fn),
                EventKind::Data => callback(r.actions.data_fn),
                EventKind::Warning => callback(r.actions.warning_fn),
                EventKind::Status => callback(r.actions.status_fn),
                EventKind::Complete => callback(r.actions.complete_fn),
                EventKind::Exception => callback(r.actions.exception_fn),
                EventKind::Fail => callback(r.actions.fail_fn),
            }
        };
        let shell: *mut gearman_task_st = r.shell;
        // A background task is resolved by JOB_CREATED, but 1.1.20 sets its SUCCESS only after
        // the created callback: inside it the task still reads UNKNOWN_STATE.
        let created_resolves = ev.kind == EventKind::Created && ev.terminal;
        if created_resolves {
            if let Some(t) = c.core.task_mut(ev.task) {
                t.ret = ReturnCode::UnknownState;
            }
        }
        c.in_callback.push(ev);
        let rc = match slot {
            // SAFETY: no Rust borrow of the client or task is used after this point until the
            // callback returns; the shell is live.
            Some(f) => unsafe { f(shell) },
            None => gearman_return_t::GEARMAN_SUCCESS.into(),
        };
        // SAFETY: live client (the callback must not free it).
        let c = unsafe { &mut *client };
        c.in_callback.pop();
        if created_resolves {
            if let Some(t) = c.core.task_mut(ev.task) {
                t.ret = ReturnCode::Success;
            }
        }
        if rc != gearman_return_t::GEARMAN_SUCCESS {
            c.core.defer_event();
            if let Ok(code) = i32::try_from(rc.0) {
                if let Some(code) = ReturnCode::from_i32(code) {
                    c.core.error_state_mut().set_code(code);
                }
            }
            return Err(rc);
        }
        // The callback may have freed its own task (and with it its record), or completed its
        // event through a nested client call: then there is no current event any more.
        let live = c
            .core
            .task(ev.task)
            .is_some_and(|t| t.tag() == record as usize);
        if live {
            // SAFETY: the record of a live task of this client; the event is done.
            unsafe { (*record).release_packet() };
        }
        if c.core.current_event() == Some(ev) {
            c.core.complete_event();
        } else if let Some(t) = c.core.task_mut(ev.task) {
            t.data = None;
        }
        if ev.terminal && c.core.options().free_tasks {
            let auto = c.core.task(ev.task).is_some_and(|t| {
                t.kind() == TaskKind::AddTask
                    && t.tag() == record as usize
                    && t.state() == TaskState::Finished
            });
            if auto {
                // SAFETY: a live record of this client; its callback has returned.
                unsafe { release_record(record) };
            }
        }
    }
}

/// With a custom allocator, puts the payload of `ev` into a buffer from it (once per event: a
/// deferred event keeps its buffer), as 1.1.20 receives every payload.
///
/// # Safety
///
/// `r` must be a live record of `c`.
unsafe fn hold_packet(c: &mut ClientImpl, r: &mut TaskImpl, ev: TaskEvent) {
    if !c.alloc.is_custom() || r.packet.is_some_and(|p| p.event == ev) {
        return;
    }
    // SAFETY: the client of a live record is live.
    unsafe { r.release_packet() };
    let Some(data) = c.core.task(ev.task).and_then(|t| t.data()) else {
        return;
    };
    if data.is_empty() {
        return;
    }
    // SAFETY: the installed allocator has the C signatures.
    let ptr = unsafe { c.alloc.copy(data) };
    if !ptr.is_null() {
        r.packet = Some(Packet {
            event: ev,
            ptr,
            len: data.len(),
        });
    }
}

/// The "do" action set: a data or complete payload is appended to the task's result (through a
/// buffer from the client's allocator when one is installed, as 1.1.20 receives it); every
/// other event only moves the task on.
///
/// # Safety
///
/// `client` must be live.
unsafe fn collect(client: *mut ClientImpl, ev: TaskEvent) {
    // SAFETY: live client (caller guarantee); no callback runs while this borrow lives.
    let c = unsafe { &mut *client };
    let appends = matches!(ev.kind, EventKind::Data | EventKind::Complete);
    if let Some(t) = c.core.task_mut(ev.task) {
        let data = t.take_data().unwrap_or_default();
        if c.alloc.is_custom() && !data.is_empty() {
            // SAFETY: the installed allocator has the C signatures.
            let p = unsafe { c.alloc.copy(&data) };
            if p.is_null() {
                if appends {
                    t.append_result(data);
                }
            } else {
                if appends {
                    // SAFETY: `p` holds `data.len()` bytes just copied.
                    let received =
                        unsafe { std::slice::from_raw_parts(p.cast::<u8>(), data.len()) };
                    t.append_result(bytes::Bytes::copy_from_slice(received));
                }
                // SAFETY: from the allocator just above; released once.
                unsafe { c.alloc.free(p) };
            }
        } else if appends {
            t.append_result(data);
        }
    }
    c.core.complete_event();
}

/// `gearman_client_run_tasks`: runs every task, calling their callbacks, until none is active
/// (SUCCESS), a callback answers anything else, or the loop fails. 1.1.20 resets the error state
/// only when a packet starts being sent: a call that just collects results keeps the previous
/// code (e.g. IO_WAIT) after its SUCCESS.
///
/// The messages recorded go to the log callback when the handle is dropped.
pub fn run_tasks(client: &mut ClientRef) -> GearmanReturn {
    // The borrow ends before the loop runs callbacks.
    let before = {
        let core = &client.core;
        if !core.has_tasks() {
            return gearman_return_t::GEARMAN_SUCCESS.into();
        }
        let sends = core
            .task_ids()
            .iter()
            .any(|&id| core.task(id).is_some_and(|t| t.state() == TaskState::New));
        (!sends).then(|| core.error_state().clone())
    };
    let r = drive(client, None);
    if let (Ok(()), Some(before)) = (&r, before) {
        *client.core.error_state_mut() = before;
    }
    match r {
        Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
        Err(rc) => rc,
    }
}

/// Submits an internal task and runs the loop until it ends (other tasks' callbacks may fire
/// on the way); returns the finished core task, or the loop's failure code.
///
pub fn run_internal(client: &mut ClientRef, t: NewTask<'_>) -> Result<Task, GearmanReturn> {
    let id = client.core.add_task_with(t).map_err(|e| to_c(e.code()))?;
    run_internal_id(client, id)
}

/// [`run_internal`] for a task already added.
pub fn run_internal_id(client: &mut ClientRef, id: TaskId) -> Result<Task, GearmanReturn> {
    let r = drive(client, Some(id));
    let c = &mut **client;
    if let Err(rc) = r {
        c.core.submit_before_io_wait(&Error::code_only(from_c(rc)));
    }
    let task = c.core.free_task(id);
    r?;
    task.ok_or_else(|| gearman_return_t::GEARMAN_UNKNOWN_STATE.into())
}
