#![no_main]
//! cargo-fuzz target: see `gearman_fuzz::check_http`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| gearman_fuzz::check_http(data));
