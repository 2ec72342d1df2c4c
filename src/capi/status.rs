//! `gearman_status_t` (upstream interface/status.h) and its five by-value accessors (status.h).

use super::boundary::entry;
use super::enums::RawStatusVersion;
use super::return_code::GearmanReturn;

/// `struct gearman_status_v1_t` (20 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct gearman_status_v1_t {
    pub result_rc: GearmanReturn,
    pub is_known: bool,
    pub is_running: bool,
    pub numerator: u32,
    pub denominator: u32,
    pub client_count: u32,
}

/// The anonymous `status_` union of `gearman_status_t`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union gearman_status_u {
    pub mesg_: gearman_status_v1_t,
    pub raw_: [u8; 20],
}

/// `struct gearman_status_t { enum gearman_status_version_t version_; union {...} status_; }` (24 bytes,
/// align 4). Passed to the accessors by value.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct gearman_status_t {
    pub version_: RawStatusVersion,
    pub status_: gearman_status_u,
}

impl gearman_status_t {
    /// The V1 result code (no version check, as 1.1.20).
    pub fn result_rc(&self) -> GearmanReturn {
        // SAFETY: every bit pattern is a valid `GearmanReturn` (a u32); reading one union field.
        unsafe { self.status_.mesg_.result_rc }
    }

    /// `is_known`, read as a byte so that a C caller's non-0/1 value is not undefined behaviour.
    pub fn is_known(&self) -> bool {
        // SAFETY: reads the single byte C wrote for the bool, as a u8 (any value valid).
        unsafe {
            std::ptr::addr_of!(self.status_.mesg_.is_known)
                .cast::<u8>()
                .read()
                != 0
        }
    }

    /// `is_running`, read as a byte (see [`Self::is_known`]).
    pub fn is_running(&self) -> bool {
        // SAFETY: as in `is_known`.
        unsafe {
            std::ptr::addr_of!(self.status_.mesg_.is_running)
                .cast::<u8>()
                .read()
                != 0
        }
    }

    /// `numerator`.
    pub fn numerator(&self) -> u32 {
        // SAFETY: any bit pattern is a valid u32.
        unsafe { self.status_.mesg_.numerator }
    }

    /// `denominator`.
    pub fn denominator(&self) -> u32 {
        // SAFETY: any bit pattern is a valid u32.
        unsafe { self.status_.mesg_.denominator }
    }
}

/// `gearman_return_t gearman_status_return(const struct gearman_status_t arg);` → `status_.mesg_.result_rc`.
///
/// # Safety
///
/// Always safe: `arg` is a by-value copy; its fields are read as plain integers.
#[no_mangle]
pub unsafe extern "C" fn gearman_status_return(arg: gearman_status_t) -> GearmanReturn {
    entry!(arg.result_rc(), { arg.result_rc() })
}

/// `bool gearman_status_is_known(const struct gearman_status_t arg);`
///
/// # Safety
///
/// As [`gearman_status_return`].
#[no_mangle]
pub unsafe extern "C" fn gearman_status_is_known(arg: gearman_status_t) -> bool {
    entry!(false, { arg.is_known() })
}

/// `bool gearman_status_is_running(const struct gearman_status_t arg);`
///
/// # Safety
///
/// As [`gearman_status_return`].
#[no_mangle]
pub unsafe extern "C" fn gearman_status_is_running(arg: gearman_status_t) -> bool {
    entry!(false, { arg.is_running() })
}

/// `uint32_t gearman_status_numerator(const struct gearman_status_t arg);`
///
/// # Safety
///
/// As [`gearman_status_return`].
#[no_mangle]
pub unsafe extern "C" fn gearman_status_numerator(arg: gearman_status_t) -> u32 {
    entry!(0, { arg.numerator() })
}

/// `uint32_t gearman_status_denominator(const struct gearman_status_t arg);`
///
/// # Safety
///
/// As [`gearman_status_return`].
#[no_mangle]
pub unsafe extern "C" fn gearman_status_denominator(arg: gearman_status_t) -> u32 {
    entry!(0, { arg.denominator() })
}
