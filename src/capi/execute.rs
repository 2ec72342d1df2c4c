//! `gearman_execute` and `gearman_execute_by_partition` (upstream execute.h): one-shot submissions
//! whose task collects its result into `gearman_task_result` (the client's callbacks are not used).

use std::ffi::c_void;
use std::os::raw::c_char;

use super::actions::gearman_actions_t;
use super::argument::gearman_argument_t;
use super::boundary;
use super::client::{client_ptr, gearman_client_st, ClientImpl};
use super::client_run::drive;
use super::client_submit::workload_of;
use super::enums::{gearman_job_priority_t, gearman_task_attr_kind_t};
use super::task::{attach_task, gearman_task_st, release_task, task_impl};
use super::task_attr::gearman_task_attr_t;
use crate::client::{Mode, NewTask, Priority, Request, TaskKind};
use crate::error::{Error, ReturnCode};

fn priority_of(attr: &gearman_task_attr_t) -> Priority {
    if attr.priority == gearman_job_priority_t::GEARMAN_JOB_PRIORITY_NORMAL {
        Priority::Normal
    } else if attr.priority == gearman_job_priority_t::GEARMAN_JOB_PRIORITY_HIGH {
        Priority::High
    } else {
        Priority::Low
    }
}

/// The workload in `arguments` (NULL: empty), read only once the whole submission (function,
/// unique and its length) is known to fit a packet.
///
/// # Safety
///
/// `arguments` NULL or a readable `gearman_argument_t` whose value is readable.
unsafe fn workload<'a>(
    op: &str,
    client: &crate::client::Client,
    function: &[u8],
    unique: &[u8],
    arguments: *const gearman_argument_t,
) -> Result<&'a [u8], Error> {
    // SAFETY: caller guarantee.
    let Some(a) = (unsafe { boundary::ref_from(arguments) }) else {
        return Ok(&[]);
    };
    let unique = (!unique.is_empty()).then_some(unique);
    client.check_submission(function, unique, a.value.size)?;
    // SAFETY: the value's bytes are readable (caller guarantee).
    unsafe { workload_of(op, a.value.c_str.cast(), a.value.size) }
}

/// The lengths of an explicit-length function name and unique, checked before they are read.
fn check_names(op: &str, function_len: usize, unique_len: usize) -> Result<(), Error> {
    crate::endpoint::check_function_name(op, function_len)?;
    crate::client::check_unique_len(op, unique_len)
}

/// Adds the collect-mode task, links a shell to it and runs the loop once; NULL (error recorded)
/// when the task cannot be made.
///
/// # Safety
///
/// `c` live.
unsafe fn submit(c: *mut ClientImpl, t: NewTask<'_>, context: *mut c_void) -> *mut gearman_task_st {
    // SAFETY: live client.
    let id = match unsafe { (*c).core.add_task_with(t) } {
        Ok(id) => id,
        Err(_) => return std::ptr::null_mut(),
    };
    // SAFETY: live client; a heap shell.
    unsafe {
        attach_task(
            c,
            std::ptr::null_mut(),
            id,
            gearman_actions_t::default(),
            context,
        )
    }
}

/// `gearman_task_st *gearman_execute(gearman_client_st *client, const char *function_name, size_t function_name_length, const char *unique, size_t unique_length, gearman_task_attr_t *workload, gearman_argument_t *arguments, void *context);`
///
/// Submits one job (attr NULL: SUBMIT_JOB and the context is ignored; FOREGROUND/BACKGROUND by
/// priority; EPOCH: SUBMIT_JOB_EPOCH), runs `gearman_client_run_tasks` once (its code is
/// discarded; a blocking client runs every pending task to completion) and returns the task: read
/// `gearman_task_return` / `gearman_task_result`. NULL for an invalid client (nothing recorded) or
/// invalid arguments (INVALID_ARGUMENT recorded).
///
/// # Safety
///
/// `client` NULL or a live client shell; names readable for their lengths; `workload` and
/// `arguments` NULL or readable.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute(
    client: *mut gearman_client_st,
    function_name: *const c_char,
    function_name_length: usize,
    unique: *const c_char,
    unique_length: usize,
    workload: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    boundary::guard(std::ptr::null_mut(), || {
        const OP: &str = "gearman_execute";
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            return std::ptr::null_mut();
        };
        // SAFETY: live client.
        let cl = unsafe { &mut *c };
        if function_name.is_null() || function_name_length == 0 {
            cl.record(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "function_name was NULL",
            ));
            return std::ptr::null_mut();
        }
        if let Err(e) = check_names(OP, function_name_length, unique_length) {
            cl.record(e);
            return std::ptr::null_mut();
        }
        // SAFETY: readable for the given lengths (caller guarantee), which are bounded.
        let function = unsafe { boundary::bytes_from(function_name, function_name_length) };
        // SAFETY: as above.
        let unique = unsafe { boundary::bytes_from(unique, unique_length) };
        // SAFETY: readable arguments (caller guarantee).
        let data = match unsafe { self::workload(OP, &cl.core, function, unique, arguments) } {
            Ok(d) => d,
            Err(e) => {
                cl.record(e);
                return std::ptr::null_mut();
            }
        };
        // SAFETY: readable attr (caller guarantee).
        let attr = unsafe { boundary::ref_from(workload) };
        let (request, context) = match attr {
            None => (
                Request::Job {
                    priority: Priority::Normal,
                    background: false,
                },
                std::ptr::null_mut(),
            ),
            Some(a) if a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH => {
                // SAFETY: an EPOCH attr stores its time in the union.
                let when = unsafe { a.options.epoch.value };
                (Request::Epoch { when }, context)
            }
            Some(a) => (
                Request::Job {
                    priority: priority_of(a),
                    background: a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_BACKGROUND,
                },
                context,
            ),
        };
        let t = NewTask {
            request,
            function,
            unique: (!unique.is_empty()).then_some(unique),
            workload: data.to_vec(),
            mode: Mode::Events,
            kind: TaskKind::Execute,
        };
        // SAFETY: live client.
        let shell = unsafe { submit(c, t, context) };
        if !shell.is_null() {
            // SAFETY: live client for the whole call; the code is discarded as in 1.1.20.
            let _ = unsafe { drive(c, None) };
        }
        // SAFETY: live client.
        unsafe { (*c).flush_log() };
        shell
    })
}

/// `gearman_task_st *gearman_execute_by_partition(gearman_client_st *client, const char *partition_function, const size_t partition_function_length, const char *function_name, const size_t function_name_length, const char *unique_str, const size_t unique_length, gearman_task_attr_t *workload, gearman_argument_t *arguments, void *context);`
///
/// SUBMIT_REDUCE_JOB (BACKGROUND attr: _BACKGROUND) of `partition_function` with `function_name`
/// as the reducer, run until it ends. NULL with errno EINVAL for an invalid client; NULL +
/// INVALID_ARGUMENT for empty names, an EPOCH attr or an empty workload (1.1.20 asserts); NULL
/// (task freed) when the run fails.
///
/// # Safety
///
/// As `gearman_execute`.
#[no_mangle]
pub unsafe extern "C" fn gearman_execute_by_partition(
    client: *mut gearman_client_st,
    partition_function: *const c_char,
    partition_function_length: usize,
    function_name: *const c_char,
    function_name_length: usize,
    unique_str: *const c_char,
    unique_length: usize,
    workload: *mut gearman_task_attr_t,
    arguments: *mut gearman_argument_t,
    context: *mut c_void,
) -> *mut gearman_task_st {
    boundary::guard(std::ptr::null_mut(), || {
        const OP: &str = "gearman_execute_by_partition";
        // SAFETY: caller guarantee.
        let Some(c) = (unsafe { client_ptr(client) }) else {
            // SAFETY: errno is thread-local and writable.
            unsafe { *libc::__errno_location() = libc::EINVAL };
            return std::ptr::null_mut();
        };
        // SAFETY: live client.
        let cl = unsafe { &mut *c };
        let invalid = |cl: &mut ClientImpl, detail: &str| {
            cl.record(Error::new(ReturnCode::InvalidArgument, OP, detail));
            std::ptr::null_mut()
        };
        if partition_function.is_null()
            || partition_function_length == 0
            || function_name.is_null()
            || function_name_length == 0
        {
            return invalid(cl, "function name was empty");
        }
        // The reducer's name has no limit of its own (1.1.20): only the packet's.
        let lengths = check_names(OP, partition_function_length, unique_length)
            .and_then(|()| crate::endpoint::check_packet(OP, &[], function_name_length));
        if let Err(e) = lengths {
            cl.record(e);
            return std::ptr::null_mut();
        }
        // SAFETY: readable for the given lengths (caller guarantee), which are bounded.
        let (partition, function, unique) = unsafe {
            (
                boundary::bytes_from(partition_function, partition_function_length),
                boundary::bytes_from(function_name, function_name_length),
                boundary::bytes_from(unique_str, unique_length),
            )
        };
        // SAFETY: readable attr (caller guarantee).
        let attr = unsafe { boundary::ref_from(workload) };
        if attr.is_some_and(|a| a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH) {
            return invalid(
                cl,
                "EPOCH is not currently supported for gearman_client_execute_reduce()",
            );
        }
        // SAFETY: readable arguments (caller guarantee). The reducer's name travels in the
        // same packet: counted with the function.
        let data = match unsafe { self::workload(OP, &cl.core, partition, unique, arguments) }
            .and_then(|d| {
                let fields = [partition.len() + function.len() + 2, unique.len()];
                crate::endpoint::check_packet(OP, &fields, d.len()).map(|()| d)
            }) {
            Ok(d) if !d.is_empty() => d,
            Ok(_) => return invalid(cl, "workload was empty"),
            Err(e) => {
                cl.record(e);
                return std::ptr::null_mut();
            }
        };
        let background =
            attr.is_some_and(|a| a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_BACKGROUND);
        let t = NewTask {
            request: Request::Reduce {
                reducer: function.to_vec(),
                background,
            },
            function: partition,
            unique: (!unique.is_empty()).then_some(unique),
            workload: data.to_vec(),
            mode: Mode::Events,
            kind: TaskKind::Execute,
        };
        let context = if attr.is_some() {
            context
        } else {
            std::ptr::null_mut()
        };
        // SAFETY: live client.
        let shell = unsafe { submit(c, t, context) };
        if shell.is_null() {
            // SAFETY: live client.
            unsafe { (*c).flush_log() };
            return shell;
        }
        // SAFETY: live client for the whole call.
        let r = unsafe { drive(c, None) };
        // SAFETY: live client.
        unsafe { (*c).flush_log() };
        if r.is_err() {
            // SAFETY: the shell just made; its record is live.
            if let Some(rec) = unsafe { task_impl(shell) } {
                // SAFETY: a live record of this client, no callback running.
                unsafe { release_task(rec) };
            }
            return std::ptr::null_mut();
        }
        shell
    })
}
