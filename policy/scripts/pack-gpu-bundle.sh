#!/usr/bin/env bash
# Packs the GPU bundle of ../../../shared/gpu-bundle/make-bundle.sh (Java runtime, ORT CUDA-13 natives)
# xz-compressed and cut into parts small enough to travel one per device call (about 160 MB in 3
# parts of 56 MB, against 7 uncompressed parts of 48 MB):
#   pack-gpu-bundle.sh OUT_DIR      -> OUT_DIR/part-0, part-1, ...
# On the host: cat part-* | xz -d | tar -x (gpu-sample-bench.sh does this).
set -euo pipefail
out=${1:?usage: pack-gpu-bundle.sh OUT_DIR}
here=$(cd "$(dirname "$0")" && pwd)
make=${MAKE_BUNDLE:-$here/../../../shared/gpu-bundle/make-bundle.sh}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
bash "$make" "$work/raw" >&2
mkdir -p "$out"
cat $(ls -d "$work"/raw/part-*/piece | sort) | xz -T2 -7 | split -b 56m -d -a 1 - "$out/part-"
ls -la "$out"
