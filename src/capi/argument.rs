//! `gearman_argument_t` (upstream argument.h) and `gearman_argument_make`.

use std::os::raw::c_char;

use super::boundary::entry;
use super::string::gearman_string_t;

/// `struct gearman_argument_t { gearman_string_t name; gearman_string_t value; }` (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_argument_t {
    pub name: gearman_string_t,
    pub value: gearman_string_t,
}

/// An argument without name or value.
const NO_ARGUMENT: gearman_argument_t = gearman_argument_t {
    name: gearman_string_t::null(),
    value: gearman_string_t::null(),
};

/// `gearman_argument_t gearman_argument_make(const char *name, const size_t name_length, const char *value, const size_t value_size);`
///
/// As 1.1.20: the name is ignored (the result's name is `{NULL, 0}`), the value is referenced, not
/// copied.
///
/// # Safety
///
/// Nothing is dereferenced; the returned struct borrows `value`, which must outlive its uses.
#[no_mangle]
pub unsafe extern "C" fn gearman_argument_make(
    name: *const c_char,
    name_length: usize,
    value: *const c_char,
    value_size: usize,
) -> gearman_argument_t {
    entry!(NO_ARGUMENT, {
        let _ = (name, name_length);
        gearman_argument_t {
            name: gearman_string_t::null(),
            value: gearman_string_t {
                c_str: value,
                size: value_size,
            },
        }
    })
}
