//! `gearman_execute` and `gearman_execute_by_partition` (upstream execute.h): one-shot submissions
//! whose task collects its result into `gearman_task_result` (the client's callbacks are not used).

use std::ffi::c_void;
use std::os::raw::c_char;

use super::actions::gearman_actions_t;
use super::argument::gearman_argument_t;
use super::boundary::{buf, entry, handle_opt, nullable, set_errno, CBuf, Storage};
use super::client_impl::ClientRef;
use super::enums::{gearman_job_priority_t, gearman_task_attr_kind_t};
use super::run_loop;
use super::shells::{gearman_client_st, gearman_task_st};
use super::submit::{add_linked, workload_of};
use super::task_attr::gearman_task_attr_t;
use super::task_impl::{self, TaskRef};
use crate::client::{Client, Mode, NewTask, Priority, Request, TaskKind};
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

/// The workload in `arguments` (None: empty), read only once the whole submission (function,
/// unique and its length) is known to fit a packet.
fn workload_in<'a>(
    op: &str,
    client: &Client,
    function: &[u8],
    unique: &[u8],
    arguments: Option<CBuf<'a>>,
) -> Result<&'a [u8], Error> {
    let Some(value) = arguments else {
        return Ok(&[]);
    };
    let unique = (!unique.is_empty()).then_some(unique);
    client.check_submission(function, unique, value.len())?;
    workload_of(op, value)
}

/// The lengths of an explicit-length function name and unique, checked before they are read.
fn check_names(op: &str, function_len: usize, unique_len: usize) -> Result<(), Error> {
    crate::endpoint::check_function_name(op, function_len)?;
    crate::client::check_unique_len(op, unique_len)
}

/// Adds the collect-mode task with a heap shell; NULL when the task cannot be made.
fn submit(c: &mut ClientRef, t: NewTask<'_>, context: *mut c_void) -> *mut gearman_task_st {
    add_linked(c, Storage::heap(), gearman_actions_t::default(), context, t)
        .unwrap_or(std::ptr::null_mut())
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
    entry!(std::ptr::null_mut(), {
        const OP: &str = "gearman_execute";
        let Some(mut c): Option<ClientRef> = handle_opt!(client) else {
            return Ok(std::ptr::null_mut());
        };
        let (function, unique) = (
            buf!(function_name, function_name_length),
            buf!(unique, unique_length),
        );
        let arguments = nullable!(arguments).map(|a| buf!(a.value.c_str, a.value.size));
        let parsed = if function.is_null() || function.is_empty() {
            Err(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "function_name was NULL",
            ))
        } else {
            check_names(OP, function.len(), unique.len()).and_then(|()| {
                // The lengths are bounded: the names can be read.
                let (function, unique) = (function.bytes(), unique.bytes());
                workload_in(OP, &c.core, function, unique, arguments).map(|d| (function, unique, d))
            })
        };
        let (function, unique, data) = match parsed {
            Ok(p) => p,
            Err(e) => {
                c.record(e);
                return Ok(std::ptr::null_mut());
            }
        };
        let (request, context) = match nullable!(workload) {
            None => (
                Request::Job {
                    priority: Priority::Normal,
                    background: false,
                },
                std::ptr::null_mut(),
            ),
            Some(a) if a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH => (
                Request::Epoch {
                    when: a.epoch_value(),
                },
                context,
            ),
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
        let shell = submit(&mut c, t, context);
        if !shell.is_null() {
            // The code is discarded, as in 1.1.20.
            let _ = run_loop::drive(&c, None);
        }
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
    entry!(std::ptr::null_mut(), {
        const OP: &str = "gearman_execute_by_partition";
        let Some(mut c): Option<ClientRef> = handle_opt!(client) else {
            set_errno(libc::EINVAL);
            return Ok(std::ptr::null_mut());
        };
        let (partition, function, unique) = (
            buf!(partition_function, partition_function_length),
            buf!(function_name, function_name_length),
            buf!(unique_str, unique_length),
        );
        let attr = nullable!(workload);
        let arguments = nullable!(arguments).map(|a| buf!(a.value.c_str, a.value.size));
        let invalid = |detail: &str| Err(Error::new(ReturnCode::InvalidArgument, OP, detail));
        let parsed = if partition.is_null()
            || partition.is_empty()
            || function.is_null()
            || function.is_empty()
        {
            invalid("function name was empty")
        } else {
            // The reducer's name has no limit of its own (1.1.20): only the packet's.
            check_names(OP, partition.len(), unique.len())
                .and_then(|()| crate::endpoint::check_packet(OP, &[], function.len()))
                .and_then(|()| {
                    if attr.is_some_and(|a| {
                        a.kind == gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH
                    }) {
                        return invalid(
                            "EPOCH is not currently supported for gearman_client_execute_reduce()",
                        );
                    }
                    // The lengths are bounded: the names can be read.
                    let (partition, function, unique) =
                        (partition.bytes(), function.bytes(), unique.bytes());
                    // The reducer's name travels in the same packet: counted with the function.
                    let data =
                        workload_in(OP, &c.core, partition, unique, arguments).and_then(|d| {
                            let fields = [partition.len() + function.len() + 2, unique.len()];
                            crate::endpoint::check_packet(OP, &fields, d.len()).map(|()| d)
                        })?;
                    if data.is_empty() {
                        return invalid("workload was empty");
                    }
                    Ok((partition, function, unique, data))
                })
        };
        let (partition, function, unique, data) = match parsed {
            Ok(p) => p,
            Err(e) => {
                c.record(e);
                return Ok(std::ptr::null_mut());
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
        let shell = submit(&mut c, t, context);
        if shell.is_null() {
            return Ok(shell);
        }
        if run_loop::drive(&c, None).is_err() {
            let task: Option<TaskRef> = handle_opt!(shell);
            if let Some(task) = task {
                task_impl::release(task);
            }
            return Ok(std::ptr::null_mut());
        }
        shell
    })
}
