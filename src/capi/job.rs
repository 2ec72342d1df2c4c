//! `gearman_job_st`: the caller-visible handle of a job (owned by its worker) (upstream interface/job.h).
//!
//! Only the struct lives here for now; the functions on it are wired onto the core separately.

use std::ffi::c_void;

use super::boundary::Shell;

/// The `options` member of `gearman_job_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_job_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_job_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_job_st {
    pub options: gearman_job_options_st,
    pub _impl: *mut c_void,
}

impl Shell for gearman_job_st {
    fn empty() -> Self {
        Self {
            options: Default::default(),
            _impl: std::ptr::null_mut(),
        }
    }

    fn impl_ptr(&self) -> *mut c_void {
        self._impl
    }

    fn attach(&mut self, implementation: *mut c_void, is_allocated: bool) {
        self.options.is_allocated = is_allocated;
        self.options.is_initialized = true;
        self._impl = implementation;
    }

    fn detach(&mut self) {
        self.options.is_allocated = false;
        self.options.is_initialized = false;
        self._impl = std::ptr::null_mut();
    }

    fn is_allocated(&self) -> bool {
        self.options.is_allocated
    }
}
