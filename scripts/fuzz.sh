#!/usr/bin/env bash
# Bounded fuzz run: each cargo-fuzz target for FUZZ_SECONDS (default 25) from the seed corpus
# in fuzz/corpus/<target>. New inputs go to a scratch corpus (the repo's corpus is not
# modified); a crash fails the run and leaves its input under fuzz/artifacts/<target>/ — add
# it to fuzz/corpus/<target>/ with the fix so that `cargo test` replays it.
#
# cargo-fuzz needs nightly compiler flags (-Z sanitizer); on a stable toolchain they are
# enabled with RUSTC_BOOTSTRAP=1, used here for this build only.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-25}"
targets="${FUZZ_TARGETS:-decode admin session http}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install --locked cargo-fuzz
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O -a
for t in $targets; do
  mkdir -p "$scratch/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! cargo fuzz run -O -a "$t" "$scratch/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; last lines:"
    tail -40 "$scratch/$t.log"
    exit 1
  fi
  grep -E "^(Done|stat::number_of_executed_units)" "$scratch/$t.log"
done
