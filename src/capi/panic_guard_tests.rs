//! A panic inside the C layer never unwinds into C: every entry point runs its body through
//! `boundary::guard`, directly or through `with_client` / `with_worker`, which turn a panic into
//! the entry point's documented error value. These tests inject a panic into those wrappers on
//! live objects and check the value C gets back and that the object is still usable afterwards.

use std::ptr::null_mut;

use super::client::{
    gearman_client_create, gearman_client_free, gearman_client_timeout, with_client,
};
use super::return_code::{gearman_return_t, GearmanReturn};
use super::worker::{
    gearman_worker_create, gearman_worker_free, gearman_worker_timeout, with_worker,
};

const INVALID: GearmanReturn = GearmanReturn(gearman_return_t::GEARMAN_INVALID_ARGUMENT as u32);

#[test]
fn a_panic_in_a_client_entry_point_becomes_its_error_value() {
    // SAFETY: a heap client created, used and freed here.
    unsafe {
        let c = gearman_client_create(null_mut());
        assert!(!c.is_null());
        let rc = with_client(c, INVALID, |_| -> GearmanReturn {
            panic!("injected panic")
        });
        assert_eq!(rc, INVALID);
        let p = with_client(c, std::ptr::null::<u8>(), |_| panic!("injected panic"));
        assert!(p.is_null());
        // The client is intact and answers normally.
        assert_eq!(gearman_client_timeout(c), -1);
        assert_eq!(
            with_client(c, INVALID, |_| GearmanReturn(0)),
            GearmanReturn(0)
        );
        gearman_client_free(c);
    }
}

#[test]
fn a_panic_in_a_worker_entry_point_becomes_its_error_value() {
    // SAFETY: a heap worker created, used and freed here.
    unsafe {
        let w = gearman_worker_create(null_mut());
        assert!(!w.is_null());
        let rc = with_worker(w, INVALID, |_| -> GearmanReturn {
            panic!("injected panic")
        });
        assert_eq!(rc, INVALID);
        assert!(!with_worker(w, false, |_| panic!("injected panic")));
        assert_eq!(gearman_worker_timeout(w), -1);
        gearman_worker_free(w);
    }
}

/// An `extern "C"` function built like the library's entry points: the panic stops at the guard,
/// so the call returns (a panic escaping an `extern "C"` fn would abort the process instead).
#[test]
fn an_extern_c_function_with_a_panicking_body_returns() {
    extern "C" fn entry(fail: bool) -> i32 {
        super::boundary::guard(-1, || {
            assert!(!fail, "injected panic");
            7
        })
    }
    assert_eq!(entry(false), 7);
    assert_eq!(entry(true), -1);
}
