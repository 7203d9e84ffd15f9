#!/usr/bin/env bash
# `bench generate --sample` on a CUDA 13 host: in-graph greedy (GENERATE_FUSED) beside in-graph
# sampling (FUSED_SAMPLE*) at temperature 1 with top-p 1 and 0.9, gpt2-small fp16, prompt 64 +
# 256 new tokens, median of 5, batch 256 then 64. Needs the bundle parts of pack-gpu-bundle.sh in
# $PIECES and the application jars in $JARS. PROFILE=DIR instead writes ONNX Runtime's per-node
# profiles of a short run (batch 256, 64 new tokens, kernels serialised) into DIR.
set -euo pipefail
PIECES=${PIECES:-/tmp/pieces} JARS=${JARS:-.device/run/jars} DEST=${DEST:-/tmp/b}
if [ ! -d "$DEST/rollstream-bundle" ]; then
  mkdir -p "$DEST"
  unxz() { if command -v xz >/dev/null; then xz -d; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)'; fi; }
  cat $(ls "$PIECES"/part-* | sort) | unxz | tar -C "$DEST" -xf -
  chmod +x "$DEST"/rollstream-bundle/jre/bin/*
fi
source "$DEST/rollstream-bundle/env.sh"
nvidia-smi -L || true
run() { java -Xmx24g ${JOPTS:-} -cp "$JARS/*" org.rollstream.launcher.bench.GenerateBenchmark --preset gpt2-small --prompt 64 \
  --device cuda:0 --fp16 --fused --sample --top-p "${TOP_P:-1,0.9}" --djl-runs 0 "$@"; }
if [ -n "${PROFILE:-}" ]; then
  mkdir -p "$PROFILE"
  CUDA_LAUNCH_BLOCKING=1 JOPTS="-Drollstream.ortProfile=$PROFILE/prof" run --batch 256 --new 64 --runs 1
  exit 0
fi
for b in ${BATCHES:-256 64}; do run --batch "$b" --new 256 --runs "${RUNS:-5}" ${EXTRA:-}; done
