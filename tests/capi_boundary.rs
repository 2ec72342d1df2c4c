//! The shape of the C boundary, checked on the source of `src/capi` (what the compiler cannot
//! check by itself):
//!
//! * every export (172, the symbols of Debian's libgearman 1.1.20) starts its body with
//!   `entry!(`, the one entry form (panic guard, error value, typed arguments);
//! * exports are leaves: no Rust code calls one, and the modules holding only exports are
//!   imported by no other module;
//! * the modules of `src/capi` import each other without cycles;
//! * each typed handle (`ClientRef`, `TaskRef`, `WorkerRef`, `JobRef`, `Plain`) is built in one
//!   place, its unsafe `Handle::from_c` (the object handles are all defined by one macro,
//!   `object_handle!`);
//! * C function pointers are converted in one place (`callbacks::callback`, tied to its marker
//!   type by the `CCallback` trait);
//! * no comment or document points at files a clone of this repository does not have.
//!
//! The source is read as text: comments are removed first (so a commented-out call does not
//! count) and each file's `#[cfg(test)] mod tests` is cut off (unit tests call exports).

mod capi_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `text` without `//` comments (line and doc comments). String literals containing `//` (a
/// URL) lose their tail, which none of the checks looks at.
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The non-test code of a file, comments removed.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    strip_comments(text)
}

/// The modules of `src/capi` (name → non-test code), without the test-only ones.
fn capi_modules() -> BTreeMap<String, String> {
    let dir = root().join("src/capi");
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("src/capi") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && name != "mod" && !name.ends_with("_tests")
        {
            modules.insert(name.to_string(), code_of(&path));
        }
    }
    modules
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// An export: its symbol, its module and the first line of its body.
struct Export {
    symbol: String,
    rust_name: String,
    module: String,
    first_line: String,
}

fn exports() -> Vec<Export> {
    let mut found = Vec::new();
    for (module, code) in capi_modules() {
        let lines: Vec<&str> = code.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let attr = lines[i].trim();
            let symbol = if attr == "#[no_mangle]" {
                None
            } else if let Some(rest) = attr.strip_prefix("#[export_name = \"") {
                Some(rest.trim_end_matches("\"]").to_string())
            } else {
                i += 1;
                continue;
            };
            let sig = lines[i + 1].trim();
            let rust_name = sig
                .strip_prefix("pub unsafe extern \"C\" fn ")
                .and_then(|s| s.split('(').next())
                .unwrap_or_else(|| panic!("{module}: an export attribute on {sig:?}"))
                .to_string();
            // The body starts after the line ending the signature with `{`.
            let mut j = i + 1;
            while !lines[j].trim_end().ends_with('{') {
                j += 1;
            }
            let first_line = lines[j + 1..]
                .iter()
                .map(|l| l.trim())
                .find(|l| !l.is_empty())
                .unwrap_or("")
                .to_string();
            found.push(Export {
                symbol: symbol.unwrap_or_else(|| rust_name.clone()),
                rust_name,
                module: module.clone(),
                first_line,
            });
            i = j + 1;
        }
    }
    found
}

#[test]
fn every_export_enters_through_the_entry_form() {
    let exports = exports();
    let skipped: Vec<String> = exports
        .iter()
        .filter(|e| !e.first_line.starts_with("entry!("))
        .map(|e| format!("{} ({}.rs): {:?}", e.rust_name, e.module, e.first_line))
        .collect();
    assert!(
        skipped.is_empty(),
        "exports whose body does not start with `entry!(`:\n{}",
        skipped.join("\n")
    );
    // Every exported symbol of 1.1.20 is one of them, plus the added exports, and no others.
    let ours: BTreeSet<String> = exports.iter().map(|e| e.symbol.clone()).collect();
    assert_eq!(ours.len(), exports.len(), "an export is defined twice");
    let list =
        std::fs::read_to_string(root().join("tests/c/libgearman-1.1.20.symbols")).expect("symbols");
    let upstream: BTreeSet<String> = list
        .lines()
        .map(str::to_string)
        .chain(capi_support::ADDED_EXPORTS.iter().map(|s| s.to_string()))
        .collect();
    assert_eq!(
        ours, upstream,
        "exports found in src/capi vs. 1.1.20's symbols and the added ones"
    );
    assert_eq!(exports.len(), 172 + capi_support::ADDED_EXPORTS.len());
    // No export outside src/capi.
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for f in files
        .iter()
        .filter(|f| !f.starts_with(root().join("src/capi")))
    {
        let code = code_of(f);
        assert!(
            !code.contains("#[no_mangle]") && !code.contains("#[export_name"),
            "{f:?} exports a symbol"
        );
    }
}

#[test]
fn exports_are_leaves() {
    let exports = exports();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    // Test-only modules (`*_tests.rs`) call exports, as C does.
    files.retain(|f| !f.to_string_lossy().ends_with("_tests.rs"));
    let sources: Vec<(PathBuf, String)> = files.iter().map(|f| (f.clone(), code_of(f))).collect();
    // No Rust code calls an export: the name followed by `(` appears once, in its definition.
    let mut called = Vec::new();
    for e in &exports {
        let call = format!("{}(", e.rust_name);
        let uses: usize = sources
            .iter()
            .map(|(_, code)| code.matches(&call).count())
            .sum();
        if uses != 1 {
            called.push(format!("{} ({} occurrences)", e.rust_name, uses));
        }
    }
    assert!(
        called.is_empty(),
        "exports called from Rust code:\n{}",
        called.join("\n")
    );
    // The modules that hold exports and define nothing else are imported by no other module.
    let modules = capi_modules();
    let defines_items = |code: &str| {
        code.lines().any(|l| {
            let l = l.trim_start();
            [
                "pub struct ",
                "pub enum ",
                "pub union ",
                "pub type ",
                "pub trait ",
                "pub const ",
                "pub fn ",
                "pub(crate) ",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
    };
    let leaves: Vec<&String> = modules
        .iter()
        .filter(|(_, code)| code.contains("extern \"C\" fn") && !defines_items(code))
        .map(|(name, _)| name)
        .collect();
    for leaf in [
        "client",
        "client_run",
        "client_submit",
        "task",
        "execute",
        "worker",
        "worker_functions",
        "job",
    ] {
        assert!(
            leaves.iter().any(|l| *l == leaf),
            "{leaf}.rs defines items besides exports"
        );
    }
    for (name, code) in &modules {
        for leaf in &leaves {
            for import in [
                format!("super::{leaf}::"),
                format!("super::{leaf};"),
                format!("super::{{{leaf}"),
            ] {
                assert!(
                    !code.contains(&import) && !code.contains(&format!("crate::capi::{leaf}::")),
                    "{name}.rs imports the export module {leaf}.rs"
                );
            }
        }
    }
}

/// The `src/capi` modules each module refers to (`super::m` or `crate::capi::m`).
fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = capi_modules();
    let mut graph = BTreeMap::new();
    for (name, code) in &modules {
        let mut uses = BTreeSet::new();
        for prefix in ["super::", "crate::capi::"] {
            for (i, _) in code.match_indices(prefix) {
                let rest = &code[i + prefix.len()..];
                // `super::{a, b::c}` lists several.
                let names: Vec<&str> = if let Some(list) = rest.strip_prefix('{') {
                    let list = &list[..list.find('}').unwrap_or(list.len())];
                    list.split(',')
                        .map(|s| s.trim().split("::").next().unwrap_or(""))
                        .collect()
                } else {
                    vec![rest
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("")]
                };
                for m in names {
                    if m != name && modules.contains_key(m) {
                        uses.insert(m.to_string());
                    }
                }
            }
        }
        graph.insert(name.clone(), uses);
    }
    graph
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in &s.graph[v] {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("low");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("low");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.found.push(scc);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn the_capi_modules_import_each_other_without_cycles() {
    let graph = module_graph();
    assert!(graph.len() > 30, "only {} modules found", graph.len());
    // The graph reader sees the known edges.
    assert!(graph["client"].contains("client_impl"));
    assert!(graph["worker_impl"].contains("reducer"));
    let found = cycles(&graph);
    assert!(found.is_empty(), "module cycles in src/capi: {found:?}");
}

#[test]
fn each_handle_is_built_only_by_its_unsafe_constructor() {
    let modules = capi_modules();
    let boundary = &modules["boundary"];
    // The object handles are defined by `object_handle!`, whose one constructor is the unsafe
    // `Handle::from_c` it defines; `Plain` (results, aggregators) is built only in its own.
    let from_c = |code: &str, literal: &str| {
        let at = code.find(literal).expect("literal");
        let before = &code[..at];
        before.rfind("unsafe fn from_c(") > before.rfind("\n}")
    };
    assert!(
        from_c(boundary, "$handle { ptr }"),
        "object_handle! builds outside from_c"
    );
    assert!(
        from_c(boundary, "Plain { ptr }"),
        "Plain is built outside from_c"
    );
    assert_eq!(boundary.matches("$handle { ptr }").count(), 1);
    assert_eq!(boundary.matches("Plain { ptr }").count(), 1);
    for handle in ["ClientRef", "TaskRef", "WorkerRef", "JobRef"] {
        let definitions: usize = modules
            .values()
            .map(|code| code.matches(&format!("    {handle}: gearman_")).count())
            .sum();
        assert_eq!(
            definitions, 1,
            "{handle} is not defined by one object_handle!"
        );
        // A struct literal `Handle { ... }` (not `impl Handle {` or `for Handle {`).
        let literal = format!("{handle} {{");
        for (name, code) in &modules {
            let builds = code.match_indices(&literal).any(|(i, _)| {
                let before = code[..i].trim_end();
                !(before.ends_with("impl") || before.ends_with("for"))
            });
            assert!(!builds, "{name}.rs builds a {handle} itself");
        }
    }
    // Only that constructor reads `_impl` (through `impl_of`), and only the shells touch the
    // field.
    for (name, code) in &modules {
        let calls = code.matches("impl_of(").count() - code.matches("fn impl_of(").count();
        let expected = usize::from(name == "boundary");
        assert_eq!(calls, expected, "{name}.rs calls impl_of");
        if name != "shells" {
            assert!(
                !code.contains("._impl"),
                "{name}.rs touches `_impl` directly"
            );
        }
    }
}

#[test]
fn c_function_pointers_are_converted_in_one_place() {
    let modules = capi_modules();
    for (name, code) in &modules {
        let transmutes = code.matches("transmute").count();
        if name == "callbacks" {
            assert_eq!(transmutes, 1);
        } else {
            assert_eq!(transmutes, 0, "{name}.rs transmutes");
        }
    }
    // Every callback typedef used in src/capi has a marker (and so a `CCallback` impl).
    let callbacks = &modules["callbacks"];
    let mut typedefs = BTreeSet::new();
    for code in modules.values() {
        for (i, _) in code.match_indices("mut gearman_") {
            let name: String = code[i + 4..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.ends_with("_fn") {
                typedefs.insert(name);
            }
        }
    }
    assert!(typedefs.len() >= 17, "{typedefs:?}");
    for t in typedefs {
        assert!(
            callbacks.contains(&format!("    {t} => ")),
            "{t} has no marker in callbacks.rs"
        );
    }
}

#[test]
fn nothing_points_at_files_outside_the_repository() {
    let r = root();
    let mut files = vec![
        r.join("README.md"),
        r.join("tests/README.md"),
        r.join("Cargo.toml"),
    ];
    let mut rs = Vec::new();
    rust_files(&r.join("src"), &mut rs);
    files.extend(rs);
    for dir in [
        "include/libgearman-1.0",
        "docs",
        "c-examples",
        "tests/c",
        "tests/cprog",
    ] {
        for entry in std::fs::read_dir(r.join(dir)).expect("dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    for entry in std::fs::read_dir(r.join("tests")).expect("tests") {
        let path = entry.expect("entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        // This file names the patterns it looks for.
        if name
            .as_ref()
            .is_some_and(|n| n.starts_with("capi_") && n != "capi_boundary.rs")
        {
            files.push(path);
        }
    }
    let outside = [
        "design.md",
        "abi.md",
        "/work/",
        "shared/spec",
        "spec §",
        "spec Q",
        "spec quirk",
        "(spec)",
    ];
    let mut found = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            // `§` only names sections of external standards ("RFC 4122 §4.5").
            let bad_section = line
                .match_indices('§')
                .any(|(i, _)| !line[..i].contains("RFC "));
            if bad_section || outside.iter().any(|p| line.contains(p)) {
                found.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
            }
            // Documents referred to by path exist.
            for (i, _) in line.match_indices("docs/") {
                let path: String = line[i..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "/_-.".contains(*c))
                    .collect();
                let path = path.trim_end_matches('.');
                if path.ends_with(".md") && !r.join(path).exists() {
                    found.push(format!("{}:{}: {path} does not exist", f.display(), n + 1));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "references to files this repository lacks:\n{}",
        found.join("\n")
    );
}
