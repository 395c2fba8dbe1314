#!/bin/sh
# Installs what ctorch's build, tests, examples, benchmarks and validation need, from Debian's
# packages. Idempotent and quick when everything is present. Root runs apt-get directly, anyone
# else through sudo.
set -eu

packages="build-essential pkg-config meson ninja-build python3 valgrind
libopenblas-dev libopenblas-openmp-dev libhdf5-dev hdf5-tools zlib1g-dev libcmocka-dev
libgloo-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev
python3-onnx python3-h5py python3-numpy python3-torch
dataset-fashion-mnist fortunes"

missing=""
for p in $packages; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    echo "install-deps: installing:$missing"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # shellcheck disable=SC2086
    $sudo apt-get install -y -qq --no-install-recommends $missing
fi

# onnxruntime for validating ONNX exports (scripts/onnx_run.js), from npm into the git-ignored
# .deps/node; --onnxruntime-node-install=skip keeps its install script from fetching CUDA files.
if command -v npm >/dev/null 2>&1 && [ ! -d .deps/node/node_modules/onnxruntime-node ]; then
    mkdir -p .deps/node
    (cd .deps/node && npm install --no-audit --no-fund onnxruntime-node --onnxruntime-node-install=skip)
fi
