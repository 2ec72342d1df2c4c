#!/usr/bin/env bash
# Background submits of 16-byte jobs with the PostgreSQL and Redis queues, our server against a
# reference gearmand on the same engine, side by side in one sitting. Each submission waits for
# its JOB_CREATED and has its own unique (bench/load.rs "bguniq"), once with one client and once
# with 16 clients at the same time. The engines are started here with their default durability:
# PostgreSQL with fsync and synchronous_commit on, Redis with appendonly yes (appendfsync
# everysec).
#
#   REF_GEARMAND  reference server (default /usr/sbin/gearmand; skipped if missing)
#   OUR_GEARMAND  our server (default target/release/gearmand, built if missing)
#   SCALE         multiplies the job counts (default 1)
#   ROUNDS        runs per configuration; the best is kept (default 3)
#   PG_BIN        PostgreSQL binaries (default: the newest /usr/lib/postgresql/*/bin)
#   DIR           where the databases live (default a temporary directory under /tmp)
#   MATRIX        the path of a gbench matrix.sh to also run through a wrapper that adds the
#                 queue flags (its background-submit line is printed; default: not run)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ref=${REF_GEARMAND:-/usr/sbin/gearmand}
ours=${OUR_GEARMAND:-}
scale=${SCALE:-1}
rounds=${ROUNDS:-3}
pgbin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
work=$(mktemp -d "${DIR:-${TMPDIR:-/tmp}}/gearman-engines.XXXXXX")
chmod 755 "$work"
spid= pgpid= rpid=
cleanup() {
    for p in $spid $rpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    if [ -n "$pgpid" ]; then kill -INT "$pgpid" 2>/dev/null || true; wait "$pgpid" 2>/dev/null || true; fi
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
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done; }

# PostgreSQL refuses to run as root: the cluster belongs to the postgres user then (setpriv
# execs, so the pid below is postgres itself).
as_pg=()
[ "$(id -u)" = 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --clear-groups)
mkdir "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
"${as_pg[@]}" "$pgbin/initdb" -D "$work/pg" -U gearman --auth=trust --no-locale -E UTF8 >/dev/null
pgport=$(free_port)
"${as_pg[@]}" "$pgbin/postgres" -D "$work/pg" -p "$pgport" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories= >"$work/pg.log" 2>&1 &
pgpid=$!
wait_port "$pgport"
sleep 1
conninfo="host=127.0.0.1 port=$pgport user=gearman dbname=postgres"

rport=$(free_port)
mkdir "$work/redis"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly yes --dir "$work/redis" \
    --daemonize no --logfile "$work/redis.log" &
rpid=$!
wait_port "$rport"

table_n=0
# $1 = configuration; sets the server command line in $cmd (fresh table or keyspace each time).
config() {
    table_n=$((table_n + 1))
    redis-cli -p "$rport" flushall >/dev/null
    case $1 in
        ours-postgres)     cmd=("$ours" -q postgres --libpq-conninfo "$conninfo" --libpq-table "q$table_n") ;;
        gearmand-postgres) cmd=("$ref" -q postgres --libpq-conninfo "$conninfo" --libpq-table "q$table_n") ;;
        ours-redis)        cmd=("$ours" -q redis --redis-server 127.0.0.1 --redis-port "$rport") ;;
        gearmand-redis)    cmd=("$ref" -q redis --redis-server 127.0.0.1 --redis-port "$rport") ;;
    esac
}

measure() { # $1 = configuration, $2 = jobs, $3 = clients
    config "$1"
    local port
    port=$(free_port)
    "${cmd[@]}" -p "$port" -L 127.0.0.1 --log-file=none >/dev/null 2>&1 &
    spid=$!
    wait_port "$port"
    "$work/load" "$port" bguniq "$2" "$3" | awk '{print $2}'
    kill "$spid"; wait "$spid" 2>/dev/null || true
    spid=
}

best() {
    local b=0 r
    for _ in $(seq "$rounds"); do
        r=$(measure "$@")
        b=$(python3 -c "print(max($b, $r))")
    done
    echo "$b"
}

configs="ours-postgres ours-redis"
[ -x "$ref" ] && configs="ours-postgres gearmand-postgres ours-redis gearmand-redis"
declare -A rate
for clients in 1 16; do
    for c in $configs; do
        case $c in
            gearmand-postgres) jobs=$(n 2000) ;;
            gearmand-redis) jobs=$(n 10000) ;;
            *) jobs=$(n 40000) ;;
        esac
        rate[$c.$clients]=$(best "$c" "$jobs" "$clients")
    done
done
printf '%-18s %14s %14s %10s %10s\n' configuration "1 client/s" "16 clients/s" "1c vs ref" "16c vs ref"
for c in $configs; do
    engine=${c#*-}
    python3 -c "
r1,r16,a,b=${rate[$c.1]},${rate[$c.16]},${rate[gearmand-$engine.1]:-0},${rate[gearmand-$engine.16]:-0}
f=lambda x,y: '%10.1fx' % (x/y) if y else '%10s' % '-'
print('%-18s %14.0f %14.0f %s %s' % ('$c', r1, r16, f(r1,a), f(r16,b)))"
done

if [ -n "${MATRIX:-}" ]; then
    # matrix.sh starts "$GBENCH_SERVER -p PORT -L 127.0.0.1": a wrapper adds the queue flags.
    for c in $configs; do
        config "$c"
        printf '#!/bin/sh\nexec %s "$@"\n' "$(printf '%q ' "${cmd[@]}")" >"$work/server-$c"
        chmod +x "$work/server-$c"
        # The same job counts for both servers on one engine (a table's size changes its cost).
        case $c in *-postgres) s=$(python3 -c "print($scale*0.05)") ;; *) s=$(python3 -c "print($scale*0.2)") ;; esac
        echo "$c: $(GBENCH_SERVER=$work/server-$c GBENCH_SCALE=$s bash "$MATRIX" | grep background-submit)"
    done
fi
