//! `gearman_allocator_t` (upstream allocator.h): the workload allocator set of a client or worker.

use std::ffi::c_void;

use super::callbacks::{gearman_calloc_fn, gearman_free_fn, gearman_malloc_fn, gearman_realloc_fn};

/// `struct gearman_allocator_t { calloc; free; malloc; realloc; void *context; }` (40 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_allocator_t {
    pub calloc: *mut gearman_calloc_fn,
    pub free: *mut gearman_free_fn,
    pub malloc: *mut gearman_malloc_fn,
    pub realloc: *mut gearman_realloc_fn,
    pub context: *mut c_void,
}
