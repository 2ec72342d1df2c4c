//! `gearman_task_attr_t` (upstream task_attr.h) and its three constructors.

use std::os::raw::c_char;

use super::boundary::entry;
use super::enums::{gearman_task_attr_kind_t, RawPriority, RawTaskAttrKind};

/// `struct gearman_task_attr_epoch_t { time_t value; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_task_attr_epoch_t {
    pub value: libc::time_t,
}

/// The anonymous `options` union of `gearman_task_attr_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union gearman_task_attr_options_u {
    pub bytes: [c_char; 8],
    pub epoch: gearman_task_attr_epoch_t,
}

/// `struct gearman_task_attr_t { kind; priority; union { bytes[8]; epoch } options; }` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_task_attr_t {
    pub kind: RawTaskAttrKind,
    pub priority: RawPriority,
    pub options: gearman_task_attr_options_u,
}

impl gearman_task_attr_t {
    /// The time of an EPOCH attr (the union read as its `epoch` member).
    pub fn epoch_value(&self) -> libc::time_t {
        // SAFETY: both members are 8 plain bytes; any bit pattern is a valid `time_t`.
        unsafe { self.options.epoch.value }
    }
}

fn make(
    kind: gearman_task_attr_kind_t,
    priority: RawPriority,
    epoch: libc::time_t,
) -> gearman_task_attr_t {
    gearman_task_attr_t {
        kind: kind.into(),
        priority,
        options: gearman_task_attr_options_u {
            epoch: gearman_task_attr_epoch_t { value: epoch },
        },
    }
}

/// `gearman_task_attr_t gearman_task_attr_init(gearman_job_priority_t priority);` → `{FOREGROUND, priority, 0}`.
///
/// # Safety
///
/// Always safe: a pure function of its argument (any integer is stored as given).
#[no_mangle]
pub unsafe extern "C" fn gearman_task_attr_init(priority: RawPriority) -> gearman_task_attr_t {
    // Cannot fail; the error value is the same attr.
    entry!(
        make(
            gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_FOREGROUND,
            priority,
            0
        ),
        {
            make(
                gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_FOREGROUND,
                priority,
                0,
            )
        }
    )
}

/// `gearman_task_attr_t gearman_task_attr_init_background(gearman_job_priority_t priority);` → `{BACKGROUND, priority, 0}`.
///
/// # Safety
///
/// Always safe: a pure function of its argument.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_attr_init_background(
    priority: RawPriority,
) -> gearman_task_attr_t {
    // Cannot fail; the error value is the same attr.
    entry!(
        make(
            gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_BACKGROUND,
            priority,
            0
        ),
        {
            make(
                gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_BACKGROUND,
                priority,
                0,
            )
        }
    )
}

/// `gearman_task_attr_t gearman_task_attr_init_epoch(time_t epoch, gearman_job_priority_t priority);` → `{EPOCH, priority, epoch}`.
///
/// # Safety
///
/// Always safe: a pure function of its arguments.
#[no_mangle]
pub unsafe extern "C" fn gearman_task_attr_init_epoch(
    epoch: libc::time_t,
    priority: RawPriority,
) -> gearman_task_attr_t {
    // Cannot fail; the error value is the same attr without its time.
    entry!(
        make(
            gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH,
            priority,
            0
        ),
        {
            make(
                gearman_task_attr_kind_t::GEARMAN_TASK_ATTR_EPOCH,
                priority,
                epoch,
            )
        }
    )
}
