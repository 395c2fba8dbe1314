#!/bin/sh
# Runs the meson test suite in build dir $1 (extra arguments go to `meson test`), then prints
# the closing line counted from the individual test cases: "N passed, N failed, N skipped".
set -u
build=$1
shift
meson test -C "$build" --print-errorlogs --num-processes 2 --logbase ctorch-tests "$@"
status=$?
# meson appends the wrapper's name to the log base (ctorch-tests-valgrind.json): take the newest.
log=$(ls -t "$build"/meson-logs/ctorch-tests*.json | head -n 1)
python3 "$(dirname "$0")/test-summary.py" "$log" || status=1
exit $status
