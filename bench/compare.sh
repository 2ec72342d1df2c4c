#!/usr/bin/env bash
# Runs the same raw-protocol workload (bench/load.rs) against our gearmand and a reference
# gearmand side by side and prints ops/s for each and the ratio ours/reference.
#
#   REF_GEARMAND  reference server binary (default /usr/sbin/gearmand)
#   OUR_GEARMAND  our server binary (default: target/release/gearmand, built if missing)
#   SCALE         multiplies every operation count (default 1; 0.1 for a smoke run)
#   ROUNDS        runs per scenario and server; the best is kept (default 3)
#
# The servers run one after the other on the same machine, scenario by scenario, so both
# see similar background noise. Each scenario gets a fresh server.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ref=${REF_GEARMAND:-/usr/sbin/gearmand}
ours=${OUR_GEARMAND:-}
scale=${SCALE:-1}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
spid=
cleanup() {
    if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$ours" ]; then
    (cd "$root" && cargo build --release --quiet --bin gearmand)
    ours=$root/target/release/gearmand
fi
rustc -O --edition 2021 -o "$work/load" "$here/load.rs"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
n() { python3 -c "print(max(4, int($1*$scale)//4*4))"; }

start_server() { # $1 = binary; sets $port and $spid
    port=$(free_port)
    "$1" -p "$port" -L 127.0.0.1 --log-file=none --pid-file="$work/pid.$port" >/dev/null 2>&1 &
    spid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "server $1 did not start" >&2
    exit 1
}

stop_server() {
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    spid=
}

rate() { awk '{print $2}'; }

# One measurement: $1 = binary, rest = scenario arguments. "bg+drain" measures both halves.
measure() {
    local bin=$1; shift
    start_server "$bin"
    if [ "$1" = drain ]; then
        "$work/load" "$port" bg "$2" 4 >/dev/null
    fi
    "$work/load" "$port" "$@" | rate
    stop_server
}

best() { # $1 = binary, rest = scenario
    local b=0 r
    for _ in $(seq "$rounds"); do
        r=$(measure "$@")
        b=$(python3 -c "print(max($b, $r))")
    done
    echo "$b"
}

printf '%-28s %12s %12s %8s\n' scenario "ours ops/s" "ref ops/s" ratio
for sc in "echo $(n 20000)" "bg $(n 100000) 4" "drain $(n 100000) 4" "fg $(n 20000) 4" "fg $(n 10000) 16" "pipe $(n 50000)"; do
    # shellcheck disable=SC2086
    o=$(best "$ours" $sc)
    # shellcheck disable=SC2086
    r=$(best "$ref" $sc)
    printf '%-28s %12.0f %12.0f %8.2f\n' "$sc" "$o" "$r" "$(python3 -c "print($o/$r if $r else 0)")"
done
