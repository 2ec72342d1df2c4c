//! Library-wide strings of upstream util.h: `gearman_version`, `gearman_bugreport`,
//! `gearman_verbose_name`.

use std::os::raw::c_char;

use super::boundary::entry;
use super::enums::RawVerbose;

/// What `gearman_version()` answers: the Debian package version of the library replaced (docs/libgearman-quirks.md Q11;
/// the header macro `LIBGEARMAN_VERSION_STRING` stays "1.1.20").
pub const VERSION: &[u8] = b"1.1.20+ds\0";

/// What `gearman_bugreport()` answers in 1.1.20.
pub const BUGREPORT: &[u8] = b"https://github.com/gearman/gearmand/issues\0";

/// `gearman_verbose_name` texts for 0..=5; anything else is "UNKNOWN".
const VERBOSE_NAMES: [&[u8]; 6] = [
    b"NEVER\0", b"FATAL\0", b"ERROR\0", b"INFO\0", b"DEBUG\0", b"CRAZY\0",
];

/// `const char *gearman_version(void);` → `"1.1.20+ds"` (static).
///
/// # Safety
///
/// Always safe; the string is static.
#[no_mangle]
pub unsafe extern "C" fn gearman_version() -> *const c_char {
    entry!(VERSION.as_ptr().cast(), { VERSION.as_ptr().cast() })
}

/// `const char *gearman_bugreport(void);` → the upstream issue tracker URL (static).
///
/// # Safety
///
/// Always safe; the string is static.
#[no_mangle]
pub unsafe extern "C" fn gearman_bugreport() -> *const c_char {
    entry!(BUGREPORT.as_ptr().cast(), { BUGREPORT.as_ptr().cast() })
}

/// The name of a log level, NUL-terminated.
pub fn verbose_name_bytes(verbose: RawVerbose) -> &'static [u8] {
    usize::try_from(verbose.0)
        .ok()
        .and_then(|i| VERBOSE_NAMES.get(i))
        .copied()
        .unwrap_or(b"UNKNOWN\0")
}

/// `const char *gearman_verbose_name(gearman_verbose_t verbose);`: "NEVER" .. "CRAZY" for 0..=5,
/// "UNKNOWN" for anything else (static). 1.1.20 answered NULL for `(gearman_verbose_t)-1`; this
/// library answers "UNKNOWN" for every out-of-range value (never NULL).
///
/// # Safety
///
/// Always safe: any integer is accepted.
#[no_mangle]
pub unsafe extern "C" fn gearman_verbose_name(verbose: RawVerbose) -> *const c_char {
    entry!(c"UNKNOWN".as_ptr(), {
        verbose_name_bytes(verbose).as_ptr().cast()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_names() {
        assert_eq!(verbose_name_bytes(RawVerbose(0)), b"NEVER\0");
        assert_eq!(verbose_name_bytes(RawVerbose(5)), b"CRAZY\0");
        assert_eq!(verbose_name_bytes(RawVerbose(6)), b"UNKNOWN\0");
        assert_eq!(verbose_name_bytes(RawVerbose(u32::MAX)), b"UNKNOWN\0");
    }
}
