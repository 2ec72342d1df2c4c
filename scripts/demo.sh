#!/usr/bin/env bash
# The README's demo: our gearmand on a free loopback port, the C reverse worker and client of
# c-examples/ built against our headers and run against our libgearman.so.8, then cleanup.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
text=${1:-Hello world!}

make -s -C "$root/c-examples" clean >/dev/null
make -s -C "$root/c-examples" GEARMAN_CFLAGS="-I$root/include" GEARMAN_LIBS="-L$build -lgearman" \
  reverse_client reverse_worker
export LD_LIBRARY_PATH=$build

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$build/gearmand" -p "$port" -L 127.0.0.1 --log-file=none &
server=$!
worker=
# `wait` on a killed process answers 143: under `set -e` that must not end the trap before the
# server is stopped.
cleanup() {
  if [ -n "$worker" ]; then
    kill "$worker" 2>/dev/null || true
    wait "$worker" 2>/dev/null || true
  fi
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done

"$root/c-examples/reverse_worker" -p "$port" &
worker=$!
echo "gearmand (pid $server) on 127.0.0.1:$port, reverse worker pid $worker"
echo "library: $(LD_TRACE_LOADED_OBJECTS=1 "$root/c-examples/reverse_client" | awk '/libgearman.so.8/ {print $3}')"
echo "client sends: $text"
printf 'worker answers: '
"$root/c-examples/reverse_client" -p "$port" -t 10000 "$text"
