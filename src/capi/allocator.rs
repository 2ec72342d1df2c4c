//! `gearman_allocator_t` (upstream allocator.h): the workload allocator set of a client or worker.

use std::ffi::c_void;

use super::boundary;
use super::callbacks::{
    callback, gearman_calloc_fn, gearman_free_fn, gearman_malloc_fn, gearman_realloc_fn,
};
use super::return_code::{gearman_return_t, GEARMAN_FATAL};

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

impl Default for gearman_allocator_t {
    /// No custom functions: libc is used.
    fn default() -> Self {
        gearman_allocator_t {
            calloc: std::ptr::null_mut(),
            free: std::ptr::null_mut(),
            malloc: std::ptr::null_mut(),
            realloc: std::ptr::null_mut(),
            context: std::ptr::null_mut(),
        }
    }
}

/// The workload allocator of a client or worker: the buffers C receives or hands over
/// (received payloads, copied workloads, `do()` results, v1 worker results) go through the installed
/// functions, else libc. Internal buffers never do.
#[derive(Clone, Copy, Debug, Default)]
pub struct WorkloadAllocator {
    slots: gearman_allocator_t,
}

impl WorkloadAllocator {
    /// `set_workload_malloc_fn`: the malloc slot, and the shared context (last setter wins).
    pub fn set_malloc(&mut self, function: *mut gearman_malloc_fn, context: *mut c_void) {
        self.slots.malloc = function;
        self.slots.context = context;
    }

    /// `set_workload_free_fn`: the free slot, and the shared context (last setter wins).
    pub fn set_free(&mut self, function: *mut gearman_free_fn, context: *mut c_void) {
        self.slots.free = function;
        self.slots.context = context;
    }

    /// `set_memory_allocators`: all four NULL → libc again; all four set → installed with `context`;
    /// a mix → `GEARMAN_FATAL` and nothing changes (as 1.1.20).
    pub fn set_all(
        &mut self,
        malloc: *mut gearman_malloc_fn,
        free: *mut gearman_free_fn,
        realloc: *mut gearman_realloc_fn,
        calloc: *mut gearman_calloc_fn,
        context: *mut c_void,
    ) -> gearman_return_t {
        let set = [
            malloc.is_null(),
            free.is_null(),
            realloc.is_null(),
            calloc.is_null(),
        ];
        if set.iter().all(|&null| null) {
            *self = WorkloadAllocator::default();
            gearman_return_t::GEARMAN_SUCCESS
        } else if set.iter().all(|&null| !null) {
            self.slots = gearman_allocator_t {
                calloc,
                free,
                malloc,
                realloc,
                context,
            };
            gearman_return_t::GEARMAN_SUCCESS
        } else {
            GEARMAN_FATAL
        }
    }

    /// The raw slots (for `clone`).
    pub fn slots(&self) -> gearman_allocator_t {
        self.slots
    }

    /// Whether a custom malloc is installed.
    pub fn has_custom_malloc(&self) -> bool {
        !self.slots.malloc.is_null()
    }

    /// Whether C installed a malloc or a free function: then the buffers libgearman 1.1.20
    /// passes through them (received payloads, workloads, outgoing job data) do here too, so
    /// a binding counting or tracking its allocator (PHP's emalloc, Perl's safemalloc) sees
    /// the same calls. With libc alone the copies are skipped: nobody can tell.
    pub fn is_custom(&self) -> bool {
        !self.slots.malloc.is_null() || !self.slots.free.is_null()
    }

    /// A copy of `bytes` in a buffer of exactly their length from [`Self::malloc`] (NULL when
    /// allocation fails).
    ///
    /// # Safety
    ///
    /// As [`Self::malloc`].
    pub unsafe fn copy(&self, bytes: &[u8]) -> *mut c_void {
        // SAFETY: forwarded caller guarantee.
        let p = unsafe { self.malloc(bytes.len()) };
        if !p.is_null() && !bytes.is_empty() {
            // SAFETY: `p` has `bytes.len()` writable bytes that do not overlap `bytes`.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast::<u8>(), bytes.len()) };
        }
        p
    }

    /// Allocates `size` bytes with the installed malloc, else libc `malloc`.
    ///
    /// # Safety
    ///
    /// The installed function pointers must have the C signatures their slots declare.
    pub unsafe fn malloc(&self, size: usize) -> *mut c_void {
        // SAFETY: slot signature (caller guarantee).
        match unsafe { callback(self.slots.malloc) } {
            // SAFETY: calling the user's allocator as documented.
            Some(f) => unsafe { f(size, self.slots.context) },
            None => boundary::libc_malloc(size),
        }
    }

    /// Releases `ptr` with the installed free, else libc `free`. NULL is ignored.
    ///
    /// # Safety
    ///
    /// As [`Self::malloc`]; `ptr` must come from the matching allocator and not be used afterwards.
    pub unsafe fn free(&self, ptr: *mut c_void) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: slot signature (caller guarantee).
        match unsafe { callback(self.slots.free) } {
            // SAFETY: calling the user's deallocator as documented.
            Some(f) => unsafe { f(ptr, self.slots.context) },
            // SAFETY: `ptr` came from libc malloc (caller guarantee).
            None => unsafe { libc::free(ptr) },
        }
    }

    /// `nelm * size` zeroed bytes: the installed calloc; else the installed malloc, zeroed; else
    /// libc `calloc`. Overflow → NULL.
    ///
    /// # Safety
    ///
    /// As [`Self::malloc`].
    pub unsafe fn calloc(&self, nelm: usize, size: usize) -> *mut c_void {
        // SAFETY: slot signature (caller guarantee).
        if let Some(f) = unsafe { callback(self.slots.calloc) } {
            // SAFETY: calling the user's allocator as documented.
            return unsafe { f(nelm, size, self.slots.context) };
        }
        let Some(total) = nelm.checked_mul(size) else {
            return std::ptr::null_mut();
        };
        if self.has_custom_malloc() {
            // SAFETY: forwarded caller guarantee.
            let p = unsafe { self.malloc(total) };
            if !p.is_null() {
                // SAFETY: the allocator returned at least `total` writable bytes.
                unsafe { std::ptr::write_bytes(p.cast::<u8>(), 0, total) };
            }
            return p;
        }
        // SAFETY: libc calloc has no preconditions.
        unsafe { libc::calloc(nelm.max(1), size.max(1)) }
    }

    /// Resizes `ptr`: the installed realloc; NULL when only a custom malloc is installed (as
    /// 1.1.20); else libc `realloc`.
    ///
    /// # Safety
    ///
    /// As [`Self::free`] for `ptr`.
    pub unsafe fn realloc(&self, ptr: *mut c_void, size: usize) -> *mut c_void {
        // SAFETY: slot signature (caller guarantee).
        if let Some(f) = unsafe { callback(self.slots.realloc) } {
            // SAFETY: calling the user's allocator as documented.
            return unsafe { f(ptr, size, self.slots.context) };
        }
        if self.has_custom_malloc() {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` is NULL or from libc (caller guarantee).
        unsafe { libc::realloc(ptr, size.max(1)) }
    }

    /// A copy of `bytes` followed by one NUL, from [`Self::malloc`] (`len + 1` bytes): the shape of
    /// `gearman_client_do` results and received workloads. NULL when allocation fails.
    ///
    /// # Safety
    ///
    /// As [`Self::malloc`].
    pub unsafe fn copy_with_nul(&self, bytes: &[u8]) -> *mut c_void {
        let Some(size) = bytes.len().checked_add(1) else {
            return std::ptr::null_mut();
        };
        // SAFETY: forwarded caller guarantee.
        let p = unsafe { self.malloc(size) };
        if !p.is_null() {
            // SAFETY: `p` has `size` writable bytes; `bytes` does not overlap fresh memory.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), p.cast::<u8>(), bytes.len());
                *p.cast::<u8>().add(bytes.len()) = 0;
            }
        }
        p
    }
}

/// A `(pointer, length)` buffer C hands over to the library (it was allocated with the object's
/// workload allocator, and the library releases it).
macro_rules! given {
    ($ptr:expr, $len:expr) => {
        // SAFETY: the export's contract: such a buffer is NULL or a buffer of its length from
        // the object's workload malloc fn, whose ownership passes to the library.
        unsafe { $crate::capi::allocator::Given::new($ptr.cast_mut().cast(), $len) }
    };
}
pub(crate) use given;

/// A buffer C gave to the library (see `given!`).
#[derive(Debug)]
pub struct Given {
    ptr: *mut u8,
    len: usize,
}

impl Given {
    /// # Safety
    ///
    /// A non-NULL `ptr` must be a buffer of `len` readable bytes from the workload allocator the
    /// buffer is later released with, no longer used by C.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> Given {
        Given { ptr, len }
    }

    /// The bytes (empty for NULL or length 0).
    pub fn bytes(&self) -> &[u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: readable for `len` bytes (constructor's contract) while `self` lives.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Releases the buffer with the allocator it came from.
    pub fn release(self, allocator: &WorkloadAllocator) {
        // SAFETY: from this allocator and owned by the library now (constructor's contract);
        // released once (`self` is consumed).
        unsafe { allocator.free(self.ptr.cast()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ptr::null_mut;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static MALLOCS: AtomicUsize = AtomicUsize::new(0);
    static FREES: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn counting_malloc(size: usize, context: *mut c_void) -> *mut c_void {
        assert_eq!(context as usize, 0x5eed);
        MALLOCS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: plain libc allocation.
        unsafe { libc::malloc(size) }
    }

    unsafe extern "C" fn counting_free(ptr: *mut c_void, context: *mut c_void) {
        assert_eq!(context as usize, 0x5eed);
        FREES.fetch_add(1, Ordering::SeqCst);
        // SAFETY: `ptr` came from `counting_malloc`.
        unsafe { libc::free(ptr) }
    }

    fn as_marker<M>(f: *const ()) -> *mut M {
        f as *mut M
    }

    #[test]
    fn custom_malloc_and_free_are_used_with_the_shared_context() {
        let mut a = WorkloadAllocator::default();
        let ctx = 0x5eed as *mut c_void;
        a.set_malloc(
            as_marker(counting_malloc as *const ()),
            std::ptr::null_mut(),
        );
        a.set_free(as_marker(counting_free as *const ()), ctx);
        let (m0, f0) = (MALLOCS.load(Ordering::SeqCst), FREES.load(Ordering::SeqCst));
        // SAFETY: the installed functions have the slot signatures.
        unsafe {
            let p = a.copy_with_nul(b"abc");
            assert_eq!(std::ffi::CStr::from_ptr(p.cast()).to_bytes(), b"abc");
            let z = a.calloc(4, 4);
            assert_eq!(std::slice::from_raw_parts(z.cast::<u8>(), 16), &[0u8; 16]);
            assert!(
                a.realloc(z, 32).is_null(),
                "1.1.20: no realloc with only a custom malloc"
            );
            a.free(p);
            a.free(z);
            a.free(std::ptr::null_mut());
        }
        assert_eq!(MALLOCS.load(Ordering::SeqCst) - m0, 2);
        assert_eq!(FREES.load(Ordering::SeqCst) - f0, 2);
    }

    #[test]
    fn set_all_accepts_none_or_all() {
        let mut a = WorkloadAllocator::default();
        let m: *mut gearman_malloc_fn = as_marker(counting_malloc as *const ());
        assert_eq!(
            a.set_all(m, null_mut(), null_mut(), null_mut(), null_mut()),
            GEARMAN_FATAL
        );
        assert!(!a.has_custom_malloc(), "a rejected mix changes nothing");
        assert_eq!(
            a.set_all(null_mut(), null_mut(), null_mut(), null_mut(), null_mut()),
            gearman_return_t::GEARMAN_SUCCESS
        );
        // SAFETY: libc defaults.
        unsafe {
            let p = a.copy_with_nul(b"");
            assert_eq!(*p.cast::<u8>(), 0);
            let p = a.realloc(p, 10);
            assert!(!p.is_null());
            a.free(p);
        }
    }
}
