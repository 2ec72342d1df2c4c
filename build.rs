fn main() {
    // The cdylib carries the SONAME of the library it replaces.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgearman.so.8");
    println!("cargo:rerun-if-changed=build.rs");
}
