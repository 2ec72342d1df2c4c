//! Helpers of the C ABI tests (tests/capi_*.rs): compile the C programs of tests/c with the system C
//! compiler against our headers or Debian's, and run them against our `libgearman.so.8` or Debian's.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's main header (libgearman-dev).
pub const DEBIAN_HEADER: &str = "/usr/include/libgearman-1.0/gearman.h";
/// Debian's link-time library name (libgearman-dev).
pub const DEBIAN_DEV_LINK: &str = "/usr/lib/x86_64-linux-gnu/libgearman.so";
/// Debian's library (libgearman8).
pub const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/libgearman.so.8";

/// The package root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Our include directory.
pub fn our_include() -> PathBuf {
    root().join("include")
}

/// A source file of tests/c.
pub fn c_source(name: &str) -> PathBuf {
    root().join("tests/c").join(name)
}

/// A fresh scratch directory for one test, removed by [`Scratch::drop`].
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("gearman-capi-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Our cdylib as built by cargo for this test run (`target/<profile>/libgearman.so`).
pub fn our_cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test binary>
    let deps = exe.parent().expect("deps dir");
    for dir in [deps, deps.parent().expect("profile dir")] {
        let candidate = dir.join("libgearman.so");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!(
        "libgearman.so (the cdylib) was not found next to {}; run `cargo build` first",
        exe.display()
    );
}

/// A directory holding our library as `libgearman.so.8` (for LD_LIBRARY_PATH) and `libgearman.so`
/// (for `-lgearman`), both symlinks to the cdylib.
pub fn our_lib_dir(scratch: &Scratch) -> PathBuf {
    let dir = scratch.path("ourlib");
    std::fs::create_dir_all(&dir).expect("create lib dir");
    let lib = our_cdylib();
    for name in ["libgearman.so.8", "libgearman.so"] {
        let link = dir.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&lib, &link).expect("symlink our library");
    }
    dir
}

/// The C compiler (`$CC` or `cc`).
pub fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// The C++ compiler (`$CXX` or `c++`).
pub fn cxx() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".to_string())
}

/// Runs a compiler command line; panics with its diagnostics on failure.
pub fn compile(compiler: &str, args: &[&str]) {
    let out = Command::new(compiler)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles one C program of tests/c. `include` None = the system headers (Debian's); `lib_dir`
/// None = no library, Some(dir) = `-L dir -lgearman`.
pub fn build_c(
    source: &str,
    std: &str,
    include: Option<&Path>,
    lib_dir: Option<&Path>,
    out: &Path,
) {
    let src = c_source(source);
    let mut args: Vec<String> = vec![
        format!("-std={std}"),
        "-Wall".into(),
        "-Wextra".into(),
        "-Werror".into(),
    ];
    if let Some(inc) = include {
        args.push(format!("-I{}", inc.display()));
    }
    args.push("-o".into());
    args.push(out.display().to_string());
    args.push(src.display().to_string());
    if let Some(dir) = lib_dir {
        args.push(format!("-L{}", dir.display()));
        args.push("-lgearman".into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    compile(&cc(), &refs);
}

/// The C sources of the project that are programs using the public API: `c-examples/*.c`,
/// `tests/cprog/*.c` and `tests/c/*.c`, sorted.
pub fn project_c_programs() -> Vec<PathBuf> {
    let mut sources = Vec::new();
    for dir in ["c-examples", "tests/cprog", "tests/c"] {
        let dir = root().join(dir);
        for entry in
            std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        {
            let path = entry.expect("dir entry").path();
            if path.extension().is_some_and(|e| e == "c") {
                sources.push(path);
            }
        }
    }
    sources.sort();
    sources
}

/// Runs a program with `LD_LIBRARY_PATH` set to `lib_dir` (or unset), returning stdout; panics on
/// a non-zero exit.
pub fn run(program: &Path, args: &[&str], lib_dir: Option<&Path>) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args).env_remove("LD_LIBRARY_PATH");
    if let Some(dir) = lib_dir {
        cmd.env("LD_LIBRARY_PATH", dir);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} exited with {}:\n{}",
        program.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Asserts two program outputs are equal, reporting the first differing line.
pub fn assert_same_output(expected_from: &str, expected: &str, actual_from: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i).copied(), a.get(i).copied());
        if x != y {
            panic!(
                "outputs differ at line {}:\n  {expected_from}: {x:?}\n  {actual_from}: {y:?}",
                i + 1
            );
        }
    }
    unreachable!("outputs differ but no line differs");
}

/// The names of the 172 functions libgearman.so.8 (1.1.20) exports.
pub fn upstream_symbols() -> Vec<String> {
    std::fs::read_to_string(c_source("libgearman-1.1.20.symbols"))
        .expect("read tests/c/libgearman-1.1.20.symbols")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Functions we export beyond 1.1.20's 172, each declared by upstream's headers and exported by a
/// later gearmand (docs/compat-symbols.md lists them).
pub const ADDED_EXPORTS: &[&str] = &[
    // Declared in 1.1.20's worker.h, implemented and exported by gearmand 2.0.
    "gearman_worker_set_ssl",
];

/// `nm -D --defined-only` of a shared library: (type letter, name) pairs.
pub fn exported_symbols(lib: &Path) -> Vec<(String, String)> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("run nm (binutils)");
    assert!(
        out.status.success(),
        "nm failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().rev();
            let name = f.next()?;
            let kind = f.next()?;
            Some((kind.to_string(), name.to_string()))
        })
        .collect()
}
