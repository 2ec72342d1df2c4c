#!/usr/bin/env bash
# Installs into a scratch prefix with `make install`, then builds and runs a C example found
# only through `pkg-config --cflags --libs gearman`: what a user's build does after installing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stage=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$stage"
}
trap cleanup EXIT
make -s -C "$root" install PREFIX=/opt/gearman-check DESTDIR="$stage" >/dev/null
prefix=$stage/opt/gearman-check
# The .pc files name the final prefix; point pkg-config at the staged copy.
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$prefix/lib/pkgconfig PKG_CONFIG_LIBDIR=$prefix/lib/pkgconfig
for module in gearman gearmand; do
  [ "$(pkg-config --modversion "$module")" = 1.1.20 ] || { echo "install-check: $module.pc version"; exit 1; }
done
cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$stage/reverse_client" \
  "$root/c-examples/reverse_client.c" $(pkg-config --cflags --libs gearman)
cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$stage/reverse_worker" \
  "$root/c-examples/reverse_worker.c" $(pkg-config --cflags --libs gearman)
export LD_LIBRARY_PATH=$prefix/lib
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$prefix/sbin/gearmand" -p "$port" -L 127.0.0.1 --log-file=none &
server=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
"$stage/reverse_worker" -p "$port" -c 1 >/dev/null &
worker=$!
got=$("$stage/reverse_client" -p "$port" -t 10000 "installed")
wait "$worker"
loaded=$(LD_TRACE_LOADED_OBJECTS=1 "$stage/reverse_client" | awk '/libgearman.so.8/ {print $3}')
case "$loaded" in "$prefix"/lib/*) ;; *) echo "install-check: loaded $loaded"; exit 1 ;; esac
[ "$got" = "Result: dellatsni" ] || { echo "install-check: got '$got'"; exit 1; }
echo "install-check: 1 passed, 0 failed"
