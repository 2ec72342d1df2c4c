#!/bin/sh
# Builds every test program against the headers and library pkg-config (or the arguments)
# name: ./build.sh OUTDIR [extra cc args]. The Rust driver compiles them itself; this is for
# working on them by hand.
set -e
out=${1:-/tmp/cprog}; shift || true
mkdir -p "$out"
cd "$(dirname "$0")"
for f in *.c; do
  cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -g -O1 -pthread "$@" -o "$out/${f%.c}" "$f" -lgearman
done
