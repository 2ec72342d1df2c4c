//! The "pause" action set of 1.1.20 (`gearman_actions_pause()`): data, warning and exception
//! append the payload to the task's result and pause once; status and fail pause once; complete
//! appends and succeeds. "Once": when the loop re-delivers a paused event the task's state still
//! names that event, and the action then answers SUCCESS.

use super::actions::gearman_actions_t;
use super::boundary::{entry, handle};
use super::callbacks::TaskFn;
use super::result::gearman_result_st;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::shells::gearman_task_st;
use super::task_impl::TaskRef;
use crate::client::TaskState;

/// Appends the current payload (unless `append` is false) and pauses unless the task is
/// resuming from `resume`.
fn act(mut r: TaskRef, resume: Option<TaskState>, append: bool) -> GearmanReturn {
    let Some(t) = r.core() else {
        return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
    };
    if resume.is_some_and(|s| t.state() == s) {
        return gearman_return_t::GEARMAN_SUCCESS.into();
    }
    let data = append.then(|| t.data().unwrap_or(&[]).to_vec());
    if let Some(data) = data {
        let result = r.result.get_or_insert_with(gearman_result_st::new);
        if result.append(&data).is_err() {
            return gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE.into();
        }
    }
    match resume {
        Some(_) => gearman_return_t::GEARMAN_PAUSE.into(),
        None => gearman_return_t::GEARMAN_SUCCESS.into(),
    }
}

macro_rules! actions {
    ($($name:ident => $resume:expr, $append:expr;)*) => {$(
        /// One slot of the pause action set (a `gearman_*_fn` the run loop calls).
        ///
        /// # Safety
        ///
        /// `task` NULL or a live task shell.
        unsafe extern "C" fn $name(task: *mut gearman_task_st) -> GearmanReturn {
            entry!(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), {
                act(handle!(task), $resume, $append)
            })
        }
    )*};
}

actions! {
    data => Some(TaskState::Data), true;
    warning => Some(TaskState::Warning), true;
    exception => Some(TaskState::Exception), true;
    status => Some(TaskState::Status), false;
    fail => Some(TaskState::Fail), false;
    complete => None, true;
}

/// The slots as the C function pointers they are.
const SLOTS: [TaskFn; 6] = [data, warning, status, complete, exception, fail];

/// The immutable pause table, shareable between threads (it holds only function addresses).
struct SharedActions(gearman_actions_t);

// SAFETY: the table is never written and holds only addresses of functions.
unsafe impl Sync for SharedActions {}

static PAUSE: SharedActions = SharedActions(gearman_actions_t {
    workload_fn: std::ptr::null_mut(),
    created_fn: std::ptr::null_mut(),
    data_fn: SLOTS[0] as *mut _,
    warning_fn: SLOTS[1] as *mut _,
    status_fn: SLOTS[2] as *mut _,
    complete_fn: SLOTS[3] as *mut _,
    exception_fn: SLOTS[4] as *mut _,
    fail_fn: SLOTS[5] as *mut _,
});

/// C++ `const gearman_actions_t &gearman_actions_pause(void)` (exported under its mangled name,
/// `_Z21gearman_actions_pausev`; not in any public header, so cbindgen skips it): the address of
/// the static pause action set.
///
/// # Safety
///
/// Always safe; the table must not be written through the returned pointer.
#[export_name = "_Z21gearman_actions_pausev"]
pub unsafe extern "C" fn gearman_actions_pause() -> *const gearman_actions_t {
    entry!(std::ptr::addr_of!(PAUSE.0), { std::ptr::addr_of!(PAUSE.0) })
}
