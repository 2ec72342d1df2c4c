//! `gearman_string_t` (upstream string.h): a borrowed, not necessarily NUL-terminated byte string.

use std::os::raw::c_char;

/// `struct gearman_string_t { const char *c_str; const size_t size; }` (16 bytes).
///
/// Upstream declares `size` const; C cannot tell the difference except that ours is assignable.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_string_t {
    pub c_str: *const c_char,
    pub size: usize,
}

impl gearman_string_t {
    /// `{NULL, 0}`.
    pub const fn null() -> Self {
        gearman_string_t {
            c_str: std::ptr::null(),
            size: 0,
        }
    }

    /// Borrows the bytes (empty for NULL or size 0).
    ///
    /// # Safety
    ///
    /// A non-NULL `c_str` must be readable for `size` bytes during `'a`.
    pub unsafe fn as_bytes<'a>(&self) -> &'a [u8] {
        if self.c_str.is_null() || self.size == 0 {
            return &[];
        }
        // SAFETY: non-NULL and readable for `size` bytes (caller guarantee).
        unsafe { std::slice::from_raw_parts(self.c_str.cast::<u8>(), self.size) }
    }
}
