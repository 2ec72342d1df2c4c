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
