//! Replays the fuzz corpus (fuzz/corpus/<target>/*) through the fuzz targets' checks on stable,
//! so every seed and every regression found by `cargo fuzz` is part of `cargo test`.

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    for path in files {
        let data = std::fs::read(&path).expect("corpus file");
        let outcome = std::panic::catch_unwind(|| check(&data));
        assert!(outcome.is_ok(), "{} fails its check", path.display());
    }
}

#[test]
fn decode_corpus() {
    replay("decode", checks::check_decode);
}

#[test]
fn admin_corpus() {
    replay("admin", checks::check_admin);
}

#[test]
fn session_corpus() {
    replay("session", checks::check_session);
}

#[test]
fn http_corpus() {
    replay("http", checks::check_http);
}
