#!/bin/sh
# Runs every benchmark in build dir $1; each prints `bench=<name> case=<case> key=value ...` lines.
set -eu
build=$1
found=0
for b in "$build"/bench/*; do
    [ -f "$b" ] && [ -x "$b" ] || continue
    found=1
    "$b"
done
[ "$found" = 1 ] || echo "no benchmarks built in $build/bench"
