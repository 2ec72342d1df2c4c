//! Layout of the C ABI: the same C program (tests/c/layout.c) compiled against Debian's
//! libgearman-1.0 headers and against ours must print the same sizes, alignments, offsets, enum
//! values and constants; and the Rust definitions must have the sizes the C compiler sees.

mod capi_support;
mod common;

use std::collections::HashMap;
use std::mem::{align_of, size_of, MaybeUninit};

use capi_support::*;
use gearman::capi;

fn layout_with(include: Option<&std::path::Path>, scratch: &Scratch, name: &str) -> String {
    let bin = scratch.path(name);
    build_c("layout.c", "c11", include, None, &bin);
    run(&bin, &[], None)
}

#[test]
fn layout_matches_debian_headers() {
    let Some(_) = common::reference_tool(DEBIAN_HEADER) else {
        return;
    };
    let scratch = Scratch::new("layout-debian");
    let debian = layout_with(None, &scratch, "layout-debian");
    let ours = layout_with(Some(&our_include()), &scratch, "layout-ours");
    assert!(
        debian.lines().count() > 400,
        "layout program printed too little"
    );
    assert_same_output("Debian headers", &debian, "our headers", &ours);
}

fn our_layout() -> HashMap<String, u64> {
    let scratch = Scratch::new("layout-rust");
    layout_with(Some(&our_include()), &scratch, "layout-ours")
        .lines()
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

/// Offset of a field path inside `T`, computed without creating a reference to uninit memory.
macro_rules! offset {
    ($t:ty, $($f:tt)+) => {{
        let u = MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: only the address of a field is taken; nothing is read.
        let field = unsafe { std::ptr::addr_of!((*base).$($f)+) };
        field as usize - base as usize
    }};
}

#[test]
fn rust_definitions_match_the_c_layout() {
    let c = our_layout();
    let check = |key: &str, rust: usize| {
        let want = *c
            .get(key)
            .unwrap_or_else(|| panic!("layout.c prints no {key:?}"));
        assert_eq!(rust as u64, want, "{key}: Rust {rust}, C {want}");
    };
    macro_rules! size {
        ($c:literal, $t:ty) => {
            check(concat!("sizeof(", $c, ")"), size_of::<$t>());
            check(concat!("alignof(", $c, ")"), align_of::<$t>());
        };
    }
    macro_rules! field {
        ($c:literal, $t:ty, $($f:tt)+) => {
            check(concat!("offsetof(", $c, ")"), offset!($t, $($f)+));
        };
    }
    use capi::*;
    size!("gearman_client_st", shells::gearman_client_st);
    field!(
        "gearman_client_st,options.is_initialized",
        shells::gearman_client_st,
        options.is_initialized
    );
    field!("gearman_client_st,_impl", shells::gearman_client_st, _impl);
    size!("gearman_worker_st", shells::gearman_worker_st);
    field!(
        "gearman_worker_st,options.is_initialized",
        shells::gearman_worker_st,
        options.is_initialized
    );
    field!("gearman_worker_st,_impl", shells::gearman_worker_st, _impl);
    size!("gearman_job_st", shells::gearman_job_st);
    field!("gearman_job_st,_impl", shells::gearman_job_st, _impl);
    size!("gearman_task_st", shells::gearman_task_st);
    field!("gearman_task_st,_impl", shells::gearman_task_st, _impl);
    size!("gearman_string_t", string::gearman_string_t);
    field!("gearman_string_t,size", string::gearman_string_t, size);
    size!("gearman_argument_t", argument::gearman_argument_t);
    field!(
        "gearman_argument_t,value",
        argument::gearman_argument_t,
        value
    );
    size!("gearman_task_attr_t", task_attr::gearman_task_attr_t);
    field!(
        "gearman_task_attr_t,priority",
        task_attr::gearman_task_attr_t,
        priority
    );
    field!(
        "gearman_task_attr_t,options.epoch.value",
        task_attr::gearman_task_attr_t,
        options.epoch.value
    );
    size!("gearman_status_t", status::gearman_status_t);
    field!(
        "gearman_status_t,status_",
        status::gearman_status_t,
        status_
    );
    size!("struct gearman_status_v1_t", status::gearman_status_v1_t);
    field!(
        "struct gearman_status_v1_t,is_known",
        status::gearman_status_v1_t,
        is_known
    );
    field!(
        "struct gearman_status_v1_t,is_running",
        status::gearman_status_v1_t,
        is_running
    );
    field!(
        "struct gearman_status_v1_t,numerator",
        status::gearman_status_v1_t,
        numerator
    );
    field!(
        "struct gearman_status_v1_t,denominator",
        status::gearman_status_v1_t,
        denominator
    );
    field!(
        "struct gearman_status_v1_t,client_count",
        status::gearman_status_v1_t,
        client_count
    );
    size!("gearman_allocator_t", allocator::gearman_allocator_t);
    field!(
        "gearman_allocator_t,free",
        allocator::gearman_allocator_t,
        free
    );
    field!(
        "gearman_allocator_t,malloc",
        allocator::gearman_allocator_t,
        malloc
    );
    field!(
        "gearman_allocator_t,realloc",
        allocator::gearman_allocator_t,
        realloc
    );
    field!(
        "gearman_allocator_t,context",
        allocator::gearman_allocator_t,
        context
    );
    size!("gearman_function_t", function::gearman_function_t);
    field!(
        "gearman_function_t,callback",
        function::gearman_function_t,
        callback
    );
    field!(
        "gearman_function_t,callback.partitioner.aggregator",
        function::gearman_function_t,
        callback.partitioner.aggregator
    );
    size!(
        "struct gearman_function_partition_v1_t",
        function::gearman_function_partition_v1_t
    );
    size!("struct gearman_actions_t", actions::gearman_actions_t);
    field!(
        "struct gearman_actions_t,status_fn",
        actions::gearman_actions_t,
        status_fn
    );
    field!(
        "struct gearman_actions_t,fail_fn",
        actions::gearman_actions_t,
        fail_fn
    );
    size!("gearman_id_t", kill::gearman_id_t);
    field!("gearman_id_t,write_fd", kill::gearman_id_t, write_fd);
    // Enums travel as the raw `unsigned int` carriers.
    check(
        "sizeof(enum gearman_return_t)",
        size_of::<return_code::GearmanReturn>(),
    );
    check("sizeof(gearman_verbose_t)", size_of::<enums::RawVerbose>());
    check(
        "sizeof(enum gearman_signal_t)",
        size_of::<enums::RawSignal>(),
    );
    check(
        "sizeof(enum gearman_job_priority_t)",
        size_of::<enums::RawPriority>(),
    );
    check(
        "value(GEARMAN_MAX_RETURN)",
        return_code::gearman_return_t::GEARMAN_MAX_RETURN as usize,
    );
    check(
        "value(GEARMAN_DEFAULT_TCP_PORT)",
        usize::from(limits::GEARMAN_DEFAULT_TCP_PORT),
    );
}
