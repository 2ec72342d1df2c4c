#!/usr/bin/env bash
# Builds the Debian packages, runs lintian on them (no errors allowed), then installs them over
# Debian's libgearman8, libgearman-dev and gearman-job-server in a throw-away root: a private
# mount namespace with an overlay over / (dpkg writes only into a tmpfs; the real system,
# which other tests use as the reference, is never touched). In there:
#   - our packages replace Debian's, whose dependants (php8.2-gearman, gearman-tools) stay
#     satisfied (`dpkg --audit`, `apt-get check`);
#   - PHP's gearman extension and /usr/bin/gearman run on our library (/proc/PID/maps names
#     the installed file, whose inode and checksum are ours); a C program builds with
#     `pkg-config gearman`; our gearmand runs as the gearman user the package created;
#   - Debian's packages are installed back over ours, and the tools run on Debian's library.
# Needs root (mount namespaces), dpkg-deb, lintian, php8.2-gearman and gearman-tools.
# Without them it prints SKIPPED, or fails when GEARMAN_COMPAT_REQUIRED=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --inside ]; then
  shift
  work=$1
else
  skip() {
    if [ "${GEARMAN_COMPAT_REQUIRED:-}" = 1 ]; then echo "deb-check: $1 and GEARMAN_COMPAT_REQUIRED=1"; exit 1; fi
    echo "SKIPPED: deb-check: $1"; exit 0
  }
  [ "$(id -u)" = 0 ] || skip "not root (a mount namespace is needed)"
  for t in dpkg-deb lintian unshare php /usr/bin/gearman; do
    command -v "$t" >/dev/null || skip "$t missing"
  done
  dpkg-query -W -f='${Status}' libgearman8 php8.2-gearman 2>/dev/null | grep -q "install ok installed" ||
    skip "Debian's libgearman8 / php8.2-gearman not installed"
  work=$(mktemp -d /var/tmp/gearman-deb-check.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  "$root/scripts/make-deb.sh" "$work/ours" >/dev/null
  # lintian's errors fail the check; its warnings are printed.
  lintian --tag-display-limit 0 "$work"/ours/*.deb > "$work/lintian.txt" 2>&1 || true
  grep -E '^[EW]: ' "$work/lintian.txt" || true
  if grep -q '^E: ' "$work/lintian.txt"; then echo "deb-check: lintian reports errors"; exit 1; fi
  # Debian's packages, to put back at the end (from apt's cache, else downloaded).
  mkdir -p "$work/debian"
  (cd "$work/debian" && for p in libgearman8 libgearman-dev gearman-job-server; do
     v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
     [ -n "$v" ] || continue
     ls /var/cache/apt/archives/"${p}_${v//:/%3a}"_*.deb >/dev/null 2>&1 &&
       cp /var/cache/apt/archives/"${p}_${v//:/%3a}"_*.deb . ||
       apt-get download -q -o APT::Sandbox::User=root "$p=$v" >/dev/null
   done)
  ls "$work"/debian/libgearman8_*.deb >/dev/null || { echo "deb-check: cannot get Debian's libgearman8 .deb"; exit 1; }
  unshare --mount --propagation private "$0" --inside "$work"
  exit $?
fi

# --- inside the private mount namespace ---------------------------------------------------------
mnt=$work/mnt
mkdir -p "$mnt"
mount -t tmpfs tmpfs "$mnt"
mkdir -p "$mnt/upper" "$mnt/work" "$mnt/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$mnt/upper,workdir=$mnt/work" "$mnt/root"
R=$mnt/root
mount --rbind /proc "$R/proc"
mount --rbind /dev "$R/dev"
mount --rbind /sys "$R/sys"
# No /run/systemd in there: the maintainer scripts see no running systemd and start nothing.
mount -t tmpfs tmpfs "$R/run"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C "$@"; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
fail() { echo "deb-check: FAILED: $*"; exit 1; }
passed=0
ok() { echo "deb-check: ok: $*"; passed=$((passed + 1)); }

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
lib=/usr/lib/$multiarch/libgearman.so.8.0.0
deb_md5() { dpkg-deb --fsys-tarfile "$1" | tar -xO ".$lib" | md5sum | cut -d' ' -f1; }
ours_md5=$(deb_md5 "$work"/ours/libgearman8-rs_*.deb)
debian_md5=$(deb_md5 "$work"/debian/libgearman8_*.deb)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# The libgearman.so.8 file mapped by PID must be the installed one, with checksum $2.
check_maps() { # PID MD5 WHAT
  local f ino
  f=$(awk '/libgearman\.so/ {print $6; exit}' "$R/proc/$1/maps")
  ino=$(awk '/libgearman\.so/ {print $5; exit}' "$R/proc/$1/maps")
  # Read from outside the chroot, the path carries the chroot's prefix.
  [ "$f" = "$R$lib" ] || fail "$3 maps '$f', not $lib"
  [ "$ino" = "$(stat -c %i "$R$lib")" ] || fail "$3 maps inode $ino, not the installed file"
  [ "$(md5sum < "$R$lib" | cut -d' ' -f1)" = "$2" ] || fail "$3: installed $lib is not the expected build"
}
deps_ok() {
  [ -z "$(in_root dpkg --audit)" ] || fail "dpkg --audit: $(in_root dpkg --audit)"
  in_root apt-get check -q >/dev/null 2>&1 || fail "apt-get check reports broken dependencies"
}
status() { in_root dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true; }

# 1. Our library over Debian's libgearman8; then the -dev and server packages.
cp -R "$work/ours" "$R/tmp/ours"
cp -R "$work/debian" "$R/tmp/debian"
in_root sh -c "dpkg -i /tmp/ours/libgearman8-rs_*.deb" >/dev/null 2>"$work/dpkg.err" || fail "dpkg -i libgearman8-rs: $(cat "$work/dpkg.err")"
[ "$(status libgearman8)" != "install ok installed" ] || fail "libgearman8 still installed"
[ "$(status php8.2-gearman)" = "install ok installed" ] || fail "php8.2-gearman was removed"
[ "$(status gearman-tools)" = "install ok installed" ] || fail "gearman-tools was removed"
deps_ok
ok "libgearman8-rs replaced libgearman8; php8.2-gearman and gearman-tools stay installed"
in_root sh -c "dpkg -i /tmp/ours/libgearman-rs-dev_*.deb /tmp/ours/gearman-rs-job-server_*.deb \
  /tmp/ours/libgearman8-rs-dbgsym_*.deb /tmp/ours/gearman-rs-job-server-dbgsym_*.deb" \
  >/dev/null 2>"$work/dpkg.err" || fail "dpkg -i: $(cat "$work/dpkg.err")"
for p in libgearman-dev gearman-job-server; do
  [ "$(status $p)" != "install ok installed" ] || fail "$p still installed"
done
deps_ok
in_root getent passwd gearman >/dev/null || fail "no gearman user"
[ -f "$R/lib/systemd/system/gearman-job-server.service" ] || fail "no unit file"
grep -q '^Type=notify' "$R/lib/systemd/system/gearman-job-server.service" || fail "unit is not Type=notify"
[ -f "$R/etc/default/gearman-job-server" ] || fail "no default file"
ok "libgearman-rs-dev and gearman-rs-job-server replaced Debian's; gearman user created"

# 2. Our gearmand (as installed) under -u gearman.
port=$(free_port)
chroot "$R" /usr/sbin/gearmand -p "$port" -L 127.0.0.1 -u gearman --log-file=none &
pids+=($!)
wait_port "$port" || fail "installed gearmand does not listen"
srv=${pids[-1]}
# The port opens just before the switch: give it a moment.
for _ in $(seq 100); do [ "$(stat -c %U "/proc/$srv" 2>&1)" = gearman ] && break; sleep 0.05; done
[ "$(stat -c %U "/proc/$srv" 2>&1)" = gearman ] || fail "gearmand runs as $(stat -c %U "/proc/$srv" 2>&1)"
reply=$(exec 3<>/dev/tcp/127.0.0.1/"$port"; echo version >&3; head -n1 <&3)
[ "$reply" = "OK 1.1.20+ds" ] || fail "installed gearmand answers '$reply'"
in_root /usr/sbin/gearmand --version | grep -q 1.1.20 || fail "gearmand --version"
ok "installed gearmand serves port $port as user gearman"

# 3. PHP's extension and /usr/bin/gearman on our library.
cat > "$R/tmp/worker.php" <<'PHP'
<?php
$w = new GearmanWorker();
$w->addServer('127.0.0.1', (int)$argv[1]);
$w->addFunction('rev', function ($job) { return strrev($job->workload()); });
$w->work();
PHP
cat > "$R/tmp/client.php" <<'PHP'
<?php
$c = new GearmanClient();
$c->addServer('127.0.0.1', (int)$argv[1]);
echo $c->doNormal($argv[2], $argv[3]), "\n";
PHP
run_tools() { # MD5 WHAT
  local md5=$1 what=$2 w out
  chroot "$R" php /tmp/worker.php "$port" &
  w=$!; pids+=($w)
  for _ in $(seq 100); do grep -q libgearman "$R/proc/$w/maps" 2>/dev/null && break; sleep 0.05; done
  check_maps "$w" "$md5" "php worker ($what)"
  sleep 0.3
  out=$(in_root php /tmp/client.php "$port" rev "php-$what")
  [ "$out" = "$(echo "php-$what" | rev)" ] || fail "php client on $what: '$out'"
  wait "$w" || fail "php worker on $what"
  ok "PHP worker and client on $what"
  chroot "$R" /usr/bin/gearman -h 127.0.0.1 -p "$port" -w -c 1 -f up -- tr a-z A-Z >/dev/null &
  w=$!; pids+=($w)
  for _ in $(seq 100); do grep -q libgearman "$R/proc/$w/maps" 2>/dev/null && break; sleep 0.05; done
  check_maps "$w" "$md5" "gearman -w ($what)"
  sleep 0.3
  out=$(in_root /usr/bin/gearman -h 127.0.0.1 -p "$port" -f up "tool-$what")
  [ "$out" = "TOOL-$(echo "$what" | tr a-z A-Z)" ] || fail "gearman client on $what: '$out'"
  wait "$w" || fail "gearman -w on $what"
  ok "/usr/bin/gearman worker and client on $what"
}
run_tools "$ours_md5" ours

# 4. A C program built against the -dev package.
cp "$root/c-examples/reverse_client.c" "$R/tmp/"
in_root sh -c 'cc -std=c99 -D_DEFAULT_SOURCE -o /tmp/rc /tmp/reverse_client.c $(pkg-config --cflags --libs gearman)' ||
  fail "C program does not build with pkg-config gearman"
in_root sh -c 'pkg-config --modversion gearmand' | grep -qx 1.1.20 || fail "gearmand.pc"
linked=$(in_root ldd /tmp/rc | awk '/libgearman.so.8/ {print $3}')
[ "$(in_root readlink -f "$linked")" = "$lib" ] || fail "C program links '$linked', not $lib"
ok "C program builds with pkg-config gearman and links $lib"

# 5. Debian's packages back over ours. Debian's do not declare Replaces on ours, so dpkg alone
# refuses; apt resolves the conflict by removing ours (no download: the .debs are local).
in_root sh -c 'apt-get install -y -q -o APT::Sandbox::User=root /tmp/debian/*.deb' >"$work/apt.out" 2>&1 || fail "reinstalling Debian's: $(cat "$work/apt.out" "$work/dpkg.err")"
[ "$(status libgearman8)" = "install ok installed" ] || fail "libgearman8 not back"
[ "$(status libgearman8-rs)" != "install ok installed" ] || fail "libgearman8-rs still installed"
deps_ok
run_tools "$debian_md5" debian
ok "Debian's libgearman8, libgearman-dev and gearman-job-server reinstalled over ours"

echo "deb-check: $passed passed, 0 failed"
