#!/usr/bin/env bash
# GPU benchmark on a CUDA 13 host from a bundle made by ../shared/gpu-bundle/make-bundle.sh
# (pieces already copied to /tmp/pieces) and the jars in .bundle/jars. Runs the gpt2-small
# preset in fp16 with the in-graph decoding loop (FLAGS=--fused for GENERATE_FUSED).
set -euo pipefail
.bundle/unpack.sh /tmp/pieces /tmp/b >/dev/null
source /tmp/b/rollstream-bundle/env.sh
nvidia-smi -L || true
CP=".bundle/jars/*"
for b in ${BATCHES:-256 64}; do
  java -Xmx24g -cp "$CP" org.rollstream.launcher.bench.GenerateBenchmark --preset gpt2-small --batch "$b" --prompt 64 --new 256 \
    --device cuda:0 --fp16 ${FLAGS:---in-graph} --runs "${RUNS:-5}" --djl-runs 0
done
