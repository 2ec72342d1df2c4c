//! The client's run loop as C sees it (`gearman_client_run_tasks`, `gearman_client_wait`) and the
//! request/reply exchanges with every server (`echo`, `set_server_option`, `cancel_job`,
//! `set_identifier`).
//!
//! The core never calls user code: [`drive`] pulls events from it and calls the task's C callback
//! with no Rust borrow alive, so a callback may call any client or task function (add tasks, read
//! accessors, take data).

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary;
use super::callbacks::{callback, TaskFn};
use super::client::{client_ptr, gearman_client_st, with_client, ClientImpl};
use super::error::to_c;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::task::{gearman_task_st, release_task};
use crate::client::{EventKind, TaskId, TaskKind, TaskState};
use crate::error::{Error, ReturnCode};

/// Runs the core loop, dispatching each event to its task's callback, until `target` finishes
/// (Some) or no task is active (None). A callback answering anything but SUCCESS stops the loop
/// with that code and its event is delivered again by the next call.
///
/// # Safety
///
/// `client` must be live for the whole call (callbacks must not free it).
pub unsafe fn drive(client: *mut ClientImpl, target: Option<TaskId>) -> Result<(), GearmanReturn> {
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
        let record = c.core.task(ev.task).and_then(|t| c.record_of(t));
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
        let slot = match ev.kind {
            EventKind::Created => r.actions.created_fn.cast::<c_void>(),
            EventKind::Data => r.actions.data_fn.cast(),
            EventKind::Warning => r.actions.warning_fn.cast(),
            EventKind::Status => r.actions.status_fn.cast(),
            EventKind::Complete => r.actions.complete_fn.cast(),
            EventKind::Exception => r.actions.exception_fn.cast(),
            EventKind::Fail => r.actions.fail_fn.cast(),
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
        // SAFETY: the slot holds NULL or a gearman_*_fn, all of the TaskFn shape.
        let rc = match unsafe { callback::<c_void, TaskFn>(slot) } {
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
                unsafe { release_task(record) };
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
unsafe fn hold_packet(
    c: &mut ClientImpl,
    r: &mut super::task::TaskImpl,
    ev: crate::client::TaskEvent,
) {
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
        r.packet = Some(super::task::Packet {
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
unsafe fn collect(client: *mut ClientImpl, ev: crate::client::TaskEvent) {
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
                    t.append_result(&data);
                }
            } else {
                if appends {
                    // SAFETY: `p` holds `data.len()` bytes just copied.
                    t.append_result(unsafe { std::slice::from_raw_parts(p.cast(), data.len()) });
                }
                // SAFETY: from the allocator just above; released once.
                unsafe { c.alloc.free(p) };
            }
        } else if appends {
            t.append_result(&data);
        }
    }
    c.core.complete_event();
}

/// `gearman_return_t gearman_client_run_tasks(gearman_client_st *client);`
///
/// Runs every task to completion, calling their callbacks: SUCCESS when no task is active; a
/// callback's non-SUCCESS answer (PAUSE ...; the same callback runs again on the next call);
/// IO_WAIT (non-blocking), TIMEOUT, NO_SERVERS, COULD_NOT_CONNECT, LOST_CONNECTION, NO_ACTIVE_FDS,
/// server ERROR codes. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell, not freed by a callback.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_run_tasks(client: *mut gearman_client_st) -> GearmanReturn {
    boundary::guard(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), || {
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
        };
        // SAFETY: live client.
        if !unsafe { (*c).core.has_tasks() } {
            return gearman_return_t::GEARMAN_SUCCESS.into();
        }
        // 1.1.20 resets the error state only when a packet starts being sent: a call that just
        // collects results keeps the previous code (e.g. IO_WAIT) after its SUCCESS.
        // SAFETY: live client.
        let before = unsafe {
            let core = &(*c).core;
            let sends = core
                .task_ids()
                .iter()
                .any(|&id| core.task(id).is_some_and(|t| t.state() == TaskState::New));
            (!sends).then(|| core.error_state().clone())
        };
        // SAFETY: live client for the whole call (caller guarantee).
        let r = unsafe { drive(c, None) };
        if let (Ok(()), Some(before)) = (&r, before) {
            // SAFETY: live client.
            unsafe { *(*c).core.error_state_mut() = before };
        }
        // SAFETY: live client.
        unsafe { (*c).flush_log() };
        match r {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(rc) => rc,
        }
    })
}

/// `gearman_return_t gearman_client_wait(gearman_client_st *client);`
///
/// Waits (client timeout) until a connection with pending I/O is ready: SUCCESS, TIMEOUT,
/// NO_ACTIVE_FDS. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_wait(client: *mut gearman_client_st) -> GearmanReturn {
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| match c.core.wait() {
            Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
            Err(e) => to_c(e.code()),
        },
    )
}

/// `gearman_client_set_server_option` for Rust callers: true when every server accepted it.
pub fn set_server_option(c: &mut ClientImpl, option: &[u8]) -> bool {
    let ok = c.core.set_server_option(option).is_ok();
    c.flush_log();
    ok
}

/// `bool gearman_client_set_server_option(gearman_client_st *self, const char *option_arg, size_t option_arg_size);`
///
/// Sends OPTION_REQ to every server (blocking) and remembers the option for new connections;
/// `"exceptions"` turns on exception forwarding. False when there are no servers, the option is
/// empty, or any server refuses or cannot be reached.
///
/// # Safety
///
/// `self_` must be NULL or a live client shell; a non-NULL option readable for its size.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_server_option(
    self_: *mut gearman_client_st,
    option_arg: *const c_char,
    option_arg_size: usize,
) -> bool {
    with_client(self_, false, |c| {
        // The lengths are checked before the caller's buffer is read.
        let len = (!option_arg.is_null()).then_some(option_arg_size);
        if c.core.check_server_option(len).is_err() {
            return false;
        }
        // SAFETY: readable for the given size (caller guarantee), a size within the limit.
        let option = unsafe { boundary::bytes_from(option_arg, option_arg_size) };
        set_server_option(c, option)
    })
}

/// `gearman_return_t gearman_client_echo(gearman_client_st *client, const void *workload, size_t workload_size);`
///
/// ECHO_REQ to every server in turn (blocking, even on a non-blocking client); stops at the first
/// failure. NO_SERVERS, INVALID_ARGUMENT (empty), ARGUMENT_TOO_LARGE, ECHO_DATA_CORRUPTION, or a
/// connection error. Invalid client → INVALID_ARGUMENT.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; `workload` readable for `workload_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_echo(
    client: *mut gearman_client_st,
    workload: *const c_void,
    workload_size: usize,
) -> GearmanReturn {
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            // The lengths are checked before the caller's buffer is read.
            let len = (!workload.is_null()).then_some(workload_size);
            if let Err(e) = c.core.check_echo(len) {
                return to_c(e.code());
            }
            // SAFETY: readable for the given size (caller guarantee), a size within the limit.
            let data = unsafe { boundary::bytes_from(workload, workload_size) };
            match c.core.echo(data) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => to_c(e.code()),
            }
        },
    )
}

/// `gearman_return_t gearman_client_cancel_job(gearman_client_st *client_shell, gearman_job_handle_t job_handle);`
///
/// Sends a WORK_FAIL request for the handle to every server, one reply each; gearmand answers
/// JOB_NOT_FOUND (it only takes WORK_FAIL from the job's worker). NULL handle (1.1.20 crashes) or
/// one of 64 bytes or more → INVALID_ARGUMENT, before the server list is looked at.
///
/// # Safety
///
/// `client_shell` must be NULL or a live client shell; `job_handle` NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_cancel_job(
    client_shell: *mut gearman_client_st,
    job_handle: *const c_char,
) -> GearmanReturn {
    with_client(
        client_shell,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            // SAFETY: a C string (caller guarantee).
            let Some(handle) = (unsafe { boundary::cstr_bytes(job_handle) }) else {
                c.core.error_state_mut().reset();
                c.record(Error::new(
                    ReturnCode::InvalidArgument,
                    "gearman_client_cancel_job",
                    "job_handle was NULL",
                ));
                return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
            };
            if let Err(e) = super::client_submit::check_handle("gearman_client_cancel_job", handle)
            {
                c.core.error_state_mut().reset();
                let code = to_c(e.code());
                c.record(e);
                return code;
            }
            match c.core.cancel_job(handle) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => to_c(e.code()),
            }
        },
    )
}

/// `gearman_return_t gearman_client_set_identifier(gearman_client_st *client, const char *id, size_t id_size);`
///
/// Validates (NULL, empty or non-`isgraph` bytes → INVALID_ARGUMENT; > 254 bytes →
/// ARGUMENT_TOO_LARGE), stores it and sends SET_CLIENT_ID to every server now (send failures
/// ignored); new connections send it first.
///
/// # Safety
///
/// `client` must be NULL or a live client shell; a non-NULL `id` readable for `id_size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_set_identifier(
    client: *mut gearman_client_st,
    id: *const c_char,
    id_size: usize,
) -> GearmanReturn {
    with_client(
        client,
        gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(),
        |c| {
            if id.is_null() {
                c.record(Error::new(
                    ReturnCode::InvalidArgument,
                    "gearman_client_set_identifier",
                    "id was NULL",
                ));
                return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
            }
            if let Err(e) =
                crate::endpoint::check_identifier_len("gearman_client_set_identifier", id_size)
            {
                let rc = to_c(e.code());
                c.record(e);
                return rc;
            }
            // SAFETY: readable for the given size (caller guarantee), at most 254 bytes.
            let bytes = unsafe { boundary::bytes_from(id, id_size) };
            match c.core.set_identifier(bytes) {
                Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
                Err(e) => to_c(e.code()),
            }
        },
    )
}

/// Releases the C record of `id` if it has one, else just the core task.
///
/// # Safety
///
/// `client` must be live.
pub unsafe fn free_any(client: *mut ClientImpl, id: TaskId) {
    // SAFETY: live client.
    let c = unsafe { &mut *client };
    match c.core.task(id).and_then(|t| c.record_of(t)) {
        // SAFETY: a live record of this client.
        Some(r) => unsafe { release_task(r) },
        None => {
            c.core.free_task(id);
        }
    }
}
