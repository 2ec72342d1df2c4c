//! `gearman_actions_t` (upstream actions.h): a task's eight callbacks.

use super::callbacks::{
    gearman_complete_fn, gearman_created_fn, gearman_data_fn, gearman_exception_fn,
    gearman_fail_fn, gearman_universal_status_fn, gearman_warning_fn, gearman_workload_fn,
};

/// `struct gearman_actions_t` (64 bytes; 8 function pointers in this order).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_actions_t {
    pub workload_fn: *mut gearman_workload_fn,
    pub created_fn: *mut gearman_created_fn,
    pub data_fn: *mut gearman_data_fn,
    pub warning_fn: *mut gearman_warning_fn,
    pub status_fn: *mut gearman_universal_status_fn,
    pub complete_fn: *mut gearman_complete_fn,
    pub exception_fn: *mut gearman_exception_fn,
    pub fail_fn: *mut gearman_fail_fn,
}

impl Default for gearman_actions_t {
    /// No callbacks.
    fn default() -> Self {
        let null = std::ptr::null_mut::<u8>();
        gearman_actions_t {
            workload_fn: null.cast(),
            created_fn: null.cast(),
            data_fn: null.cast(),
            warning_fn: null.cast(),
            status_fn: null.cast(),
            complete_fn: null.cast(),
            exception_fn: null.cast(),
            fail_fn: null.cast(),
        }
    }
}

/// The "pause" action set of 1.1.20 (`gearman_actions_pause()`): data, warning and exception
/// append the payload to the task's result and pause once; status and fail pause once; complete
/// appends and succeeds. "Once": when the loop re-delivers a paused event the task's state still
/// names that event, and the action then answers SUCCESS.
mod pause {
    use super::super::callbacks::TaskFn;
    use super::super::result::gearman_result_st;
    use super::super::return_code::{gearman_return_t, GearmanReturn};
    use super::super::task::{gearman_task_st, task_impl};
    use crate::client::TaskState;

    /// Appends the current payload (unless `append` is false) and pauses unless the task is
    /// resuming from `resume`.
    ///
    /// # Safety
    ///
    /// `task` NULL or a live task shell.
    unsafe fn act(
        task: *mut gearman_task_st,
        resume: Option<TaskState>,
        append: bool,
    ) -> GearmanReturn {
        super::super::boundary::guard(gearman_return_t::GEARMAN_INVALID_ARGUMENT.into(), || {
            // SAFETY: caller guarantee.
            let Some(r) = (unsafe { task_impl(task) }) else {
                return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
            };
            // SAFETY: the client of a live task is live.
            let Some(t) = (unsafe { r.core() }) else {
                return gearman_return_t::GEARMAN_INVALID_ARGUMENT.into();
            };
            if resume.is_some_and(|s| t.state() == s) {
                return gearman_return_t::GEARMAN_SUCCESS.into();
            }
            if append {
                let data = t.data().unwrap_or(&[]).to_vec();
                let result = r.result.get_or_insert_with(gearman_result_st::new);
                if result.append(&data).is_err() {
                    return gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE.into();
                }
            }
            match resume {
                Some(_) => gearman_return_t::GEARMAN_PAUSE.into(),
                None => gearman_return_t::GEARMAN_SUCCESS.into(),
            }
        })
    }

    macro_rules! actions {
        ($($name:ident => $resume:expr, $append:expr;)*) => {$(
            /// One slot of the pause action set.
            ///
            /// # Safety
            ///
            /// `task` NULL or a live task shell.
            pub unsafe extern "C" fn $name(task: *mut gearman_task_st) -> GearmanReturn {
                // SAFETY: forwarded caller guarantee.
                unsafe { act(task, $resume, $append) }
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
    pub const SLOTS: [TaskFn; 6] = [data, warning, status, complete, exception, fail];
}

/// The immutable pause table, shareable between threads (it holds only function addresses).
struct SharedActions(gearman_actions_t);

// SAFETY: the table is never written and holds only addresses of functions.
unsafe impl Sync for SharedActions {}

static PAUSE: SharedActions = SharedActions(gearman_actions_t {
    workload_fn: std::ptr::null_mut(),
    created_fn: std::ptr::null_mut(),
    data_fn: pause::SLOTS[0] as *mut _,
    warning_fn: pause::SLOTS[1] as *mut _,
    status_fn: pause::SLOTS[2] as *mut _,
    complete_fn: pause::SLOTS[3] as *mut _,
    exception_fn: pause::SLOTS[4] as *mut _,
    fail_fn: pause::SLOTS[5] as *mut _,
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
    &PAUSE.0
}
