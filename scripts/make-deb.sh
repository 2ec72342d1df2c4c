#!/usr/bin/env bash
# Builds the Debian binary packages from the tree (no network, no debian/rules):
#   libgearman8-rs        libgearman.so.8 where Debian's libgearman8 puts it; stands in for it
#   libgearman-rs-dev     headers, libgearman.so, libgearman.a, gearman.pc and gearmand.pc
#   gearman-rs-job-server gearmand, the gearman-job-server unit, default file and logrotate file
#   *-dbgsym              the split debug symbols (/usr/lib/debug/.build-id/...)
# Usage: scripts/make-deb.sh [OUTDIR]   (default build/deb; expects `cargo build --release` done)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=${1:-build/deb}
case $out in /*) ;; *) out=$root/$out ;; esac

# Debian's versions of the packages we stand in for: their dependants ask for exactly these.
debian_upstream=1.1.20+ds-1
version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)
debversion=$version-1
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
libdir=usr/lib/$multiarch
# The maintainer: $DEBFULLNAME <$DEBEMAIL> as Debian's tools take it, else the last commit's author.
if [ -n "${DEBEMAIL:-}" ]; then
  maintainer="${DEBFULLNAME:-gearman-rs maintainers} <$DEBEMAIL>"
else
  maintainer=$(git log -1 --format='%an <%ae>' 2>/dev/null || true)
  [ -n "$maintainer" ] || { echo "make-deb: set DEBEMAIL (and DEBFULLNAME)" >&2; exit 1; }
fi
rel=target/release
for f in $rel/libgearman.so $rel/libgearman.a $rel/gearmand; do
  [ -f "$f" ] || { echo "make-deb: $f missing: run cargo build --release first" >&2; exit 1; }
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/gearman-deb.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out"

# Copyright and changelog in every package's doc dir, as policy wants.
date_rfc=$(date -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
docs() { # PKGDIR PKGNAME
  install -d "$1/usr/share/doc/$2"
  install -m 644 packaging/debian/copyright "$1/usr/share/doc/$2/copyright"
  sed -e "s/@DEBVERSION@/$debversion/" -e "s/@DATE@/$date_rfc/" \
      -e "s|@MAINTAINER@|$maintainer|" packaging/debian/changelog |
    gzip -9n > "$1/usr/share/doc/$2/changelog.Debian.gz"
  chmod 644 "$1/usr/share/doc/$2/changelog.Debian.gz"
}

# Strips FILE in place (KIND: lib or bin) and moves its debug info to the dbgsym tree DBG,
# under /usr/lib/debug/.build-id/xx/rest.debug. Prints the build id.
split_debug() { # FILE KIND DBG
  local file=$1 kind=$2 dbg=$3 id
  id=$(readelf -n "$file" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p')
  [ -n "$id" ] || { echo "make-deb: $file has no build id" >&2; exit 1; }
  local dest=$dbg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
  install -d "$(dirname "$dest")"
  objcopy --only-keep-debug --compress-debug-sections "$file" "$dest"
  chmod 644 "$dest"
  if [ "$kind" = lib ]; then
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$file"
  else
    strip --remove-section=.comment --remove-section=.note "$file"
  fi
  objcopy --add-gnu-debuglink="$dest" "$file"
  echo "$id"
}

# shlibs:Depends of the ELF files given, as dpkg-shlibdeps computes it.
shlibdeps() {
  local d=$stage/shlibdeps
  mkdir -p "$d/debian"
  printf 'Source: gearman-rs\n\nPackage: x\nArchitecture: any\n' > "$d/debian/control"
  local abs=()
  for f in "$@"; do abs+=("$(readlink -f "$f")"); done
  (cd "$d" && dpkg-shlibdeps -O "${abs[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
}

# gearmand(8), made from `gearmand --help` so that it lists exactly the options the binary has.
manpage() { # GEARMAND
  local help
  help=$("$1" --help | sed -e '1,/^General options:/d' -e 's/\\/\\e/g' -e "s/^[.']/\\\\\&&/")
  cat <<MAN
.TH GEARMAND 8 "" "gearman-rs $version" "System Administration"
.SH NAME
gearmand \- Gearman job server (gearman-rs, compatible with gearmand 1.1.20)
.SH SYNOPSIS
.B gearmand
[\fIOPTIONS\fR]
.SH DESCRIPTION
gearmand hands jobs submitted by Gearman clients to workers that registered the function,
and returns their results. It speaks the wire and admin protocols of gearmand 1.1.20, so
existing clients, workers and tools (gearman, gearadmin) work with it unchanged.
Options may also be given in \fI/etc/gearmand.conf\fR (whitespace-separated, as on the
command line); the packaged service reads \fBPARAMS\fR from
\fI/etc/default/gearman-job-server\fR.
.SH OPTIONS
.nf
$help
.fi
.SH SIGNALS
SIGTERM and SIGINT stop at once; SIGUSR1 stops listening and exits when no job is left;
SIGHUP reopens the log file.
.SH SEE ALSO
.BR gearman (1),
.BR gearadmin (1)
MAN
}

installed_size() { du -k -s --apparent-size --exclude=DEBIAN "$1" | cut -f1; }

build() { # PKGDIR
  find "$1" -type d -exec chmod 755 {} +
  (cd "$1" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum > DEBIAN/md5sums)
  chmod 644 "$1/DEBIAN/md5sums"
  dpkg-deb --root-owner-group -Zxz --build "$1" "$out" >/dev/null
}

dbgsym() { # PKG IDS...
  local pkg=$1; shift
  local d=$stage/$pkg-dbgsym
  install -d "$d/DEBIAN" "$d/usr/share/doc"
  # As debhelper builds them: the doc dir is a link to the package's own.
  ln -s "$pkg" "$d/usr/share/doc/$pkg-dbgsym"
  cat > "$d/DEBIAN/control" <<CTL
Package: $pkg-dbgsym
Source: gearman-rs
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$d")
Depends: $pkg (= $debversion)
Section: debug
Priority: optional
Multi-Arch: same
Description: debug symbols for $pkg
Auto-Built-Package: debug-symbols
Build-Ids: $*
CTL
  build "$d"
}

# --- libgearman8-rs ---------------------------------------------------------------------------
lib=$stage/libgearman8-rs
install -d "$lib/DEBIAN" "$lib/$libdir"
install -m 644 $rel/libgearman.so "$lib/$libdir/libgearman.so.8.0.0"
ln -s libgearman.so.8.0.0 "$lib/$libdir/libgearman.so.8"
lib_id=$(split_debug "$lib/$libdir/libgearman.so.8.0.0" lib "$stage/libgearman8-rs-dbgsym")
docs "$lib" libgearman8-rs
lib_deps=$(shlibdeps "$lib/$libdir/libgearman.so.8.0.0")
cat > "$lib/DEBIAN/control" <<CTL
Package: libgearman8-rs
Source: gearman-rs
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$lib")
Depends: $lib_deps
Provides: libgearman8 (= $debian_upstream)
Conflicts: libgearman8
Replaces: libgearman8
Section: libs
Priority: optional
Multi-Arch: same
Description: Gearman client and worker library (gearman-rs, drop-in libgearman8)
 gearman-rs's libgearman.so.8 implements the C API and ABI of libgearman 1.1.20
 in Rust. It replaces Debian's libgearman8: programs linked against it (the
 gearman and gearadmin tools, PHP's gearman extension, C programs) run on it
 unchanged.
CTL
echo "libgearman 8 libgearman8 (>= 1.1.20)" > "$lib/DEBIAN/shlibs"
echo "activate-noawait ldconfig" > "$lib/DEBIAN/triggers"
chmod 644 "$lib/DEBIAN/shlibs" "$lib/DEBIAN/triggers"
build "$lib"
dbgsym libgearman8-rs "$lib_id"

# --- libgearman-rs-dev ------------------------------------------------------------------------
dev=$stage/libgearman-rs-dev
install -d "$dev/DEBIAN" "$dev/$libdir/pkgconfig" "$dev/usr/include"
ln -s libgearman.so.8 "$dev/$libdir/libgearman.so"
install -m 644 $rel/libgearman.a "$dev/$libdir/libgearman.a"
strip --strip-debug --enable-deterministic-archives "$dev/$libdir/libgearman.a"
cp -R include/libgearman-1.0 include/libgearman "$dev/usr/include/"
find "$dev/usr/include" -type f -exec chmod 644 {} +
for pc in gearman gearmand; do
  sed -e 's|@PREFIX@|/usr|g' -e "s|@LIBDIR@|/$libdir|g" -e 's|@INCLUDEDIR@|/usr/include|g' \
      -e 's|@VERSION@|1.1.20|g' "pkgconfig/$pc.pc.in" > "$dev/$libdir/pkgconfig/$pc.pc"
  chmod 644 "$dev/$libdir/pkgconfig/$pc.pc"
done
docs "$dev" libgearman-rs-dev
cat > "$dev/DEBIAN/control" <<CTL
Package: libgearman-rs-dev
Source: gearman-rs
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$dev")
Depends: libgearman8-rs (= $debversion)
Provides: libgearman-dev (= $debian_upstream)
Conflicts: libgearman-dev
Replaces: libgearman-dev
Section: libdevel
Priority: optional
Multi-Arch: same
Description: Gearman client and worker library (gearman-rs) - development files
 Headers of the libgearman 1.1.20 C API (libgearman-1.0/gearman.h and the
 libgearman/gearman.h shim), the libgearman.so link, the static libgearman.a
 and the pkg-config files gearman.pc and gearmand.pc for gearman-rs's
 libgearman.so.8. It replaces Debian's libgearman-dev.
CTL
build "$dev"

# --- gearman-rs-job-server --------------------------------------------------------------------
srv=$stage/gearman-rs-job-server
install -d "$srv/DEBIAN" "$srv/usr/sbin" "$srv/lib/systemd/system" "$srv/etc/default" \
  "$srv/etc/logrotate.d"
install -m 755 $rel/gearmand "$srv/usr/sbin/gearmand"
srv_id=$(split_debug "$srv/usr/sbin/gearmand" bin "$stage/gearman-rs-job-server-dbgsym")
install -m 644 packaging/gearman-job-server.service "$srv/lib/systemd/system/gearman-job-server.service"
install -m 644 packaging/gearman-job-server.default "$srv/etc/default/gearman-job-server"
install -m 644 packaging/gearman-job-server.logrotate "$srv/etc/logrotate.d/gearman-job-server"
install -d "$srv/usr/share/man/man8"
manpage "$rel/gearmand" | gzip -9n > "$srv/usr/share/man/man8/gearmand.8.gz"
chmod 644 "$srv/usr/share/man/man8/gearmand.8.gz"
docs "$srv" gearman-rs-job-server
for s in postinst prerm postrm; do
  install -m 755 "packaging/debian/server.$s" "$srv/DEBIAN/$s"
done
printf '/etc/default/gearman-job-server\n/etc/logrotate.d/gearman-job-server\n' > "$srv/DEBIAN/conffiles"
chmod 644 "$srv/DEBIAN/conffiles"
srv_deps=$(shlibdeps "$srv/usr/sbin/gearmand")
cat > "$srv/DEBIAN/control" <<CTL
Package: gearman-rs-job-server
Source: gearman-rs
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(installed_size "$srv")
Pre-Depends: adduser
Depends: $srv_deps
Provides: gearman-job-server (= $debian_upstream)
Conflicts: gearman-job-server
Replaces: gearman-job-server
Section: misc
Priority: optional
Description: Job server for the Gearman distributed job queue (gearman-rs)
 gearman-rs's gearmand speaks gearmand 1.1.20's wire and admin protocols, so
 it replaces Debian's gearman-job-server: same service name, same
 /etc/default/gearman-job-server, same gearman system user. It adds
 Prometheus metrics, readiness notification for systemd and bounded memory.
CTL
build "$srv"
dbgsym gearman-rs-job-server "$srv_id"

ls -1 "$out"/*_"$debversion"_"$arch".deb
