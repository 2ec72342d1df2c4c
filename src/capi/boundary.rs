//! The C boundary: panic guards, pointer checks and the shell <-> `_impl` helpers every extern fn uses.
//!
//! Rules (see design.md): no panic unwinds into C (each extern fn runs its body in [`guard`]); a NULL
//! object and an object whose `_impl` is NULL are treated alike ("invalid"); memory handed to C comes
//! from libc (or the object's workload allocator), never from Rust's allocator.

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `body`, turning a panic into `on_panic` (the documented error value: an error code, NULL, 0).
pub fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// Runs `body` for a function returning a pointer; a panic becomes NULL.
pub fn guard_ptr<T>(body: impl FnOnce() -> *const T) -> *const T {
    guard(std::ptr::null(), body)
}

/// Borrows `ptr` if it is non-NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must point to a live, properly aligned `T` that is not mutated for `'a`.
pub unsafe fn ref_from<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the caller guarantees that a non-NULL pointer is valid for 'a.
    unsafe { ptr.as_ref() }
}

/// Mutably borrows `ptr` if it is non-NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must point to a live, properly aligned `T` not otherwise borrowed for `'a`.
pub unsafe fn mut_from<'a, T>(ptr: *mut T) -> Option<&'a mut T> {
    // SAFETY: the caller guarantees that a non-NULL pointer is valid and unaliased for 'a.
    unsafe { ptr.as_mut() }
}

/// Writes `value` through `out` when C passed a non-NULL out-parameter.
///
/// # Safety
///
/// A non-NULL `out` must be valid for a write of `T`.
pub unsafe fn write_out<T>(out: *mut T, value: T) {
    if !out.is_null() {
        // SAFETY: non-NULL, and the caller guarantees it is writable.
        unsafe { out.write(value) }
    }
}

/// The caller-visible handle structs (`gearman_client_st`, ...): `{ options; void *_impl; }`.
pub trait Shell: Sized {
    /// A detached shell (all flags false, `_impl` NULL).
    fn empty() -> Self;
    /// The implementation pointer (`_impl`).
    fn impl_ptr(&self) -> *mut c_void;
    /// Stores the implementation pointer and the flags of a live object: `is_allocated` says the
    /// library allocated the shell itself.
    fn attach(&mut self, implementation: *mut c_void, is_allocated: bool);
    /// Clears the shell after its implementation was released (caller storage keeps the struct).
    fn detach(&mut self);
    /// `options.is_allocated`.
    fn is_allocated(&self) -> bool;
}

/// Implements [`Shell`] for a struct laid out as upstream's client, worker and job shells:
/// `{ struct { bool is_allocated; bool is_initialized; } options; void *_impl; }`.
macro_rules! impl_shell {
    ($shell:ty) => {
        impl $crate::capi::boundary::Shell for $shell {
            fn empty() -> Self {
                Self {
                    options: Default::default(),
                    _impl: std::ptr::null_mut(),
                }
            }

            fn impl_ptr(&self) -> *mut std::ffi::c_void {
                self._impl
            }

            fn attach(&mut self, implementation: *mut std::ffi::c_void, is_allocated: bool) {
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
    };
}
pub(crate) use impl_shell;

/// The implementation pointer of a shell, or `None` for an invalid object (NULL or NULL `_impl`).
///
/// # Safety
///
/// A non-NULL `shell` must point to a live shell struct.
pub unsafe fn impl_of<S: Shell>(shell: *const S) -> Option<*mut c_void> {
    // SAFETY: forwarded caller guarantee.
    let shell = unsafe { ref_from(shell) }?;
    let ptr = shell.impl_ptr();
    (!ptr.is_null()).then_some(ptr)
}

/// Installs `implementation` in a shell following libgearman's protocol (spec §2.1) and returns the
/// shell pointer C gets back:
/// * `caller` non-NULL (caller storage, e.g. PHP embeds the struct): its old contents are never read;
///   it becomes `{is_allocated: false, is_initialized: true, _impl}` and `caller` is returned;
/// * `caller` NULL: the library allocates the shell, `{is_allocated: true, ...}`.
///
/// # Safety
///
/// A non-NULL `caller` must be valid for writing an `S`.
pub unsafe fn shell_attach<S: Shell>(caller: *mut S, implementation: *mut c_void) -> *mut S {
    let (shell, is_allocated) = if caller.is_null() {
        (Box::into_raw(Box::new(S::empty())), true)
    } else {
        // SAFETY: writable (caller guarantee); a write does not read the old contents.
        unsafe { caller.write(S::empty()) };
        (caller, false)
    };
    // SAFETY: `shell` is either the fresh box or the caller's storage just initialised.
    unsafe { (*shell).attach(implementation, is_allocated) };
    shell
}

/// Releases a shell after its implementation was released: a library-allocated shell is freed
/// (the pointer dangles afterwards, as in libgearman); caller storage is kept and detached
/// (`is_allocated = is_initialized = false`, `_impl = NULL`).
///
/// # Safety
///
/// `shell` must be NULL or a live shell; a shell with `is_allocated` must come from [`shell_attach`].
pub unsafe fn shell_release<S: Shell>(shell: *mut S) {
    // SAFETY: forwarded caller guarantee.
    let Some(s) = (unsafe { mut_from(shell) }) else {
        return;
    };
    if s.is_allocated() {
        // SAFETY: allocated by `shell_attach` with `Box::new` (caller guarantee) and not yet freed.
        drop(unsafe { Box::from_raw(shell) });
    } else {
        s.detach();
    }
}

/// Allocates `size` bytes with libc `malloc` (memory C may release with `free`).
pub fn libc_malloc(size: usize) -> *mut c_void {
    // SAFETY: malloc has no preconditions; a NULL result is handled by the callers.
    unsafe { libc::malloc(size.max(1)) }
}

/// Borrows `size` bytes at `ptr`; NULL or size 0 is the empty slice.
///
/// # Safety
///
/// A non-NULL `ptr` must be readable for `size` bytes during `'a`.
pub unsafe fn bytes_from<'a, T>(ptr: *const T, size: usize) -> &'a [u8] {
    if ptr.is_null() || size == 0 {
        return &[];
    }
    // SAFETY: non-NULL and readable for `size` bytes (caller guarantee).
    unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), size) }
}

/// Borrows a NUL-terminated C string's bytes (without the NUL); None for NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must be a NUL-terminated string readable during `'a`.
pub unsafe fn cstr_bytes<'a>(ptr: *const std::os::raw::c_char) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated (caller guarantee).
    Some(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_a_panic_into_the_fallback() {
        let r = guard(7, || -> i32 { panic!("boom") });
        assert_eq!(r, 7);
        assert_eq!(guard(7, || 3), 3);
        assert!(guard_ptr::<u8>(|| panic!("boom")).is_null());
    }

    #[test]
    fn shells_in_caller_storage_and_on_the_heap() {
        use crate::capi::client::gearman_client_st;
        use crate::capi::task::gearman_task_st;
        let mut token = 0u8;
        let implementation: *mut c_void = std::ptr::addr_of_mut!(token).cast();
        // Caller storage full of garbage: overwritten, same pointer returned.
        let mut storage = std::mem::MaybeUninit::<gearman_client_st>::uninit();
        // SAFETY: `storage` is writable; the garbage is never read.
        unsafe {
            std::ptr::write_bytes(storage.as_mut_ptr().cast::<u8>(), 0xAB, 16);
            let p = shell_attach(storage.as_mut_ptr(), implementation);
            assert_eq!(p, storage.as_mut_ptr());
            assert!(!(*p).options.is_allocated && (*p).options.is_initialized);
            assert_eq!(impl_of(p), Some(implementation));
            shell_release(p);
            assert!(!(*p).options.is_allocated && !(*p).options.is_initialized);
            assert_eq!(impl_of(p), None);
        }
        // SAFETY: a heap shell created and released here.
        unsafe {
            let p = shell_attach(std::ptr::null_mut::<gearman_task_st>(), implementation);
            assert!((*p).options.is_allocated);
            assert_eq!(impl_of(p), Some(implementation));
            shell_release(p);
            shell_release(std::ptr::null_mut::<gearman_task_st>());
            assert_eq!(impl_of(std::ptr::null::<gearman_task_st>()), None);
        }
    }

    #[test]
    fn write_out_ignores_null() {
        // SAFETY: NULL is skipped; the second pointer is a live local.
        unsafe {
            write_out(std::ptr::null_mut::<u32>(), 1);
            let mut x = 0u32;
            write_out(&mut x, 5);
            assert_eq!(x, 5);
        }
    }
}
