//! The pkg-config templates of `pkgconfig/`.
use super::*;

/// `pkgconfig/*.pc.in` filled in as `make install` does are valid for pkg-config, and
/// `gearmand.pc` says what Debian's says (same name, description, flags; version 1.1.20).
#[test]
fn templates_match_debian() {
    let Some(debian) = reference_tool("/usr/lib/x86_64-linux-gnu/pkgconfig/gearmand.pc") else {
        return;
    };
    let Some(pkg_config) = reference_tool("/usr/bin/pkg-config") else {
        return;
    };
    let dir = scratch_dir("pkgconfig");
    for name in ["gearman", "gearmand"] {
        let template = std::fs::read_to_string(repo().join(format!("pkgconfig/{name}.pc.in")))
            .expect("template");
        let filled = template
            .replace("@PREFIX@", "/usr")
            .replace("@LIBDIR@", "${prefix}/lib/x86_64-linux-gnu")
            .replace("@INCLUDEDIR@", "${prefix}/include")
            .replace("@VERSION@", "1.1.20");
        assert!(
            !filled.contains('@'),
            "{name}.pc.in has an unknown placeholder:\n{filled}"
        );
        std::fs::write(dir.join(format!("{name}.pc")), &filled).expect("write .pc");
        let query = |args: &[&str], path: &Path| {
            let out = Command::new(&pkg_config)
                .args(args)
                .arg(name)
                .env("PKG_CONFIG_PATH", path)
                .env("PKG_CONFIG_LIBDIR", path)
                .output()
                .expect("pkg-config");
            assert!(
                out.status.success(),
                "pkg-config {args:?} {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        query(&["--validate"], &dir);
        assert_eq!(query(&["--modversion"], &dir), "1.1.20");
        if name == "gearmand" {
            let debian_dir = debian.parent().expect("dir");
            for args in [
                &["--libs"][..],
                &["--cflags"][..],
                &["--variable=libdir"][..],
                &["--variable=includedir"][..],
            ] {
                assert_eq!(
                    query(args, &dir),
                    query(args, debian_dir),
                    "pkg-config {args:?} gearmand"
                );
            }
            let field = |text: &str, key: &str| {
                text.lines()
                    .find(|l| l.starts_with(key))
                    .map(str::to_string)
            };
            let debian_text = std::fs::read_to_string(&debian).expect("gearmand.pc");
            for key in ["Name:", "Description:", "Libs:", "Cflags:"] {
                assert_eq!(
                    field(&filled, key),
                    field(&debian_text, key),
                    "{key} of gearmand.pc"
                );
            }
        }
    }
}
