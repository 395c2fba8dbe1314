#!/usr/bin/env python3
"""Counts test cases from meson's testlog.json and prints 'N passed, N failed, N skipped'.

Each test program is a cmocka group; its summary lines give the per-case counts. A program that
crashed or timed out before printing them counts as one failure; a program meson marked skipped
(exit code 77, the gpu suite without a GPU) counts its announced cases as skipped."""
import json, re, sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        rec = json.loads(line)
        out = (rec.get("stdout") or "") + (rec.get("stderr") or "")
        result = rec.get("result", "")
        if result == "SKIP":
            m = re.search(r"\[  SKIPPED \] (\d+) test\(s\)", out)
            skipped += int(m.group(1)) if m else 1
            continue
        p = re.search(r"\[  PASSED  \] (\d+) test\(s\)\.", out)
        fl = re.search(r"\[  FAILED  \] (\d+) test\(s\), listed below", out)
        s = re.search(r"\[  SKIPPED \] (\d+) test\(s\), listed below", out)
        if not p:
            failed += 1  # crashed, timed out, or not a cmocka program
            print(f"test program {rec.get('name')} ended {result} without a cmocka summary", file=sys.stderr)
            continue
        passed += int(p.group(1))
        failed += int(fl.group(1)) if fl else 0
        skipped += int(s.group(1)) if s else 0
        if result not in ("OK", "EXPECTEDFAIL") and not fl:
            failed += 1  # e.g. valgrind found errors after all cases passed
            print(f"test program {rec.get('name')} ended {result}", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
