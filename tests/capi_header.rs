//! The generated header: committed copy up to date, compiles as C99 and C++11 with warnings as
//! errors, covers every upstream header name, and declares only functions the library exports.

mod capi_support;
mod common;

use std::path::{Path, PathBuf};

use capi_support::*;

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = std::fs::read_to_string(env!("GEARMAN_GENERATED_HEADER"))
        .expect("read the header build.rs generated");
    let committed = std::fs::read_to_string(our_include().join("libgearman-1.0/gearman.h"))
        .expect("read include/libgearman-1.0/gearman.h");
    assert!(
        generated == committed,
        "include/libgearman-1.0/gearman.h is stale: run `GEARMAN_REGENERATE_HEADERS=1 cargo build` \
         and commit it"
    );
}

fn headers_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read include dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative_names(dir: &Path) -> Vec<String> {
    headers_under(dir)
        .iter()
        .map(|p| {
            p.strip_prefix(dir)
                .expect("under dir")
                .display()
                .to_string()
        })
        .collect()
}

#[test]
fn every_header_compiles_as_c99_and_cxx11_without_warnings() {
    let scratch = Scratch::new("header-compile");
    let include = our_include();
    let mut c_tu = String::new();
    let mut cxx_tu = String::new();
    for name in relative_names(&include) {
        let line = format!("#include <{name}>\n");
        if !name.ends_with(".hpp") {
            c_tu.push_str(&line);
        }
        cxx_tu.push_str(&line);
    }
    c_tu.push_str("int main(void) { return gearman_success(GEARMAN_SUCCESS) ? 0 : 1; }\n");
    cxx_tu.push_str("#include <sstream>\nint main() { std::ostringstream o; o << GEARMAN_TIMEOUT; return o.str() == \"GEARMAN_TIMEOUT\" ? 0 : 1; }\n");
    let (c_file, cxx_file) = (scratch.path("all.c"), scratch.path("all.cc"));
    std::fs::write(&c_file, c_tu).expect("write all.c");
    std::fs::write(&cxx_file, cxx_tu).expect("write all.cc");
    let inc = format!("-I{}", include.display());
    let strict = ["-Wall", "-Wextra", "-Werror", "-pedantic", "-fsyntax-only"];
    for std in ["-std=c99", "-std=c11"] {
        let mut args = vec![std, inc.as_str()];
        args.extend(strict);
        args.push(c_file.to_str().expect("utf-8 path"));
        compile(&cc(), &args);
        let use_c = c_source("header_use.c");
        let mut args = vec![std, inc.as_str()];
        args.extend(strict);
        args.push(use_c.to_str().expect("utf-8 path"));
        compile(&cc(), &args);
    }
    for std in ["-std=c++11", "-std=c++17"] {
        let mut args = vec![std, inc.as_str()];
        args.extend(strict);
        args.push(cxx_file.to_str().expect("utf-8 path"));
        compile(&cxx(), &args);
        let use_c = c_source("header_use.c");
        let mut args = vec![std, inc.as_str(), "-x", "c++"];
        args.extend(strict);
        args.push(use_c.to_str().expect("utf-8 path"));
        compile(&cxx(), &args);
    }
}

#[test]
fn every_upstream_header_name_exists() {
    let Some(debian) = common::reference_tool(DEBIAN_HEADER) else {
        return;
    };
    let upstream = relative_names(debian.parent().expect("libgearman-1.0 dir"));
    let ours = relative_names(&our_include().join("libgearman-1.0"));
    let missing: Vec<&String> = upstream.iter().filter(|n| !ours.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "headers missing from include/libgearman-1.0: {missing:?}"
    );
    assert!(our_include().join("libgearman/gearman.h").exists());
}

/// The header's text with `//` and `/* */` comments removed (line structure kept).
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let line_comment = rest.find("//");
        let block_comment = rest.find("/*");
        match (line_comment, block_comment) {
            (Some(l), b) if b.is_none_or(|b| l < b) => {
                out.push_str(&rest[..l]);
                rest = &rest[l..];
                rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                let end = rest[b..].find("*/").map_or(rest.len(), |e| b + e + 2);
                out.extend(rest[b..end].chars().filter(|&c| c == '\n'));
                rest = &rest[end..];
            }
            _ => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out
}

/// Names of the functions the main header declares: the generated declarations and the
/// hand-written ones of the epilogue (a prototype starts in column 0; `static inline` helpers,
/// typedefs and macros are not declarations of library functions).
fn declared_functions() -> Vec<String> {
    let header = std::fs::read_to_string(our_include().join("libgearman-1.0/gearman.h"))
        .expect("read header");
    let mut names = Vec::new();
    for code in without_comments(&header).lines() {
        if code.starts_with([' ', '#', '}'])
            || code.starts_with("static ")
            || code.starts_with("typedef ")
        {
            continue;
        }
        if let Some(open) = code.find('(') {
            let name = code[..open]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if name.starts_with("gearman_") {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// The 171 functions libgearman 1.1.20 exports with C names (all but the C++-mangled
/// `_Z21gearman_actions_pausev`, which no upstream public header declares).
fn upstream_c_functions() -> Vec<String> {
    let names: Vec<String> = upstream_symbols()
        .into_iter()
        .filter(|n| !n.starts_with("_Z"))
        .collect();
    assert_eq!(
        names.len(),
        171,
        "tests/c/libgearman-1.1.20.symbols changed"
    );
    names
}

/// A C program that needs each function's declaration: undeclared identifiers are errors.
fn address_of_each(names: &[String]) -> String {
    let mut tu = String::from(
        "#include <libgearman-1.0/gearman.h>\n\
         typedef void (*any_fn)(void);\n\
         static const any_fn functions[] = {\n",
    );
    for name in names {
        tu.push_str(&format!("  (any_fn){name},\n"));
    }
    tu.push_str("};\nint main(void) { return functions[0] != 0 ? 0 : 1; }\n");
    tu
}

#[test]
fn every_upstream_c_function_is_declared() {
    let upstream = upstream_c_functions();
    let declared = declared_functions();
    let missing: Vec<&String> = upstream.iter().filter(|n| !declared.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "{} libgearman 1.1.20 functions are not declared in include/libgearman-1.0/gearman.h \
         (macro-generated exports are invisible to cbindgen): {missing:?}",
        missing.len()
    );
    // The same seen by the compilers, in C and C++ (catches a declaration the parse above
    // misreads, or one hidden by the preprocessor).
    let scratch = Scratch::new("header-declares-all");
    let file = scratch.path("declares_all.c");
    std::fs::write(&file, address_of_each(&upstream)).expect("write declares_all.c");
    let inc = format!("-I{}", our_include().display());
    let path = file.to_str().expect("utf-8 path");
    let strict = ["-Wall", "-Wextra", "-Werror", "-fsyntax-only"];
    let mut c_args = vec!["-std=c99", inc.as_str()];
    c_args.extend(strict);
    c_args.push(path);
    compile(&cc(), &c_args);
    let mut cxx_args = vec!["-std=c++11", inc.as_str(), "-x", "c++"];
    cxx_args.extend(strict);
    cxx_args.push(path);
    compile(&cxx(), &cxx_args);
}

#[test]
fn every_declared_function_is_exported_with_an_upstream_name() {
    let declared = declared_functions();
    assert!(
        declared.len() >= 30,
        "parsed too few declarations: {declared:?}"
    );
    let exported: Vec<String> = exported_symbols(&our_cdylib())
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    let upstream = upstream_symbols();
    for name in &declared {
        assert!(
            exported.contains(name),
            "{name} is declared but not exported"
        );
        assert!(
            upstream.contains(name) || ADDED_EXPORTS.contains(&name.as_str()),
            "{name} is declared but is not a libgearman 1.1.20 export"
        );
    }
}

/// Upstream's prototypes (`GEARMAN_API <decl>;`) of the functions named in `wanted`, read from
/// Debian's headers, as `(name, declaration)`.
fn upstream_prototypes(dir: &Path, wanted: &[String]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for header in headers_under(dir) {
        let text = std::fs::read_to_string(&header).expect("read upstream header");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("GEARMAN_API") {
            rest = &rest[at + "GEARMAN_API".len()..];
            let Some(end) = rest.find(';') else { break };
            let decl = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
            let Some(open) = decl.find('(') else { continue };
            let name = decl[..open]
                .trim_end()
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")
                .to_string();
            if wanted.contains(&name) && !decl.contains('{') {
                found.push((name, decl));
            }
        }
    }
    found
}

#[test]
fn every_declaration_is_compatible_with_the_upstream_prototype() {
    let Some(debian) = common::reference_tool(DEBIAN_HEADER) else {
        return;
    };
    let declared = declared_functions();
    let prototypes = upstream_prototypes(debian.parent().expect("libgearman-1.0 dir"), &declared);
    let named: Vec<&String> = prototypes.iter().map(|(n, _)| n).collect();
    let unmatched: Vec<&String> = declared.iter().filter(|n| !named.contains(n)).collect();
    assert!(
        unmatched.is_empty(),
        "no upstream prototype found for {unmatched:?}"
    );
    // Redeclaring a function with an incompatible type is an error in C ("conflicting types").
    let mut tu = String::from("#include <libgearman-1.0/gearman.h>\n");
    for (_, decl) in &prototypes {
        tu.push_str(decl);
        tu.push_str(";\n");
    }
    tu.push_str("int main(void) { return 0; }\n");
    let scratch = Scratch::new("header-prototypes");
    let file = scratch.path("prototypes.c");
    std::fs::write(&file, tu).expect("write prototypes.c");
    let inc = format!("-I{}", our_include().display());
    compile(
        &cc(),
        &[
            "-std=c99",
            inc.as_str(),
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            file.to_str().expect("utf-8 path"),
        ],
    );
}

/// Every C program of the project (examples, differential programs, C ABI tests), which the
/// other tests build against Debian's headers, also builds against ours with warnings as errors
/// and links against our library: a function missing from our header, or declared with another
/// type, fails here.
#[test]
fn every_project_c_program_builds_against_our_headers_and_library() {
    let scratch = Scratch::new("header-programs");
    let lib = our_lib_dir(&scratch);
    let inc = format!("-I{}", our_include().display());
    let lib_arg = format!("-L{}", lib.display());
    let sources = project_c_programs();
    assert!(sources.len() >= 15, "too few C programs found: {sources:?}");
    let mut failures = Vec::new();
    for source in &sources {
        let out = scratch.path("program");
        // The flags of c-examples/Makefile and tests/cprog (which need _DEFAULT_SOURCE, pthreads).
        let result = std::process::Command::new(cc())
            .args([
                "-std=c99",
                "-D_DEFAULT_SOURCE",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pthread",
                inc.as_str(),
                "-o",
            ])
            .arg(&out)
            .arg(source)
            .args([lib_arg.as_str(), "-lgearman"])
            .output()
            .expect("run the C compiler");
        if !result.status.success() {
            failures.push(format!(
                "{}:\n{}",
                source.display(),
                String::from_utf8_lossy(&result.stderr)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} C programs do not build against include/ and our library:\n{}",
        failures.len(),
        sources.len(),
        failures.join("\n")
    );
}
