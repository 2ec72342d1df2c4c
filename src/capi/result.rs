//! `gearman_result_st` (opaque upstream): the value a do/execute task accumulates, and its nine
//! accessors (upstream result.h). Results are created and owned by tasks; C only borrows them.

use std::ffi::c_void;
use std::os::raw::c_char;

use super::boundary::{buf, entry, handle, HasHandle, Plain};
use super::return_code::{gearman_return_t, GearmanReturn, INVALID};
use super::string::gearman_string_t;
use crate::protocol::decimal::c_decimal;

/// What a result holds.
#[derive(Debug, Default)]
enum Value {
    #[default]
    Null,
    /// The bytes followed by one NUL (so `gearman_result_value` is a C string).
    Binary(Vec<u8>),
    Boolean(bool),
    Integer(i64),
}

/// A task's result. Opaque to C.
#[derive(Debug, Default)]
pub struct gearman_result_st {
    value: Value,
}

impl gearman_result_st {
    /// An empty (NULL-typed) result.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends bytes to a BINARY result (a NULL-typed result becomes BINARY first); used while a
    /// task's WORK_DATA / WORK_COMPLETE payloads arrive. Fails only when memory runs out.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), gearman_return_t> {
        let mut buf = match std::mem::take(&mut self.value) {
            Value::Binary(mut b) => {
                b.pop();
                b
            }
            _ => Vec::new(),
        };
        if buf.try_reserve(bytes.len() + 1).is_err() {
            return Err(gearman_return_t::GEARMAN_MEMORY_ALLOCATION_FAILURE);
        }
        buf.extend_from_slice(bytes);
        buf.push(0);
        self.value = Value::Binary(buf);
        Ok(())
    }

    /// Replaces the value with a copy of `bytes` (BINARY).
    pub fn store(&mut self, bytes: &[u8]) -> Result<(), gearman_return_t> {
        self.value = Value::Null;
        self.append(bytes)
    }

    /// Stores a boolean.
    pub fn store_boolean(&mut self, value: bool) {
        self.value = Value::Boolean(value);
    }

    /// The BINARY bytes (without the NUL), if BINARY.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Binary(b) => Some(&b[..b.len().saturating_sub(1)]),
            _ => None,
        }
    }

    fn integer(&self) -> i64 {
        match &self.value {
            Value::Binary(b) => atoll(b),
            Value::Boolean(v) => i64::from(*v),
            Value::Integer(v) => *v,
            Value::Null => 0,
        }
    }

    fn boolean(&self) -> bool {
        match &self.value {
            Value::Binary(b) => b.len() > 1,
            Value::Boolean(v) => *v,
            Value::Integer(v) => *v != 0,
            Value::Null => false,
        }
    }
}

/// C `atoll` over a NUL-terminated buffer: leading whitespace, optional sign, decimal digits; stops at
/// the first other byte; 0 when there are no digits. Overflow wraps instead of being undefined.
fn atoll(text: &[u8]) -> i64 {
    let (negative, digits) = c_decimal(text);
    let magnitude = digits.fold(0i64, |acc, d| acc.wrapping_mul(10).wrapping_add(d));
    if negative {
        magnitude.wrapping_neg()
    } else {
        magnitude
    }
}

impl HasHandle for gearman_result_st {
    type Handle = Plain<gearman_result_st>;
}

/// Replaces a result's value with a copy of `bytes`.
fn store(result: &mut gearman_result_st, bytes: &[u8]) -> GearmanReturn {
    match result.store(bytes) {
        Ok(()) => gearman_return_t::GEARMAN_SUCCESS.into(),
        Err(rc) => rc.into(),
    }
}

/// `int64_t gearman_result_integer(const gearman_result_st *self);`: BINARY → `atoll(text)`, BOOLEAN →
/// 0/1, INTEGER → the value, NULL-typed or NULL self → 0.
///
/// # Safety
///
/// A non-NULL `self_` must be a result obtained from `gearman_task_result` and still owned by its task.
#[no_mangle]
pub unsafe extern "C" fn gearman_result_integer(self_: *const gearman_result_st) -> i64 {
    entry!(0, { handle!(self_).integer() })
}

/// `bool gearman_result_boolean(const gearman_result_st *self);`: BINARY → non-empty, BOOLEAN → the
/// value, INTEGER → non-zero, NULL-typed or NULL self → false.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_boolean(self_: *const gearman_result_st) -> bool {
    entry!(false, { handle!(self_).boolean() })
}

/// `gearman_string_t gearman_result_string(const gearman_result_st *self);`: BINARY → `{ptr, len}`,
/// otherwise `{NULL, 0}`. The bytes stay owned by the result.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_string(
    self_: *const gearman_result_st,
) -> gearman_string_t {
    entry!(gearman_string_t::null(), {
        match handle!(self_).bytes() {
            Some(b) => gearman_string_t {
                c_str: b.as_ptr().cast::<c_char>(),
                size: b.len(),
            },
            None => gearman_string_t::null(),
        }
    })
}

/// `gearman_return_t gearman_result_store_string(gearman_result_st *self, gearman_string_t arg);`:
/// replaces the value with a copy of `arg` (BINARY). NULL self → `GEARMAN_INVALID_ARGUMENT`; no memory
/// → `GEARMAN_MEMORY_ALLOCATION_FAILURE` (the result becomes NULL-typed).
///
/// # Safety
///
/// As [`gearman_result_integer`], and a non-NULL `arg.c_str` must be readable for `arg.size` bytes.
#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_string(
    self_: *mut gearman_result_st,
    arg: gearman_string_t,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut result: Plain<gearman_result_st> = handle!(self_);
        store(&mut result, buf!(arg.c_str, arg.size).bytes())
    })
}

/// `gearman_return_t gearman_result_store_value(gearman_result_st *self, const void *value, size_t size);`:
/// as [`gearman_result_store_string`].
///
/// # Safety
///
/// As [`gearman_result_store_string`] (`value`/`size` instead of `arg`).
#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_value(
    self_: *mut gearman_result_st,
    value: *const c_void,
    size: usize,
) -> GearmanReturn {
    entry!(INVALID, {
        let mut result: Plain<gearman_result_st> = handle!(self_);
        store(&mut result, buf!(value, size).bytes())
    })
}

/// `void gearman_result_store_integer(gearman_result_st *self, int64_t value);`: INTEGER; NULL → no-op.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_store_integer(self_: *mut gearman_result_st, value: i64) {
    entry!((), {
        handle!(self_).value = Value::Integer(value);
    })
}

/// `size_t gearman_result_size(const gearman_result_st *self);`: BINARY → length, anything else → 0.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_size(self_: *const gearman_result_st) -> usize {
    entry!(0, { handle!(self_).bytes().map_or(0, <[u8]>::len) })
}

/// `const char *gearman_result_value(const gearman_result_st *self);`: BINARY → the NUL-terminated
/// bytes, otherwise NULL.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_value(self_: *const gearman_result_st) -> *const c_char {
    entry!(std::ptr::null(), {
        handle!(self_)
            .bytes()
            .map_or(std::ptr::null(), |b| b.as_ptr().cast::<c_char>())
    })
}

/// `bool gearman_result_is_null(const gearman_result_st *self);`: NULL-typed (or NULL self) → true.
///
/// # Safety
///
/// As [`gearman_result_integer`].
#[no_mangle]
pub unsafe extern "C" fn gearman_result_is_null(self_: *const gearman_result_st) -> bool {
    entry!(true, { matches!(handle!(self_).value, Value::Null) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_accessors() {
        let mut r = gearman_result_st::new();
        let p: *mut gearman_result_st = &mut r;
        // SAFETY: `p` points to a live local result; the string borrows a literal.
        unsafe {
            assert!(gearman_result_is_null(p));
            assert_eq!(gearman_result_size(p), 0);
            assert!(gearman_result_value(p).is_null());
            let s = gearman_string_t {
                c_str: b"42x".as_ptr().cast(),
                size: 3,
            };
            assert_eq!(
                gearman_result_store_string(p, s),
                gearman_return_t::GEARMAN_SUCCESS
            );
            assert!(!gearman_result_is_null(p));
            assert_eq!(gearman_result_size(p), 3);
            assert_eq!(gearman_result_integer(p), 42);
            assert!(gearman_result_boolean(p));
            assert_eq!(
                std::ffi::CStr::from_ptr(gearman_result_value(p)).to_bytes(),
                b"42x"
            );
            let st = gearman_result_string(p);
            assert_eq!(st.size, 3);
            gearman_result_store_integer(p, -7);
            assert_eq!(gearman_result_integer(p), -7);
            assert_eq!(gearman_result_size(p), 0);
            assert!(gearman_result_value(p).is_null());
            assert!(gearman_result_boolean(p));
            assert!(gearman_result_string(p).c_str.is_null());
        }
    }

    #[test]
    fn append_accumulates_and_boolean_store() {
        let mut r = gearman_result_st::new();
        r.append(b"d1").unwrap();
        r.append(b"done").unwrap();
        assert_eq!(r.bytes(), Some(&b"d1done"[..]));
        r.store(b"").unwrap();
        // SAFETY: pointer to a live local.
        unsafe {
            assert!(!gearman_result_boolean(&r));
            assert!(!gearman_result_is_null(&r));
        }
        r.store_boolean(true);
        // SAFETY: pointer to a live local.
        unsafe { assert_eq!(gearman_result_integer(&r), 1) };
    }

    #[test]
    fn null_self() {
        // SAFETY: NULL is the case under test.
        unsafe {
            let n = std::ptr::null_mut();
            assert_eq!(gearman_result_integer(n), 0);
            assert!(!gearman_result_boolean(n));
            assert!(gearman_result_is_null(n));
            assert_eq!(
                gearman_result_store_value(n, std::ptr::null(), 0),
                gearman_return_t::GEARMAN_INVALID_ARGUMENT
            );
            gearman_result_store_integer(n, 1);
        }
    }

    #[test]
    fn atoll_semantics() {
        assert_eq!(atoll(b"  -12ab\0"), -12);
        assert_eq!(atoll(b"+5\0"), 5);
        assert_eq!(atoll(b"x\0"), 0);
        assert_eq!(atoll(b"\0"), 0);
    }
}
