#!/usr/bin/env bash
# `bench actor` on a CUDA 13 host: a real ActorService (cuda:0, fp16, the in-graph sampler) on an
# embedded broker serving a prompts topic, gpt2-small shape (random init), G 8 x 32 prompts = 256
# sampler rows, prompt 64 + 256 new tokens, 60 s window after 3 warm-up batches, beside
# `bench generate --sample` at the same shapes in the same JVM. Needs the bundle parts of
# pack-gpu-bundle.sh in $PIECES (unpacked once into $DEST) and the launcher's jars in $JARS:
# launcher/target/rollstream.jar and target/lib without the CPU natives (pytorch-native-*,
# onnxruntime-1.28.0.jar -> the natives-free onnxruntime-1.28.0-api.jar, tokenizers, jfreechart,
# pytorch-jni) and without log4j-core (it needs java.desktop, which the bundled runtime lacks;
# Kafka's broker then logs through the Log4j API's fallback). About 55 MB.
set -euo pipefail
PIECES=${PIECES:-/tmp/pieces} JARS=${JARS:-.device/actor/jars} DEST=${DEST:-/tmp/b}
if [ ! -d "$DEST/rollstream-bundle" ]; then
  mkdir -p "$DEST"
  unxz() { if command -v xz >/dev/null; then xz -d; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)'; fi; }
  cat $(ls "$PIECES"/part-* | sort) | unxz | tar -C "$DEST" -xf -
  chmod +x "$DEST"/rollstream-bundle/jre/bin/*
fi
source "$DEST/rollstream-bundle/env.sh"
nvidia-smi -L || true
java -Xmx24g -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dorg.slf4j.simpleLogger.log.org.rollstream=info \
  -cp "$JARS/*" org.rollstream.launcher.Rollstream bench actor --preset gpt2-small --device cuda:0 --fp16 \
  --sampler "${SAMPLER:-auto}" -G 8 --prompts-per-batch 32 --prompt-tokens 64 --new-tokens 256 \
  --seconds "${WINDOW:-60}" --bench-runs "${RUNS:-5}" ${EXTRA:-}
