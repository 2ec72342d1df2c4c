//! Submissions from C, shared by the `gearman_client_add_task*`, `gearman_client_do*`,
//! `do_*background`, status and execute exports: argument rules in libgearman 1.1.20's order,
//! task records, and the synchronous runs of one job.
//!
//! Argument rules: function NULL or "" → INVALID_ARGUMENT "invalid function"; longer than 512
//! bytes, or a unique longer than 64 → INVALID_ARGUMENT; a workload is `(NULL, 0)` or
//! `(pointer, size > 0)`, anything else → INVALID_ARGUMENT "invalid workload" (so a non-NULL
//! empty workload is refused, as 1.1.20 does); a submission that cannot fit one packet →
//! ARGUMENT_TOO_LARGE. All of it before the workload is read.

use std::ffi::c_void;

use super::actions::gearman_actions_t;
use super::boundary::{CBuf, Out, Storage};
use super::client_impl::{ClientImpl, ClientRef};
use super::error::to_c;
use super::limits::GEARMAN_JOB_HANDLE_SIZE;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::run_loop::{run_internal, run_internal_id};
use super::shells::gearman_task_st;
use super::status::{gearman_status_t, gearman_status_u, gearman_status_v1_t};
use super::task_impl::{self, TaskRef};
use crate::client::{Client, Mode, NewTask, Priority, Request, TaskKind};
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

impl<'a> Args<'a> {
    /// The task that submits these arguments as a job (`what`), reporting events.
    fn task(&self, what: Submission, kind: TaskKind) -> NewTask<'a> {
        NewTask {
            request: Request::Job {
                priority: what.priority,
                background: what.background,
            },
            function: self.function,
            unique: self.unique,
            workload: self.workload.to_vec(),
            mode: Mode::Events,
            kind,
        }
    }
}

/// Validates the arguments of a submission (see the module docs), reading the workload last.
pub fn parse_args<'a>(
    op: &str,
    client: &Client,
    function: Option<&'a [u8]>,
    unique: Option<&'a [u8]>,
    workload: CBuf<'a>,
) -> Result<Args<'a>, Error> {
    let function = match function {
        Some(f) if !f.is_empty() => f,
        _ => {
            return Err(Error::new(
                ReturnCode::InvalidArgument,
                op,
                "invalid function",
            ))
        }
    };
    client.check_submission(function, unique, 0)?;
    let workload = workload.checked(|len| {
        if workload.is_null() != (workload.is_empty()) {
            return Err(Error::new(
                ReturnCode::InvalidArgument,
                op,
                "invalid workload",
            ));
        }
        client.check_submission(function, unique, len.unwrap_or(0))
    })?;
    Ok(Args {
        function,
        unique,
        workload,
    })
}

/// The `(pointer, size)` workload rule and the packet limit, before the workload is read.
pub fn workload_of<'a>(op: &str, workload: CBuf<'a>) -> Result<&'a [u8], Error> {
    workload.checked(|len| {
        if workload.is_null() != (workload.is_empty()) {
            return Err(Error::new(
                ReturnCode::InvalidArgument,
                op,
                "invalid workload",
            ));
        }
        crate::endpoint::check_packet(op, &[], len.unwrap_or(0))
    })
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

/// Adds a task built from `t` and links it to a C shell in `storage` (with `actions` and
/// `context`).
pub fn add_linked(
    client: &mut ClientRef,
    storage: Storage<'_, gearman_task_st>,
    actions: gearman_actions_t,
    context: *mut c_void,
    t: NewTask<'_>,
) -> Result<*mut gearman_task_st, ReturnCode> {
    let id = client.core.add_task_with(t).map_err(|e| e.code())?;
    let shell = task_impl::attach(client, storage, id, actions, context);
    if shell.is_null() {
        client.core.free_task(id);
        return Err(ReturnCode::MemoryAllocationFailure);
    }
    Ok(shell)
}

/// What one of the six `gearman_client_add_task*` submits.
#[derive(Debug, Clone, Copy)]
pub struct Submission {
    /// Queue priority.
    pub priority: Priority,
    /// SUBMIT_JOB*_BG.
    pub background: bool,
}

/// The body shared by the six `gearman_client_add_task*`: the task (in `storage` or on the
/// heap) with the client's callbacks and `context`, the workload copied (with the client's
/// malloc fn too, when one is installed, as 1.1.20 copies it); `*ret` SUCCESS, or NULL and the
/// error (INVALID_ARGUMENT for an invalid client).
///
#[allow(clippy::too_many_arguments)]
pub fn add_task(
    client: Option<ClientRef>,
    storage: Storage<'_, gearman_task_st>,
    context: *mut c_void,
    function: Option<&[u8]>,
    unique: Option<&[u8]>,
    workload: CBuf<'_>,
    ret: &mut Out<'_, GearmanReturn>,
    what: Submission,
) -> *mut gearman_task_st {
    ret.set(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into());
    let Some(mut c) = client else {
        return std::ptr::null_mut();
    };
    const OP: &str = "gearman_client_add_task";
    let r = match parse_args(OP, &c.core, function, unique, workload) {
        Err(e) => {
            let code = e.code();
            c.record(e);
            Err(code)
        }
        Ok(a) => {
            let t = a.task(what, TaskKind::AddTask);
            let actions = c.actions;
            let r = add_linked(&mut c, storage, actions, context, t);
            if let Ok(shell) = r {
                keep_allocator_copy(&c, shell, a.workload);
            }
            r
        }
    };
    match r {
        Ok(shell) => {
            ret.set(gearman_return_t::GEARMAN_SUCCESS.into());
            shell
        }
        Err(code) => {
            ret.set(to_c(code));
            std::ptr::null_mut()
        }
    }
}

/// With a custom workload malloc fn, makes the task's allocator-owned copy of the workload
/// (`shell`: a task of `client` just linked).
fn keep_allocator_copy(client: &ClientImpl, shell: *mut gearman_task_st, workload: &[u8]) {
    let alloc = client.alloc;
    if !alloc.has_custom_malloc() || workload.is_empty() {
        return;
    }
    // SAFETY: a live task shell of this client, just linked.
    let Some(mut r) = (unsafe { <TaskRef as super::boundary::Handle>::from_c(shell) }) else {
        return;
    };
    // SAFETY: the installed allocator has the C signatures.
    r.workload_copy = unsafe { alloc.copy(workload) };
}

/// The task of a synchronous job (`do*`, `do_*background`) with checked arguments (see
/// [`parse_args`]); a refused argument is recorded on the client and its code returned.
fn job_task<'a>(
    op: &str,
    c: &mut ClientImpl,
    function: Option<&'a [u8]>,
    unique: Option<&'a [u8]>,
    workload: CBuf<'a>,
    what: Submission,
) -> Result<NewTask<'a>, GearmanReturn> {
    match parse_args(op, &c.core, function, unique, workload) {
        Ok(a) => Ok(a.task(what, TaskKind::Do)),
        Err(e) => {
            let rc = to_c(e.code());
            c.record(e);
            Err(rc)
        }
    }
}

/// Stores a finished task's failure on the client the way 1.1.20 shows it: quiet codes (WORK_FAIL,
/// WORK_EXCEPTION) as the bare code, others with a message.
fn record_task_failure(c: &mut ClientImpl, code: ReturnCode, op: &str) {
    if c.core.error_state().code() == code {
        return;
    }
    c.record(Error::new(code, op, "task did not succeed"));
}

/// The body shared by `gearman_client_do`, `_high`, `_low`: an invalid client → NULL and
/// `*ret_ptr` INVALID_ARGUMENT (`*result_size` untouched, as 1.1.20); otherwise the result from
/// the client's allocator, its size and code.
#[allow(clippy::too_many_arguments)]
pub fn do_job(
    client: Option<ClientRef>,
    function: Option<&[u8]>,
    unique: Option<&[u8]>,
    workload: CBuf<'_>,
    mut result_size: Out<'_, usize>,
    mut ret: Out<'_, GearmanReturn>,
    priority: Priority,
) -> *mut c_void {
    ret.set(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into());
    let Some(mut c) = client else {
        return std::ptr::null_mut();
    };
    result_size.set(0);
    let (result, size, rc) = run_do(&mut c, function, unique, workload, priority);
    result_size.set(size);
    ret.set(rc);
    result
}

/// Runs a foreground job to its end: (result buffer from the client's allocator, size, code).
fn run_do(
    c: &mut ClientRef,
    function: Option<&[u8]>,
    unique: Option<&[u8]>,
    workload: CBuf<'_>,
    priority: Priority,
) -> (*mut c_void, usize, GearmanReturn) {
    const OP: &str = "gearman_client_do";
    let null = std::ptr::null_mut();
    c.core.error_state_mut().reset();
    let what = Submission {
        priority,
        background: false,
    };
    let t = match job_task(OP, c, function, unique, workload, what) {
        Ok(t) => t,
        Err(rc) => return (null, 0, rc),
    };
    let mut task = match run_internal(c, t) {
        Ok(t) => t,
        Err(rc) => return (null, 0, rc),
    };
    let cl = &mut **c;
    if cl.core.options().non_blocking {
        // 1.1.20 on a non-blocking client: IO_WAIT, the result is lost (docs/libgearman-quirks.md Q8).
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

/// The body shared by the three `do_*background`: submits and waits for JOB_CREATED; the
/// handle goes to `job_handle` (64 bytes, zero padded, if non-NULL) and the client's buffer.
pub fn do_background(
    c: &mut ClientRef,
    function: Option<&[u8]>,
    unique: Option<&[u8]>,
    workload: CBuf<'_>,
    job_handle: &mut Out<'_, [u8; 64]>,
    priority: Priority,
) -> GearmanReturn {
    const OP: &str = "gearman_client_do_background";
    let t = {
        let cl = &mut **c;
        cl.core.error_state_mut().reset();
        if function.is_none_or(|f| f.is_empty()) {
            cl.record(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "function argument was empty",
            ));
            return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
        }
        cl.do_handle = [0; 64];
        let what = Submission {
            priority,
            background: true,
        };
        match job_task(OP, cl, function, unique, workload, what) {
            Ok(t) => t,
            Err(rc) => return rc,
        }
    };
    let mut r = run_internal(c, t);
    let cl = &mut **c;
    if cl.core.options().non_blocking && r.is_ok() {
        // 1.1.20 on a non-blocking client: the job is submitted, the call answers IO_WAIT and
        // the handle is not reported, even when JOB_CREATED was already read (Q8).
        cl.core.error_state_mut().set_code(ReturnCode::IoWait);
        r = Err(gearman_return_t::GEARMAN_IO_WAIT.into());
    }
    let handle: &[u8] = match &r {
        Ok(t) => t.job_handle(),
        Err(_) => b"",
    };
    let n = handle.len().min(63);
    cl.do_handle[..n].copy_from_slice(&handle[..n]);
    // strncpy(…, 64): all 64 bytes written, zero padded.
    let mut padded = [0u8; 64];
    padded[..handle.len().min(64)].copy_from_slice(&handle[..handle.len().min(64)]);
    job_handle.set(padded);
    match r {
        Err(rc) => rc,
        Ok(t) if t.return_code() == ReturnCode::Success => gearman_return_t::GEARMAN_SUCCESS.into(),
        Ok(t) => {
            record_task_failure(cl, t.return_code(), OP);
            to_c(t.return_code())
        }
    }
}

/// What `gearman_client_job_status` learns: (code, known, running, numerator, denominator).
pub type JobStatusReply = (GearmanReturn, bool, bool, u32, u32);

/// `gearman_client_job_status`'s GET_STATUS, blocking.
pub fn job_status(c: &mut ClientRef, handle: Option<&[u8]>) -> JobStatusReply {
    let fail = |rc: GearmanReturn| (rc, false, false, 0, 0);
    const OP: &str = "gearman_client_job_status";
    let id = {
        let cl = &mut **c;
        cl.core.error_state_mut().reset();
        let Some(handle) = handle else {
            cl.record(Error::new(
                ReturnCode::InvalidArgument,
                OP,
                "job_handle was NULL",
            ));
            return fail(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into());
        };
        if let Err(e) = check_handle(OP, handle) {
            let code = to_c(e.code());
            cl.record(e);
            return fail(code);
        }
        cl.core.add_status_task(handle, Mode::Collect)
    };
    match run_internal_id(c, id) {
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
}

/// A V1 `gearman_status_t` with `rc` and the fields of `v`.
pub fn status(rc: GearmanReturn, v: gearman_status_v1_t) -> gearman_status_t {
    gearman_status_t {
        version_: super::enums::gearman_status_version_t::GEARMAN_STATUS_V1.into(),
        status_: gearman_status_u {
            mesg_: gearman_status_v1_t { result_rc: rc, ..v },
        },
    }
}

/// The status fields before anything is known (rc UNKNOWN_STATE).
pub(crate) const UNKNOWN_STATUS: gearman_status_v1_t = gearman_status_v1_t {
    result_rc: GearmanReturn(gearman_return_t::GEARMAN_UNKNOWN_STATE as u32),
    is_known: false,
    is_running: false,
    numerator: 0,
    denominator: 0,
    client_count: 0,
};

/// `gearman_client_unique_status`'s GET_STATUS_UNIQUE, blocking.
pub fn unique_status(c: &mut ClientRef, unique: Option<&[u8]>) -> gearman_status_t {
    let empty = UNKNOWN_STATUS;
    let Some(unique) = unique else {
        return status(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), empty);
    };
    let id = {
        let cl = &mut **c;
        cl.core.error_state_mut().reset();
        let Ok(id) = cl.core.add_status_unique_task(unique, Mode::Collect) else {
            return status(gearman_return_t::GEARMAN_UNKNOWN_STATE.into(), empty);
        };
        id
    };
    match run_internal_id(c, id) {
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
}
