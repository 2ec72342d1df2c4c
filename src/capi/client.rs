//! `gearman_client_st`: the caller-visible handle of a client (upstream interface/client.h).
//!
//! Only the struct lives here for now; the functions on it are wired onto the core separately.

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

impl Shell for gearman_client_st {
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

/// `void gearman_client_do_status(gearman_client_st *client, uint32_t *numerator, uint32_t *denominator);`
///
/// Deprecated in 1.1.20 and a no-op there: writes 0 to each non-NULL out pointer and ignores `client`
/// (even NULL). PHP's `GearmanClient::doStatus()` relies on the (0, 0) answer.
///
/// # Safety
///
/// Non-NULL `numerator`/`denominator` must be writable `uint32_t`s; `client` is never read.
#[no_mangle]
pub unsafe extern "C" fn gearman_client_do_status(
    client: *mut gearman_client_st,
    numerator: *mut u32,
    denominator: *mut u32,
) {
    let _ = client;
    super::boundary::guard((), || {
        // SAFETY: the caller guarantees non-NULL out pointers are writable.
        unsafe {
            super::boundary::write_out(numerator, 0);
            super::boundary::write_out(denominator, 0);
        }
    })
}
