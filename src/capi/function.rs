//! `gearman_function_t` (upstream function.h) and its four by-value constructors.

use std::os::raw::c_char;

use super::boundary::entry;
use super::callbacks::{gearman_aggregator_fn, gearman_function_fn, gearman_worker_fn};
use super::enums::{gearman_function_kind_t, RawFunctionKind};

/// `struct gearman_function_v1_t { gearman_worker_fn *func; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_function_v1_t {
    pub func: *mut gearman_worker_fn,
}

/// `struct gearman_function_v2_t { gearman_function_fn *func; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_function_v2_t {
    pub func: *mut gearman_function_fn,
}

/// `struct gearman_function_partition_v1_t { gearman_function_fn *func; gearman_aggregator_fn *aggregator; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_function_partition_v1_t {
    pub func: *mut gearman_function_fn,
    pub aggregator: *mut gearman_aggregator_fn,
}

/// The anonymous `callback` union of `gearman_function_t` (16 bytes).
#[repr(C)]
#[derive(Clone, Copy)]
pub union gearman_function_callback_u {
    pub bytes: [c_char; 16],
    pub function_v1: gearman_function_v1_t,
    pub function_v2: gearman_function_v2_t,
    pub partitioner: gearman_function_partition_v1_t,
}

/// `struct gearman_function_t { const enum gearman_function_kind_t kind; union {...} callback; }`
/// (24 bytes; `callback` at 8). Upstream's `kind` is const; ours is not (C cannot tell otherwise).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_function_t {
    pub kind: RawFunctionKind,
    pub callback: gearman_function_callback_u,
}

impl gearman_function_t {
    /// A function of kind NULL (no callback): its jobs fail.
    pub fn none() -> gearman_function_t {
        make(
            gearman_function_kind_t::GEARMAN_WORKER_FUNCTION_NULL,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }

    /// A V2 function of `func` (what `gearman_function_create` makes).
    pub fn v2(func: *mut gearman_function_fn) -> gearman_function_t {
        make(
            gearman_function_kind_t::GEARMAN_WORKER_FUNCTION_V2,
            func,
            std::ptr::null_mut(),
        )
    }

    /// A V1 function of `func`.
    pub fn v1(func: *mut gearman_worker_fn) -> gearman_function_t {
        make(
            gearman_function_kind_t::GEARMAN_WORKER_FUNCTION_V1,
            func.cast::<gearman_function_fn>(),
            std::ptr::null_mut(),
        )
    }

    /// The callback of a V1 function.
    pub fn v1_fn(&self) -> *mut gearman_worker_fn {
        // SAFETY: every member starts with a plain function pointer; any value is a valid
        // pointer (it is only called after the kind was checked).
        unsafe { self.callback.function_v1.func }
    }

    /// The callback of a V2 or partition function.
    pub fn v2_fn(&self) -> *mut gearman_function_fn {
        // SAFETY: as in `v1_fn`.
        unsafe { self.callback.function_v2.func }
    }

    /// The aggregator of a partition function.
    pub fn aggregator(&self) -> *mut gearman_aggregator_fn {
        // SAFETY: `make` writes the whole partitioner member, so its second pointer is always
        // initialised (NULL for the other kinds).
        unsafe { self.callback.partitioner.aggregator }
    }
}

fn make(
    kind: gearman_function_kind_t,
    func: *mut gearman_function_fn,
    aggregator: *mut gearman_aggregator_fn,
) -> gearman_function_t {
    // Writing the largest member zeroes every byte of the union: unused bytes are zero as in 1.1.20.
    gearman_function_t {
        kind: kind.into(),
        callback: gearman_function_callback_u {
            partitioner: gearman_function_partition_v1_t { func, aggregator },
        },
    }
}

/// `gearman_function_t gearman_function_create(gearman_function_fn func);` → kind V2.
///
/// # Safety
///
/// Nothing is dereferenced or called; the pointer is stored as given (NULL accepted, as upstream).
#[no_mangle]
pub unsafe extern "C" fn gearman_function_create(
    func: *mut gearman_function_fn,
) -> gearman_function_t {
    entry!(gearman_function_t::none(), { gearman_function_t::v2(func) })
}

/// `gearman_function_t gearman_function_create_v2(gearman_function_fn func);`: identical to
/// [`gearman_function_create`].
///
/// # Safety
///
/// As [`gearman_function_create`].
#[no_mangle]
pub unsafe extern "C" fn gearman_function_create_v2(
    func: *mut gearman_function_fn,
) -> gearman_function_t {
    entry!(gearman_function_t::none(), { gearman_function_t::v2(func) })
}

/// `gearman_function_t gearman_function_create_v1(gearman_worker_fn func);` → kind V1.
///
/// # Safety
///
/// As [`gearman_function_create`].
#[no_mangle]
pub unsafe extern "C" fn gearman_function_create_v1(
    func: *mut gearman_worker_fn,
) -> gearman_function_t {
    entry!(gearman_function_t::none(), { gearman_function_t::v1(func) })
}

/// `gearman_function_t gearman_function_create_partition(gearman_function_fn func, gearman_aggregator_fn aggregator);` → kind PARTITION.
///
/// # Safety
///
/// As [`gearman_function_create`].
#[no_mangle]
pub unsafe extern "C" fn gearman_function_create_partition(
    func: *mut gearman_function_fn,
    aggregator: *mut gearman_aggregator_fn,
) -> gearman_function_t {
    entry!(gearman_function_t::none(), {
        make(
            gearman_function_kind_t::GEARMAN_WORKER_FUNCTION_PARTITION,
            func,
            aggregator,
        )
    })
}
