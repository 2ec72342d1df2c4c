//! The C ABI of `libgearman.so.8` (drop-in for libgearman 1.1.20).
//!
//! Everything here is FFI: types with upstream's exact layout (`#[repr(C)]`) and `#[no_mangle]`
//! functions. The header `include/libgearman-1.0/gearman.h` is generated from these modules by
//! cbindgen (see build.rs and cbindgen.toml). C names are kept as upstream spells them.
//!
//! The modules come in three layers, and imports only go downwards:
//!
//! * C types and their by-value helpers: [`return_code`], [`enums`], [`limits`], [`string`],
//!   [`shells`], [`callbacks`], [`actions`], [`result`], [`aggregator`], [`status`],
//!   [`function`], [`argument`], [`task_attr`], [`kill`], [`parse`], [`util`]; the conventions
//!   of the boundary ([`boundary`]), the error presentation ([`error`]) and the workload
//!   allocator ([`allocator`]).
//! * The objects behind the shells and the logic several exports share: [`client_impl`],
//!   [`task_impl`], [`run_loop`], [`submit`], [`reducer`], [`worker_impl`], [`work`],
//!   [`pause`].
//! * The exports of the client ([`client`], [`client_run`], [`client_submit`], [`task`],
//!   [`execute`]) and of the worker ([`worker`], [`worker_functions`], [`job`]): leaves that
//!   nothing else imports. Every export has the same form (see [`boundary`]).
#![allow(non_camel_case_types, non_upper_case_globals)]

pub mod actions;
pub mod aggregator;
pub mod allocator;
pub mod argument;
pub mod boundary;
pub mod callbacks;
pub mod client;
pub mod client_impl;
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
pub mod pause;
pub mod reducer;
pub mod result;
pub mod return_code;
pub mod run_loop;
pub mod shells;
pub mod status;
pub mod string;
pub mod submit;
pub mod task;
pub mod task_attr;
pub mod task_impl;
pub mod util;
pub mod work;
pub mod worker;
pub mod worker_functions;
pub mod worker_impl;

#[cfg(test)]
mod panic_guard_tests;
