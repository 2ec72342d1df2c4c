//! Build script: the SONAME of the library replaced, and the C header generated from src/capi.
//!
//! The header is always generated into `$OUT_DIR/gearman.h` (its path is exported to the crate's
//! tests as `GEARMAN_GENERATED_HEADER`; tests/capi_header.rs fails when the committed copy in
//! include/libgearman-1.0/ differs). `GEARMAN_REGENERATE_HEADERS=1 cargo build` also writes the
//! committed copy. See cbindgen.toml for how the header is assembled.

use std::path::{Path, PathBuf};

fn main() {
    // The cdylib carries the SONAME of the library it replaces.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgearman.so.8");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=src/capi");
    println!("cargo:rerun-if-env-changed=GEARMAN_REGENERATE_HEADERS");

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let header = match generate_header(&root) {
        Ok(h) => h,
        Err(e) => panic!("generating the C header failed: {e}"),
    };
    let generated = out.join("gearman.h");
    std::fs::write(&generated, &header).expect("write $OUT_DIR/gearman.h");
    println!(
        "cargo:rustc-env=GEARMAN_GENERATED_HEADER={}",
        generated.display()
    );

    let committed = root.join("include/libgearman-1.0/gearman.h");
    let current = std::fs::read_to_string(&committed).unwrap_or_default();
    if current != header {
        if std::env::var_os("GEARMAN_REGENERATE_HEADERS").is_some_and(|v| v == "1") {
            std::fs::write(&committed, &header).expect("write include/libgearman-1.0/gearman.h");
        } else {
            println!(
                "cargo:warning=include/libgearman-1.0/gearman.h is stale; \
                 run `GEARMAN_REGENERATE_HEADERS=1 cargo build`"
            );
        }
    }
}

/// Builds the whole header text: prologue, pass 1, typedefs, pass 2, epilogue.
fn generate_header(root: &Path) -> Result<String, String> {
    let fragment = |name: &str| -> Result<String, String> {
        let path = root.join("src/capi/header").join(name);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let base = cbindgen::Config::from_file(root.join("cbindgen.toml"))
        .map_err(|e| format!("cbindgen.toml: {e}"))?;

    let mut enums = base.clone();
    enums.header = Some(fragment("prologue.h")?);
    enums.trailer = Some(fragment("typedefs.h")?);
    enums.style = cbindgen::Style::Both;
    enums.export.item_types = vec![cbindgen::ItemType::Enums, cbindgen::ItemType::Constants];

    let mut rest = base;
    rest.trailer = Some(fragment("epilogue.h")?);
    rest.style = cbindgen::Style::Tag;
    rest.export.item_types = vec![
        cbindgen::ItemType::Structs,
        cbindgen::ItemType::Unions,
        cbindgen::ItemType::Functions,
    ];

    let mut text = String::new();
    for config in [enums, rest] {
        let bindings = cbindgen::Builder::new()
            .with_config(config)
            .with_src(root.join("src/capi/mod.rs"))
            .generate()
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        bindings.write(&mut buf);
        text.push_str(&String::from_utf8(buf).map_err(|e| e.to_string())?);
    }
    Ok(text)
}
