//! The PHP scripts of `tests/php_client/` on Debian's php8.2-gearman.
use super::*;
use crate::server::Server;
use std::process::Stdio;
use std::sync::OnceLock;

/// Debian's PHP with the gearman extension, or `None` (skip) after a note.
fn php_with_gearman() -> Option<PathBuf> {
    let php = reference_tool("/usr/bin/php")?;
    let loaded = Command::new(&php)
        .args(["-r", "exit(extension_loaded('gearman') ? 0 : 1);"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if loaded {
        return Some(php);
    }
    if common::compat_required() {
        panic!(
            "php has no gearman extension and GEARMAN_COMPAT_REQUIRED=1 (install php8.2-gearman)"
        );
    }
    eprintln!("SKIPPED: php has no gearman extension (install php8.2-gearman)");
    None
}

/// The libgearman.so.8 PHP's extension maps under `libdir`.
fn php_resolved_library(php: &Path, libdir: &Path) -> String {
    let code = r#"foreach (file("/proc/self/maps") as $l) { if (strpos($l, "libgearman.so") !== false) { echo trim(substr($l, strrpos($l, " ") + 1)); break; } }"#;
    let out = Command::new(php)
        .args(["-r", code])
        .env("LD_LIBRARY_PATH", libdir)
        .output()
        .expect("php");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `tests/php_client/worker.php` and `client.php` against a fresh server, with the library
/// of `libdir`; returns both outputs (client first) and whether both exited 0.
fn run_php(php: &Path, libdir: &Path, server_bin: &Path) -> (String, bool) {
    let resolved = php_resolved_library(php, libdir);
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    assert!(
        canonical(Path::new(&resolved)).and_then(|p| p.parent().map(Path::to_path_buf))
            == canonical(libdir),
        "php would map {resolved:?}, not the library of {}",
        libdir.display()
    );
    let server = Server::start(server_bin);
    let scripts = repo().join("tests/php_client");
    let spawn = |script: &str| {
        Command::new(php)
            .arg(scripts.join(script))
            .arg("127.0.0.1")
            .arg(server.port.to_string())
            .env("LD_LIBRARY_PATH", libdir)
            .env_remove("GEARMAN_SERVERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run php {script}: {e}"))
    };
    let worker = spawn("worker.php");
    let client = wait_output(spawn("client.php"), "client.php");
    // Without the client's quit job the worker waits for ever: killed after 10 s.
    let worker =
        wait_output_within(worker, "worker.php", Duration::from_secs(10)).unwrap_or_else(|o| o);
    let ok = client.status.success() && worker.status.success();
    let text = format!(
        "=== client.php (exit {:?})\n{}{}=== worker.php (exit {:?})\n{}{}",
        client.status.code(),
        String::from_utf8_lossy(&client.stdout),
        String::from_utf8_lossy(&client.stderr),
        worker.status.code(),
        String::from_utf8_lossy(&worker.stdout),
        String::from_utf8_lossy(&worker.stderr),
    );
    if !ok {
        eprintln!("server log of the failed PHP run:\n{}", server.log());
    }
    (text, ok)
}

fn php_reference(php: &Path) -> &'static (String, bool) {
    static REF: OnceLock<(String, bool)> = OnceLock::new();
    REF.get_or_init(|| run_php(php, &system_libdir(), Path::new(REFERENCE_SERVER)))
}

#[test]
fn reference_runs_are_deterministic() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    let (first, ok) = php_reference(&php);
    assert!(ok, "reference PHP run failed:\n{first}");
    if let Err(e) = check_golden("tests/php_client/expected.out", first) {
        panic!("{e}");
    }
    let (second, ok) = run_php(&php, &system_libdir(), Path::new(REFERENCE_SERVER));
    assert!(
        ok && &second == first,
        "{}",
        unified_diff(first, &second, "first run", "second run")
    );
}

#[test]
fn system_library_on_server_under_test() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    if server_under_test_is_reference() {
        eprintln!(
            "server under test is {}: the reference test covers it",
            common::server_bin().display()
        );
        return;
    }
    let (expected, _) = php_reference(&php);
    let (got, ok) = run_php(&php, &system_libdir(), &common::server_bin());
    assert!(
        ok && &got == expected,
        "PHP, system library, our gearmand: differs from the reference\n{}",
        unified_diff(
            expected,
            &got,
            "system library, Debian gearmand",
            "system library, our gearmand"
        )
    );
}

#[test]
fn our_library_matches_reference() {
    if reference_setup().is_none() {
        return;
    }
    let Some(php) = php_with_gearman() else {
        return;
    };
    let Some(ours) = our_libdir() else { return };
    let (expected, _) = php_reference(&php);
    let (got, ok) = run_php(&php, &ours, &common::server_bin());
    let what = format!(
        "our library {}, server {}",
        ours.display(),
        common::server_bin().display()
    );
    assert!(
        ok && &got == expected,
        "PHP, {what}: differs from the reference\n{}",
        unified_diff(expected, &got, "system library, Debian gearmand", &what)
    );
}
