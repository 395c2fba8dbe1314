#!/bin/sh
# The CUDA benchmark: build/bench/gpu (ctorch) and bench/gpu_torch.py (torch eager) on the same
# GPU in one call, paired by case:
#
#     bench/gpu.sh BUILD_DIR [case ...]
#     bench=gpu case=<case> <fields> ctorch_ms=<x> torch_ms=<y> ratio=<x/y>
#
# Cases either side skipped come out with their skip reason and no ratio.
set -eu
build=${1:?usage: bench/gpu.sh BUILD_DIR [case ...]}
shift
here=$(dirname "$0")
ct_out=$(mktemp) torch_out=$(mktemp)
trap 'rm -f "$ct_out" "$torch_out"' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | sed 's/^/# gpu: /' || true
"$build/bench/gpu" "$@" >"$ct_out"
python3 "$here/gpu_torch.py" "$@" >"$torch_out" || echo "# gpu_torch.py failed" >&2
# Join on the case= field: the torch file first (case -> torch_ms), then the ctorch lines.
awk '
    function field(line, key,   i, n, parts) {
        n = split(line, parts, " ")
        for (i = 1; i <= n; i++) if (index(parts[i], key "=") == 1) return substr(parts[i], length(key) + 2)
        return ""
    }
    FILENAME == ARGV[1] { if ((t = field($0, "torch_ms")) != "") torch[field($0, "case")] = t; next }
    {
        c = field($0, "case"); x = field($0, "ctorch_ms")
        if (x != "" && (c in torch)) printf "%s torch_ms=%s ratio=%.3f\n", $0, torch[c], x / torch[c]
        else print
    }
' "$torch_out" "$ct_out"
