//! The C ABI of `libgearman.so.8` (drop-in for libgearman 1.1.20): one module per C type.
//!
//! Everything here is FFI: types with upstream's exact layout (`#[repr(C)]`) and `#[no_mangle]`
//! functions. The header `include/libgearman-1.0/gearman.h` is generated from these modules by
//! cbindgen (see build.rs and cbindgen.toml). C names are kept as upstream spells them.
//!
//! Conventions (see [`boundary`]): enums are received as raw integers, never as Rust enums; a NULL
//! object or a NULL `_impl` is an invalid object; no panic unwinds into C; memory given to C comes
//! from libc or the object's allocator.
#![allow(non_camel_case_types, non_upper_case_globals)]

pub mod actions;
pub mod aggregator;
pub mod allocator;
pub mod argument;
pub mod boundary;
pub mod callbacks;
pub mod client;
pub mod client_run;
pub mod client_submit;
pub mod enums;
pub mod error;
pub mod execute;
pub mod function;
pub mod job;
pub mod kill;
pub mod limits;
pub mod parse;
pub mod reducer;
pub mod result;
pub mod return_code;
pub mod status;
pub mod string;
pub mod task;
pub mod task_attr;
pub mod util;
pub mod worker;
pub mod worker_functions;

#[cfg(test)]
mod panic_guard_tests;
