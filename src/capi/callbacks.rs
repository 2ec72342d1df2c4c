//! The callback typedefs of upstream's constants.h and client_callbacks.h.
//!
//! Upstream declares *function* typedefs (`typedef void* (gearman_malloc_fn)(size_t, void*)`) and APIs
//! take `gearman_malloc_fn *`. cbindgen can only express pointer typedefs, so the header's typedefs are
//! written by hand (cbindgen.toml, `typedefs` section) and Rust names each one with an opaque marker
//! type of the same name: a parameter `*mut gearman_malloc_fn` is rendered `gearman_malloc_fn *`.
//! The [`CCallback`] trait ties each marker to its Rust function-pointer type, so [`callback`]
//! can only turn a `*mut gearman_malloc_fn` into a [`MallocFn`], never into another type.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::aggregator::gearman_aggregator_st;
use super::enums::RawVerbose;
use super::result::gearman_result_st;
use super::return_code::GearmanReturn;
use super::shells::{gearman_job_st, gearman_task_st};

/// `in_port_t` (rendered by name; `uint16_t` on Linux).
pub type in_port_t = u16;

macro_rules! marker {
    ($($(#[$doc:meta])* $name:ident => $fn_type:ident = $sig:ty;)*) => {$(
        $(#[$doc])*
        pub struct $name {
            _opaque: [u8; 0],
        }

        /// The Rust function-pointer type behind the marker of the same C name.
        pub type $fn_type = $sig;

        impl CCallback for $name {
            type Fn = $fn_type;
        }
    )*};
}

/// A marker type standing for a C function typedef, tied to the Rust function-pointer type of
/// that typedef.
pub trait CCallback {
    /// The function-pointer type (`unsafe extern "C" fn(...)`) of the typedef.
    type Fn: Copy;
}

marker! {
    /// `typedef void* (gearman_malloc_fn)(size_t size, void *context);`
    gearman_malloc_fn => MallocFn = unsafe extern "C" fn(usize, *mut c_void) -> *mut c_void;
    /// `typedef void* (gearman_realloc_fn)(void *ptr, size_t size, void *context);`
    gearman_realloc_fn => ReallocFn = unsafe extern "C" fn(*mut c_void, usize, *mut c_void) -> *mut c_void;
    /// `typedef void* (gearman_calloc_fn)(size_t nelm, size_t size, void *context);`
    gearman_calloc_fn => CallocFn = unsafe extern "C" fn(usize, usize, *mut c_void) -> *mut c_void;
    /// `typedef void (gearman_free_fn)(void *ptr, void *context);`
    gearman_free_fn => FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void);
    /// `typedef gearman_return_t (gearman_parse_server_fn)(const char *host, in_port_t port, void *context);`
    gearman_parse_server_fn => ParseServerFn = unsafe extern "C" fn(*const c_char, in_port_t, *mut c_void) -> GearmanReturn;
    /// `typedef void (gearman_task_context_free_fn)(gearman_task_st *task, void *context);`
    gearman_task_context_free_fn => TaskContextFreeFn = unsafe extern "C" fn(*mut gearman_task_st, *mut c_void);
    /// `typedef void (gearman_log_fn)(const char *line, gearman_verbose_t verbose, void *context);`
    gearman_log_fn => LogFn = unsafe extern "C" fn(*const c_char, RawVerbose, *mut c_void);
    /// `typedef void* (gearman_worker_fn)(gearman_job_st *job, void *context, size_t *result_size, gearman_return_t *ret_ptr);`
    gearman_worker_fn => WorkerFn = unsafe extern "C" fn(*mut gearman_job_st, *mut c_void, *mut usize, *mut GearmanReturn) -> *mut c_void;
    /// `typedef gearman_return_t (gearman_function_fn)(gearman_job_st *job, void *worker_context);`
    gearman_function_fn => FunctionFn = unsafe extern "C" fn(*mut gearman_job_st, *mut c_void) -> GearmanReturn;
    /// `typedef gearman_return_t (gearman_aggregator_fn)(gearman_aggregator_st *, gearman_task_st *, gearman_result_st *);`
    gearman_aggregator_fn => AggregatorFn = unsafe extern "C" fn(*mut gearman_aggregator_st, *mut gearman_task_st, *mut gearman_result_st) -> GearmanReturn;
    /// `typedef gearman_return_t (gearman_workload_fn)(gearman_task_st *task);`
    gearman_workload_fn => WorkloadFn = TaskFn;
    /// `typedef gearman_return_t (gearman_created_fn)(gearman_task_st *task);`
    gearman_created_fn => CreatedFn = TaskFn;
    /// `typedef gearman_return_t (gearman_data_fn)(gearman_task_st *task);`
    gearman_data_fn => DataFn = TaskFn;
    /// `typedef gearman_return_t (gearman_warning_fn)(gearman_task_st *task);`
    gearman_warning_fn => WarningFn = TaskFn;
    /// `typedef gearman_return_t (gearman_universal_status_fn)(gearman_task_st *task);`
    gearman_universal_status_fn => StatusFn = TaskFn;
    /// `typedef gearman_return_t (gearman_complete_fn)(gearman_task_st *task);`
    gearman_complete_fn => CompleteFn = TaskFn;
    /// `typedef gearman_return_t (gearman_exception_fn)(gearman_task_st *task);`
    gearman_exception_fn => ExceptionFn = TaskFn;
    /// `typedef gearman_return_t (gearman_fail_fn)(gearman_task_st *task);`
    gearman_fail_fn => FailFn = TaskFn;
}

/// The shape shared by the eight client callbacks.
pub type TaskFn = unsafe extern "C" fn(*mut gearman_task_st) -> GearmanReturn;

/// Converts a C function pointer, typed with its marker, into the function-pointer type the
/// marker stands for; None for NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must be a function of the signature the marker's C typedef declares.
pub unsafe fn callback<M: CCallback>(ptr: *mut M) -> Option<M::Fn> {
    if ptr.is_null() || std::mem::size_of::<M::Fn>() != std::mem::size_of::<*mut M>() {
        return None;
    }
    // SAFETY: function and data pointers have the same size (checked above) and representation on
    // the platforms this library targets; the trait ties the marker to its signature and the
    // caller guarantees the function has it.
    Some(unsafe { std::mem::transmute_copy::<*mut M, M::Fn>(&ptr) })
}
