//! The caller-visible handle structs of upstream's interface headers: `gearman_client_st`,
//! `gearman_worker_st`, `gearman_job_st` (`{ options; void *_impl; }`, 16 bytes, `_impl` at
//! offset 8) and `gearman_task_st` (one flag only). C only ever holds these shells (PHP embeds
//! the client and worker shells in its own objects); `_impl` points to the implementation.

use std::ffi::c_void;

use super::boundary::Shell;

/// The `options` member of `gearman_client_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_client_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_client_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_client_st {
    pub options: gearman_client_options_st,
    pub _impl: *mut c_void,
}

/// The `options` member of `gearman_worker_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_worker_options_st {
    pub is_allocated: bool,
    pub is_initialized: bool,
}

/// `struct gearman_worker_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_worker_st {
    pub options: gearman_worker_options_st,
    pub _impl: *mut c_void,
}

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

/// The `options` member of `gearman_task_st` (an anonymous struct upstream; same layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct gearman_task_options_st {
    pub is_allocated: bool,
}

/// `struct gearman_task_st { struct { ... } options; void *_impl; }`: 16 bytes, `_impl` at offset 8.
#[repr(C)]
#[derive(Debug)]
pub struct gearman_task_st {
    pub options: gearman_task_options_st,
    pub _impl: *mut c_void,
}

/// [`Shell`] for the shells; `is_initialized` names that flag for the shells that have it
/// (the task shell has `is_allocated` only).
macro_rules! shell {
    ($shell:ty $(, $is_initialized:ident)?) => {
        impl Shell for $shell {
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
                $(self.options.$is_initialized = true;)?
                self._impl = implementation;
            }

            fn detach(&mut self) {
                self.options.is_allocated = false;
                $(self.options.$is_initialized = false;)?
                self._impl = std::ptr::null_mut();
            }

            fn is_allocated(&self) -> bool {
                self.options.is_allocated
            }
        }
    };
}

shell!(gearman_client_st, is_initialized);
shell!(gearman_worker_st, is_initialized);
shell!(gearman_job_st, is_initialized);
shell!(gearman_task_st);
