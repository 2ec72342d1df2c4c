//! The C boundary: the one entry form of every export, and the typed arguments it hands the
//! export's body.
//!
//! Every `extern "C"` function of this library has the same shape, so a reader sees at the top of
//! each one what it guards:
//!
//! ```ignore
//! pub unsafe extern "C" fn gearman_client_timeout(client: *mut gearman_client_st) -> c_int {
//!     entry!(-1, {
//!         let c = handle!(client);
//!         c.core.timeout()
//!     })
//! }
//! ```
//!
//! * `entry!` runs the body behind a panic guard: a panic never unwinds into C; it and an
//!   invalid argument both make the export answer its documented error value (`-1` here).
//! * `handle!` turns an object pointer into its typed handle (`ClientRef`, `WorkerRef`,
//!   `TaskRef`, `JobRef`, [`Plain`] for results and aggregators; the C type names its handle
//!   through [`HasHandle`]), or leaves with the error value when the object is invalid (NULL, or
//!   a shell whose `_impl` is NULL). Each handle type has one unsafe constructor
//!   ([`Handle::from_c`]); the client and worker handles pass the messages recorded during the
//!   call to the object's log callback when they go out of scope.
//! * `cstr!`, `buf!`, `out_buf!`, `out!`, `nullable!` and `storage!` type the other
//!   pointer arguments (C strings, `(pointer, length)` buffers read or filled, out-parameters,
//!   optional structs, caller storage for a new object); `allocator::given!` a buffer C hands
//!   over to the library.
//!
//! The body runs in a closure returning `Result<R, Invalid>`: an early return inside it is
//! written `return Ok(value)`.
//!
//! The unsafe conversions are written once, in these macros, each justified by the contract
//! every export states in its `# Safety` section: a pointer argument is NULL or valid for what
//! its C type promises, and an object is used by one thread at a time. The bodies behind them
//! are safe code. Memory handed to C comes from libc or the object's workload allocator, never
//! from Rust's allocator; enums are received as raw integers (C may pass any value).

use std::ffi::c_void;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// An invalid object or argument met by `handle!`: the export answers its error value.
#[derive(Debug, Clone, Copy)]
pub struct Invalid;

/// Runs an export's body: a panic, or an [`Invalid`] argument, returns `on_error`.
pub fn guarded<R>(on_error: R, body: impl FnOnce() -> Result<R, Invalid>) -> R {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(r)) => r,
        Ok(Err(Invalid)) | Err(_) => on_error,
    }
}

/// The entry form of every export: `entry!(error value, { body })` (see the module docs).
macro_rules! entry {
    ($on_error:expr, $body:block) => {
        $crate::capi::boundary::guarded($on_error, || {
            ::std::result::Result::<_, $crate::capi::boundary::Invalid>::Ok($body)
        })
    };
}
pub(crate) use entry;

/// A typed handle to a C object: a client, worker, task, job, result or aggregator.
pub trait Handle: Sized {
    /// The C type of the pointer the export receives.
    type C;

    /// The handle of a valid object, None for an invalid one (NULL, or a shell without
    /// `_impl`).
    ///
    /// # Safety
    ///
    /// A non-NULL `ptr` must point to a live object of this type that no other thread uses
    /// during the call: what every export's `# Safety` section requires of its object
    /// arguments.
    unsafe fn from_c(ptr: *const Self::C) -> Option<Self>;
}

/// The typed handle of an object argument (inside `entry!`); an invalid object leaves the
/// export with its error value.
macro_rules! handle {
    ($ptr:expr) => {
        // SAFETY: the export's contract: an object argument is NULL or a live object of its
        // type, used by this thread only.
        match unsafe { $crate::capi::boundary::ObjectPtr::handle($ptr) } {
            Some(h) => h,
            None => return Err($crate::capi::boundary::Invalid),
        }
    };
}
pub(crate) use handle;

/// `handle!` without leaving: `Option<handle>`.
macro_rules! handle_opt {
    ($ptr:expr) => {
        // SAFETY: as in `handle!`.
        unsafe { $crate::capi::boundary::ObjectPtr::handle($ptr) }
    };
}
pub(crate) use handle_opt;

/// A C string argument as its bytes (without the NUL); None for NULL.
macro_rules! cstr {
    ($ptr:expr) => {
        // SAFETY: the export's contract: a string argument is NULL or NUL-terminated and
        // readable for the call.
        unsafe { $crate::capi::boundary::cstr_bytes($ptr) }
    };
}
pub(crate) use cstr;

/// A `(pointer, length)` argument, read only when asked (so its length can be checked first).
macro_rules! buf {
    ($ptr:expr, $len:expr) => {
        // SAFETY: the export's contract: a buffer argument is NULL or readable for its length
        // during the call.
        unsafe { $crate::capi::boundary::CBuf::new($ptr.cast(), $len) }
    };
}
pub(crate) use buf;

/// An out-parameter; writes to NULL are skipped.
macro_rules! out {
    ($ptr:expr) => {
        // SAFETY: the export's contract: an out-parameter is NULL or writable for its type.
        unsafe { $crate::capi::boundary::Out::new($ptr) }
    };
}
pub(crate) use out;

/// An optional struct argument (`const T *`) as `Option<&T>`.
macro_rules! nullable {
    ($ptr:expr) => {
        // SAFETY: the export's contract: such an argument is NULL or points to a readable,
        // initialised struct of its type for the call.
        unsafe { $ptr.as_ref() }
    };
}
pub(crate) use nullable;

/// Caller storage for a new object's shell (NULL: the library allocates the shell).
macro_rules! storage {
    ($ptr:expr) => {
        // SAFETY: the export's contract: storage is NULL or writable for a shell (its old
        // contents are never read).
        unsafe { $crate::capi::boundary::Storage::new($ptr) }
    };
}
pub(crate) use storage;

/// A writable `(pointer, length)` argument (a buffer the export fills).
macro_rules! out_buf {
    ($ptr:expr, $len:expr) => {
        // SAFETY: the export's contract: such a buffer is NULL or writable for its length
        // during the call.
        unsafe { $crate::capi::boundary::OutBuf::new($ptr.cast(), $len) }
    };
}
pub(crate) use out_buf;

/// Defines `$handle`, the typed handle of the shell `$c` whose `_impl` points to a `$impl`:
/// its one unsafe constructor ([`Handle::from_c`]), [`HasHandle`] for `$c`, `ptr()` (the
/// implementation, for code that calls C back: no Rust reference to it may be held across a
/// callback) and `Deref`/`DerefMut` to the implementation.
macro_rules! object_handle {
    ($(#[$doc:meta])* $handle:ident: $c:ty => $impl:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $handle {
            ptr: ::std::ptr::NonNull<$impl>,
        }

        impl $crate::capi::boundary::Handle for $handle {
            type C = $c;

            unsafe fn from_c(ptr: *const $c) -> Option<$handle> {
                // SAFETY: forwarded caller guarantee (a live shell or NULL).
                let imp = unsafe { $crate::capi::boundary::impl_of(ptr) }?;
                // `_impl` of this shell always points to the implementation installed with it.
                ::std::ptr::NonNull::new(imp.cast::<$impl>()).map(|ptr| $handle { ptr })
            }
        }

        impl $crate::capi::boundary::HasHandle for $c {
            type Handle = $handle;
        }

        impl $handle {
            /// The implementation, for code that calls C back.
            pub fn ptr(&self) -> *mut $impl {
                self.ptr.as_ptr()
            }
        }

        impl ::std::ops::Deref for $handle {
            type Target = $impl;

            fn deref(&self) -> &$impl {
                // SAFETY: a handle exists only for a live object used by this thread
                // (`from_c`).
                unsafe { self.ptr.as_ref() }
            }
        }

        impl ::std::ops::DerefMut for $handle {
            fn deref_mut(&mut self) -> &mut $impl {
                // SAFETY: as in `deref`; the borrow is tied to the handle's.
                unsafe { self.ptr.as_mut() }
            }
        }
    };
}
pub(crate) use object_handle;

/// A C type whose pointer arguments `handle!` turns into a typed handle.
pub trait HasHandle: Sized {
    /// The handle of a valid object of this type.
    type Handle: Handle<C = Self>;
}

/// An object pointer argument (`T *` or `const T *`) of a type with a handle.
pub trait ObjectPtr {
    /// The handle of a valid object.
    type Handle;

    /// The handle, or None for an invalid object (see [`Handle::from_c`]).
    ///
    /// # Safety
    ///
    /// As [`Handle::from_c`].
    unsafe fn handle(self) -> Option<Self::Handle>;
}

impl<T: HasHandle> ObjectPtr for *const T {
    type Handle = T::Handle;

    unsafe fn handle(self) -> Option<T::Handle> {
        // SAFETY: forwarded caller guarantee.
        unsafe { T::Handle::from_c(self) }
    }
}

impl<T: HasHandle> ObjectPtr for *mut T {
    type Handle = T::Handle;

    unsafe fn handle(self) -> Option<T::Handle> {
        // SAFETY: forwarded caller guarantee.
        unsafe { T::Handle::from_c(self) }
    }
}

/// The handle of a plain struct the library hands out and C passes back by pointer (a task's
/// result, the aggregator of a map job): valid when non-NULL.
#[derive(Debug)]
pub struct Plain<T> {
    ptr: std::ptr::NonNull<T>,
}

impl<T> Handle for Plain<T> {
    type C = T;

    unsafe fn from_c(ptr: *const T) -> Option<Plain<T>> {
        std::ptr::NonNull::new(ptr.cast_mut()).map(|ptr| Plain { ptr })
    }
}

impl<T> std::ops::Deref for Plain<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: a handle exists only for a live object used by this thread (`from_c`).
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> std::ops::DerefMut for Plain<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; C passes the objects it may change as `T *`, and the library
        // holds no other reference to them during the call.
        unsafe { self.ptr.as_mut() }
    }
}

/// Borrows a NUL-terminated C string's bytes (without the NUL); None for NULL.
///
/// # Safety
///
/// A non-NULL `ptr` must be a NUL-terminated string readable during `'a`.
pub unsafe fn cstr_bytes<'a>(ptr: *const c_char) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated (caller guarantee).
    Some(unsafe { std::ffi::CStr::from_ptr(ptr) }.to_bytes())
}

/// A `(pointer, length)` buffer from C. Its length can be checked before anything is read;
/// [`CBuf::bytes`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct CBuf<'a> {
    ptr: *const u8,
    len: usize,
    _life: std::marker::PhantomData<&'a [u8]>,
}

impl<'a> CBuf<'a> {
    /// # Safety
    ///
    /// A non-NULL `ptr` must be readable for `len` bytes during `'a`.
    pub unsafe fn new(ptr: *const u8, len: usize) -> CBuf<'a> {
        CBuf {
            ptr,
            len,
            _life: std::marker::PhantomData,
        }
    }

    /// True for a NULL pointer.
    pub fn is_null(&self) -> bool {
        self.ptr.is_null()
    }

    /// The length C gave.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for length 0.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The length, or None for a NULL pointer.
    pub fn len_if_set(&self) -> Option<usize> {
        (!self.ptr.is_null()).then_some(self.len)
    }

    /// The bytes; NULL or length 0 is the empty slice.
    pub fn bytes(&self) -> &'a [u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: non-NULL and readable for `len` bytes (constructor's contract).
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The bytes once `check` accepted the length (it sees None for a NULL pointer).
    pub fn checked<E>(
        &self,
        check: impl FnOnce(Option<usize>) -> Result<(), E>,
    ) -> Result<&'a [u8], E> {
        check(self.len_if_set())?;
        Ok(self.bytes())
    }
}

/// A buffer from C the library writes into.
#[derive(Debug)]
pub struct OutBuf<'a> {
    ptr: *mut u8,
    len: usize,
    _life: std::marker::PhantomData<&'a mut [u8]>,
}

impl<'a> OutBuf<'a> {
    /// # Safety
    ///
    /// A non-NULL `ptr` must be writable for `len` bytes during `'a`.
    pub unsafe fn new(ptr: *mut u8, len: usize) -> OutBuf<'a> {
        OutBuf {
            ptr,
            len,
            _life: std::marker::PhantomData,
        }
    }

    /// Copies as much of `data` as fits (nothing into NULL); returns the bytes written.
    pub fn fill(&mut self, data: &[u8]) -> usize {
        if self.ptr.is_null() {
            return 0;
        }
        let n = data.len().min(self.len);
        // SAFETY: writable for `len >= n` bytes (constructor's contract); `data` is a Rust
        // slice, so the two do not overlap unless C passed the library's own buffer back.
        unsafe { std::ptr::copy(data.as_ptr(), self.ptr, n) };
        n
    }
}

/// An out-parameter from C.
#[derive(Debug)]
pub struct Out<'a, T> {
    ptr: *mut T,
    _life: std::marker::PhantomData<&'a mut T>,
}

impl<'a, T> Out<'a, T> {
    /// # Safety
    ///
    /// A non-NULL `ptr` must be writable for a `T` during `'a`.
    pub unsafe fn new(ptr: *mut T) -> Out<'a, T> {
        Out {
            ptr,
            _life: std::marker::PhantomData,
        }
    }

    /// Writes `value` unless C passed NULL.
    pub fn set(&mut self, value: T) {
        if !self.ptr.is_null() {
            // SAFETY: non-NULL and writable (constructor's contract).
            unsafe { self.ptr.write(value) }
        }
    }

    /// True for NULL.
    pub fn is_null(&self) -> bool {
        self.ptr.is_null()
    }
}

/// Caller storage for a shell, or NULL (a library-allocated shell).
#[derive(Debug)]
pub struct Storage<'a, S> {
    ptr: *mut S,
    _life: std::marker::PhantomData<&'a mut S>,
}

impl<'a, S: Shell> Storage<'a, S> {
    /// # Safety
    ///
    /// A non-NULL `ptr` must be writable for an `S` during `'a`.
    pub unsafe fn new(ptr: *mut S) -> Storage<'a, S> {
        Storage {
            ptr,
            _life: std::marker::PhantomData,
        }
    }

    /// No caller storage: the library allocates the shell.
    pub fn heap() -> Storage<'static, S> {
        Storage {
            ptr: std::ptr::null_mut(),
            _life: std::marker::PhantomData,
        }
    }

    /// Installs `implementation` in a shell following libgearman's shell protocol and
    /// returns the shell C gets back:
    /// * caller storage: its old contents are never read; it becomes
    ///   `{is_allocated: false, is_initialized: true, _impl}` and the same pointer is returned;
    /// * NULL: the library allocates the shell, `{is_allocated: true, ...}`.
    // `implementation` is only stored in the shell, never dereferenced.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn attach(self, implementation: *mut c_void) -> *mut S {
        // SAFETY: NULL or writable storage (constructor's contract).
        unsafe { shell_attach(self.ptr, implementation) }
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

/// The implementation pointer of a shell, or `None` for an invalid object (NULL or NULL `_impl`).
///
/// # Safety
///
/// A non-NULL `shell` must point to a live shell struct.
pub unsafe fn impl_of<S: Shell>(shell: *const S) -> Option<*mut c_void> {
    // SAFETY: forwarded caller guarantee.
    let shell = unsafe { shell.as_ref() }?;
    let ptr = shell.impl_ptr();
    (!ptr.is_null()).then_some(ptr)
}

/// See [`Storage::attach`].
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
/// `shell` must be NULL or a live shell; a shell with `is_allocated` must come from
/// [`shell_attach`].
pub unsafe fn shell_release<S: Shell>(shell: *mut S) {
    // SAFETY: forwarded caller guarantee.
    let Some(s) = (unsafe { shell.as_mut() }) else {
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

/// Sets the calling thread's errno (some 1.1.20 calls report EINVAL through it).
pub fn set_errno(value: i32) {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = value };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::shells::{gearman_client_st, gearman_task_st};

    #[test]
    fn entry_turns_a_panic_or_an_invalid_argument_into_the_error_value() {
        assert_eq!(guarded(7, || -> Result<i32, Invalid> { panic!("boom") }), 7);
        assert_eq!(guarded(7, || Err(Invalid)), 7);
        assert_eq!(guarded(7, || Ok(3)), 3);
    }

    #[test]
    fn shells_in_caller_storage_and_on_the_heap() {
        let mut token = 0u8;
        let implementation: *mut c_void = std::ptr::addr_of_mut!(token).cast();
        // Caller storage full of garbage: overwritten, same pointer returned.
        let mut storage = std::mem::MaybeUninit::<gearman_client_st>::uninit();
        // SAFETY: `storage` is writable; the garbage is never read.
        unsafe {
            std::ptr::write_bytes(storage.as_mut_ptr().cast::<u8>(), 0xAB, 16);
            let p = Storage::new(storage.as_mut_ptr()).attach(implementation);
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
    fn out_ignores_null_and_buffers_read_lazily() {
        // SAFETY: NULL is skipped; the second pointer is a live local.
        unsafe {
            Out::new(std::ptr::null_mut::<u32>()).set(1);
            let mut x = 0u32;
            Out::new(&mut x).set(5);
            assert_eq!(x, 5);
            let text = b"abc";
            let b = CBuf::new(text.as_ptr(), usize::MAX);
            assert!(b
                .checked(|len| if len == Some(usize::MAX) {
                    Err(())
                } else {
                    Ok(())
                })
                .is_err());
            assert_eq!(CBuf::new(text.as_ptr(), 2).bytes(), b"ab");
            assert_eq!(CBuf::new(std::ptr::null(), 2).len_if_set(), None);
        }
    }
}
