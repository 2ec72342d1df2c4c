#!/usr/bin/env bash
# Runs the same raw-protocol workloads against our gearmand and Debian's /usr/sbin/gearmand,
# one after the other in one sitting, and prints ops/s for each and the ratio ours/theirs.
#   BENCH_SCALE  multiplies every job count (default 1)
#   THEIRS       the reference server (default /usr/sbin/gearmand)
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${BENCH_SCALE:-1}
theirs=${THEIRS:-/usr/sbin/gearmand}
cargo build --release --quiet --bin gearmand --example bench_load
ours=target/release/gearmand
load=target/release/examples/bench_load
n() { python3 -c "print(max(1,int($1*$scale)))"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# run_one SERVER SCENARIO N SIZE [PREFILL]: fresh server per scenario, prints ops/s
run_one() {
  local server=$1 scenario=$2 count=$3 size=$4 port pid rate
  port=$(free_port)
  "$server" -p "$port" -L 127.0.0.1 --log-file=none --pid-file=/tmp/bench-gearmand-$port.pid >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.05; done
  if [ "$scenario" = drain ]; then "$load" "$port" bg-submit "$count" "$size" >/dev/null; fi
  rate=$("$load" "$port" "$scenario" "$count" "$size" | awk '{print $2}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "$rate"
}

printf '%-22s %12s %12s %8s\n' scenario ours gearmand ratio
for spec in "echo $(n 200000) 16" "bg-submit $(n 100000) 16" "drain $(n 100000) 16" \
            "do $(n 20000) 16" "do-window $(n 100000) 16" "do $(n 200) 1000000"; do
  set -- $spec
  a=$(run_one "$ours" "$1" "$2" "$3")
  b=$(run_one "$theirs" "$1" "$2" "$3")
  printf '%-22s %12s %12s %8s\n' "$1-$3B" "$a" "$b" "$(python3 -c "print(f'{$a/$b:.2f}x')")"
done
