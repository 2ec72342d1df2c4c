//! `gearman_aggregator_st` (opaque upstream) and `gearman_aggegator_context` (upstream's misspelling,
//! kept: it is the exported name).

use std::ffi::c_void;

use super::boundary::{entry, handle, HasHandle, Plain};

/// The object handed to a `gearman_aggregator_fn` while a partitioned job's results are combined.
/// Opaque to C.
#[derive(Debug)]
pub struct gearman_aggregator_st {
    context: *mut c_void,
}

impl HasHandle for gearman_aggregator_st {
    type Handle = Plain<gearman_aggregator_st>;
}

impl gearman_aggregator_st {
    /// An aggregator carrying `context` (1.1.20 passes the internal reducer client's context: NULL).
    pub fn new(context: *mut c_void) -> Self {
        gearman_aggregator_st { context }
    }
}

/// `void *gearman_aggegator_context(gearman_aggregator_st *self);`: the stored context; NULL self → NULL.
///
/// # Safety
///
/// A non-NULL `self_` must point to an aggregator the library handed to an aggregator callback.
#[no_mangle]
pub unsafe extern "C" fn gearman_aggegator_context(
    self_: *mut gearman_aggregator_st,
) -> *mut c_void {
    entry!(std::ptr::null_mut(), { handle!(self_).context })
}
