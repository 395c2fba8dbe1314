#!/bin/sh
# Runs the meson test suite in build dir $1 (extra arguments go to `meson test`), then prints
# the closing line counted from the individual test cases: "N passed, N failed, N skipped".
set -u
build=$1
shift
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
status=$?
python3 "$(dirname "$0")/test-summary.py" "$build/meson-logs/testlog.json" || status=1
exit $status
