//! A panic inside the C layer never unwinds into C: every export runs its body through
//! `entry!`, which turns a panic into the export's documented error value. These tests inject a
//! panic into bodies of that form on live objects and check the value C gets back and that the
//! object is still usable afterwards.

use std::ptr::null_mut;

use super::boundary::{entry, handle};
use super::client::{gearman_client_create, gearman_client_free, gearman_client_timeout};
use super::client_impl::ClientRef;
use super::return_code::{gearman_return_t, GearmanReturn};
use super::shells::{gearman_client_st, gearman_worker_st};
use super::worker::{gearman_worker_create, gearman_worker_free, gearman_worker_timeout};
use super::worker_impl::WorkerRef;

const INVALID: GearmanReturn = GearmanReturn(gearman_return_t::GEARMAN_INVALID_ARGUMENT as u32);

/// A client export whose body panics after taking its handle when `fail` is set.
extern "C" fn client_entry(client: *mut gearman_client_st, fail: bool) -> GearmanReturn {
    entry!(INVALID, {
        let c: ClientRef = handle!(client);
        assert!(!fail, "injected panic");
        GearmanReturn(c.core.timeout() as u32)
    })
}

/// The same for a worker.
extern "C" fn worker_entry(worker: *mut gearman_worker_st, fail: bool) -> bool {
    entry!(false, {
        let w: WorkerRef = handle!(worker);
        assert!(!fail, "injected panic");
        w.core.timeout() == -1
    })
}

#[test]
fn a_panic_in_a_client_entry_point_becomes_its_error_value() {
    // SAFETY: a heap client created, used and freed here.
    unsafe {
        let c = gearman_client_create(null_mut());
        assert!(!c.is_null());
        assert_eq!(client_entry(c, true), INVALID);
        // The client is intact and answers normally.
        assert_eq!(gearman_client_timeout(c), -1);
        assert_eq!(client_entry(c, false), GearmanReturn(u32::MAX));
        assert_eq!(client_entry(null_mut(), false), INVALID);
        gearman_client_free(c);
    }
}

#[test]
fn a_panic_in_a_worker_entry_point_becomes_its_error_value() {
    // SAFETY: a heap worker created, used and freed here.
    unsafe {
        let w = gearman_worker_create(null_mut());
        assert!(!w.is_null());
        assert!(!worker_entry(w, true));
        assert!(worker_entry(w, false));
        assert_eq!(gearman_worker_timeout(w), -1);
        gearman_worker_free(w);
    }
}
