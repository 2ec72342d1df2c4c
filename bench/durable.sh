#!/usr/bin/env bash
# Background submits of 16-byte jobs with durable queues, side by side in one sitting:
# our server in memory (the ceiling), ours with each durable backend and sync level, and a
# reference gearmand with -q libsqlite3. Each submission has its own unique (as libgearman
# sends: with an empty one gearmand's table keeps only the last job of a function) and waits
# for its JOB_CREATED (bench/load.rs "bguniq"): once with one client, once with 16 clients at
# the same time.
#
#   REF_GEARMAND  reference server (default /usr/sbin/gearmand; skipped if missing)
#   OUR_GEARMAND  our server (default target/release/gearmand, built if missing)
#   SCALE         multiplies the job counts (default 1)
#   ROUNDS        rounds over all configurations; the best of each is kept (default 3)
#   DIR           where the stores live (default a temporary directory: put it on the disk
#                 you want to measure, /tmp may be a tmpfs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ref=${REF_GEARMAND:-/usr/sbin/gearmand}
ours=${OUR_GEARMAND:-}
scale=${SCALE:-1}
rounds=${ROUNDS:-3}
work=$(mktemp -d "${DIR:-${TMPDIR:-/tmp}}/gearman-durable.XXXXXX")
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
n() { python3 -c "print(max(16, int($1*$scale)//16*16))"; }

# $1 = configuration name; sets the server command line in $cmd (fresh store each time).
config() {
    local store=$work/store.$RANDOM$RANDOM
    mkdir -p "$store"
    case $1 in
        memory)        cmd=("$ours") ;;
        wal-full)      cmd=("$ours" -q wal --wal-dir "$store" --wal-sync=full) ;;
        wal-normal)    cmd=("$ours" -q wal --wal-dir "$store" --wal-sync=normal) ;;
        sqlite-full)   cmd=("$ours" -q libsqlite3 --libsqlite3-db "$store/q.db" --libsqlite3-sync=full) ;;
        sqlite-normal) cmd=("$ours" -q libsqlite3 --libsqlite3-db "$store/q.db" --libsqlite3-sync=normal) ;;
        gearmand-sqlite) cmd=("$ref" -q libsqlite3 --libsqlite3-db "$store/q.db") ;;
    esac
}

measure() { # $1 = configuration, $2 = jobs, $3 = clients
    config "$1"
    local port
    port=$(free_port)
    "${cmd[@]}" -p "$port" -L 127.0.0.1 --log-file=none --pid-file="$work/pid.$port" >/dev/null 2>&1 &
    spid=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    "$work/load" "$port" bguniq "$2" "$3" | awk '{print $2}'
    kill "$spid"; wait "$spid" 2>/dev/null || true
    spid=
}

configs="memory wal-full wal-normal sqlite-full sqlite-normal"
[ -x "$ref" ] && configs="$configs gearmand-sqlite"
declare -A rate
# Rounds interleave the configurations, so a noisy moment hits them all alike; the best of
# each is kept.
for _ in $(seq "$rounds"); do
    for clients in 1 16; do
        for c in $configs; do
            case $c in
                gearmand-sqlite) jobs=$(n $((clients == 1 ? 2000 : 4000))) ;;
                memory) jobs=$(n 100000) ;;
                *) jobs=$(n 40000) ;;
            esac
            r=$(measure "$c" "$jobs" "$clients")
            rate[$c.$clients]=$(python3 -c "print(max(${rate[$c.$clients]:-0}, $r))")
        done
    done
done
printf '%-16s %14s %14s %10s %10s %12s\n' configuration "1 client/s" "16 clients/s" "1c vs ref" "16c vs ref" "16c vs mem"
for c in $configs; do
    r1=${rate[$c.1]} r16=${rate[$c.16]}
    ref1=${rate[gearmand-sqlite.1]:-0} ref16=${rate[gearmand-sqlite.16]:-0}
    python3 -c "
r1,r16,a,b,m=$r1,$r16,$ref1,$ref16,${rate[memory.16]}
f=lambda x,y: '%10.1fx' % (x/y) if y else '%10s' % '-'
print('%-16s %14.0f %14.0f %s %s %11.2fx' % ('$c', r1, r16, f(r1,a), f(r16,b), r16/m))"
done
