#!/usr/bin/env bash
# CPU time per job of a libgearman.so.8 in one client and one worker (bench/library_cpu.c),
# at a light steady load (RATE jobs/s of gearman_client_do, default 500), at full speed with
# gearman_client_do, and at full speed with pipelined add_task + run_tasks.
#
#   LIBDIR   directory holding the libgearman.so.8 measured (default: the system one)
#   SERVER   job server started as `$SERVER -p PORT -L 127.0.0.1` (default /usr/sbin/gearmand)
#   JOBS     jobs per run (default 5000)
#   RATE     paced rate of the light load (default 500)
#
# GEARMAN_BUSY_POLL_US (our library's spin before sleeping, µs; unset = 30, 0 = never) is
# passed through, so `GEARMAN_BUSY_POLL_US=0 bench/library_cpu.sh` measures the library
# without spinning.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
server=${SERVER:-/usr/sbin/gearmand}
libdir=${LIBDIR:-}
jobs=${JOBS:-5000}
rate=${RATE:-500}
work=$(mktemp -d)
spid=
wpid=
cleanup() {
    for p in $wpid $spid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/library_cpu" "$here/library_cpu.c" $(pkg-config --cflags --libs gearmand 2>/dev/null || echo -lgearman)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$server" -p "$port" -L 127.0.0.1 >"$work/server.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done

for load in "$rate" 0; do
    LD_LIBRARY_PATH=$libdir "$work/library_cpu" "$port" worker "$jobs" >"$work/worker.out" &
    wpid=$!
    sleep 0.2
    client=$(LD_LIBRARY_PATH=$libdir "$work/library_cpu" "$port" client "$jobs" "$load")
    wait "$wpid"
    wpid=
    label=$([ "$load" = 0 ] && echo "full load, do" || echo "$load jobs/s, do")
    echo "$label: $client | $(cat "$work/worker.out")"
done
LD_LIBRARY_PATH=$libdir "$work/library_cpu" "$port" worker "$jobs" >"$work/worker.out" &
wpid=$!
sleep 0.2
client=$(LD_LIBRARY_PATH=$libdir "$work/library_cpu" "$port" tasks "$jobs")
wait "$wpid"
wpid=
echo "full load, tasks: $client | $(cat "$work/worker.out")"
