#!/usr/bin/env python3
"""Checks ONNX files with python3-onnx's checker (full_check: shape inference too); prints
"ok PATH" or "error PATH: MESSAGE" per file and exits 1 if any failed.

    python3 scripts/onnx_check.py model.onnx...
"""
import sys

import onnx

failed = 0
for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print("ok " + path)
    except Exception as e:  # the checker raises several exception types
        failed += 1
        print("error %s: %s" % (path, " ".join(str(e).split())))
sys.exit(1 if failed else 0)
