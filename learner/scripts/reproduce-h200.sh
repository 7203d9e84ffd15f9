#!/usr/bin/env bash
# Reproduces the "On the H200" figures of learner/README.md on an x86-64 CUDA 13 host (no Java, no
# network needed there). Inputs, each a directory (defaults in brackets):
#   TORCH_PARTS [/tmp/tp]   part-* and zstd of ../../../shared/gpu-bundle/make-torch-bundle.sh
#                           (libtorch 2.5.1 cu124 for DJL 0.33.0)
#   JAVA_PARTS  [/tmp/jp]   part-* of ../../policy/scripts/pack-gpu-bundle.sh (xz: Java runtime + ORT
#                           CUDA-13 natives)
#   JARS        [jars]      the -Pcuda build's launcher/target/rollstream.jar + launcher/target/lib,
#                           less onnxruntime-1.28.0.jar (its natives-free -api jar instead),
#                           tokenizers, log4j-core and jfreechart (see policy/README.md, device notes)
#   TESTS       [tests]     junit-platform-console-standalone-*.jar and launcher/target/test-classes
#                           (only for the cuda-test stage)
#   OUT         [./h200-out] where logs, JSON lines and nvidia-smi samples go
#   RUNS        [$OUT]      where the run stage's run directories (weights, checkpoints) go
# Stages (arguments, in order; default: all but run): unpack reference cuda-test bench run
#   reference  learner/scripts/grpo_step_reference.py (the host's python3 with PyTorch), C 768,
#              12 layers, 64 x 320, vocab 98 and 50,257, fp32, bf16 and fp16 autocast
#   cuda-test  CudaTest (a GRPO step on cuda:0 through DJL, ORT CUDA logits vs DJL)
#   bench      rollstream bench learner, the same shapes, fp32 and fp16 (DJL has no bf16),
#              nvidia-smi sampled; VOCABS [98 50257] and PRECISIONS [fp32 fp16] narrow it, BENCH_FLAGS
#              adds flags (e.g. --micro-batch-size 16)
#   weights    rollstream bench weights --device cuda:0 --session-fp16, gpt2-small-char and gpt2-small, each
#              --sampler-weights and --fetch, exported from a cuda:0 snapshot (WEIGHT_FLAGS replaces those), and
#              bench generate --sample --weight-inputs (gpt2-small fp16, 64 x 64+256), per ORT optimisation level
#              in OPT_LEVELS [all]
#   run        rollstream run --preset gpt2-small-char --device $ACTOR_DEVICE [cuda:0] --learner-device
#              $LEARNER_DEVICE [cuda:0] with η = 0 (cold start included), then η = 2 (ETAS [0 2]) from the same
#              cold-start weights (INIT_WEIGHTS: both from that file, no cold start); RUN_FLAGS adds
#              flags (step counts), RUN_TIMEOUT [600] bounds each run, RUN_TAG prefixes the names;
#              nvidia-smi sampled; run_figures.py prints accuracy over time, time to $TARGETS
#              [0.5], tokens/s and GPU utilisation as JSON lines into $OUT/run-figures.jsonl
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TORCH_PARTS=${TORCH_PARTS:-/tmp/tp} JAVA_PARTS=${JAVA_PARTS:-/tmp/jp} JARS=${JARS:-jars} TESTS=${TESTS:-tests}
OUT=${OUT:-./h200-out} DEST=${DEST:-/tmp}
RUNS=${RUNS:-$OUT}
REF=${REF:-$here/grpo_step_reference.py}
stages=("$@"); [ ${#stages[@]} -gt 0 ] || stages=(unpack reference cuda-test bench)
mkdir -p "$OUT"

unpack() {
  if [ ! -d "$DEST/torch-cu124" ]; then
    chmod +x "$TORCH_PARTS/zstd"
    cat $(ls "$TORCH_PARTS"/part-* | sort) | "$TORCH_PARTS/zstd" -d -c | tar -xf - -C "$DEST"
  fi
  if [ ! -d "$DEST/rollstream-bundle" ]; then
    unxz() { if command -v xz >/dev/null; then xz -d; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer)'; fi; }
    cat $(ls "$JAVA_PARTS"/part-* | sort) | unxz | tar -C "$DEST" -xf -
    chmod +x "$DEST"/rollstream-bundle/jre/bin/*
  fi
}

java_env() {
  [ -n "${JAVA_ENV_DONE:-}" ] && return; JAVA_ENV_DONE=1   # env.sh prepends to JAVA_TOOL_OPTIONS
  source "$DEST/rollstream-bundle/env.sh"
  export PYTORCH_LIBRARY_PATH=$DEST/torch-cu124 PYTORCH_VERSION=2.5.1 PYTORCH_FLAVOR=cu124
  export LD_LIBRARY_PATH=$DEST/torch-cu124:$LD_LIBRARY_PATH
  JAVA=(java -Xmx32g -Dai.djl.offline=true -Dorg.slf4j.simpleLogger.defaultLogLevel=warn
        -Dorg.slf4j.simpleLogger.log.org.rollstream=info)
}

# samples each GPU's utilisation and memory every 200 ms into $OUT/smi-$1.csv until stop_smi
start_smi() { nvidia-smi --query-gpu=timestamp,index,utilization.gpu,memory.used --format=csv,noheader,nounits -lms 200 > "$OUT/smi-$1.csv" & SMI=$!; }
stop_smi() { kill "$SMI" 2>/dev/null || true; wait "$SMI" 2>/dev/null || true
  python3 - "$OUT/smi-$1.csv" <<'PY'
import sys
per = {}
for l in open(sys.argv[1]):
    f = [x.strip() for x in l.split(",")]
    if len(f) == 4:
        per.setdefault(f[1], []).append((float(f[2]), float(f[3])))
for gpu, v in sorted(per.items()):
    print(f"nvidia-smi {sys.argv[1]} gpu {gpu}: {len(v)} samples, utilisation mean {sum(u for u, _ in v)/len(v):.0f}%, "
          f"memory used max {max(m for _, m in v)/1024:.2f} GiB")
PY
}

for stage in "${stages[@]}"; do
  echo "== $stage $(date -u +%H:%M:%S)"
  case $stage in
    unpack) unpack; nvidia-smi -L ;;
    reference)
      for v in 98 50257; do
        PYTHONUNBUFFERED=1 python3 "$REF" --vocab "$v" --precision fp32,bf16,fp16 --json "$OUT/reference.jsonl"
      done ;;
    cuda-test)
      java_env
      # the console launcher does not expand "dir/*": list the jars
      "${JAVA[@]}" -jar "$(ls "$TESTS"/junit-platform-console-standalone-*.jar)" execute --disable-banner \
        --disable-ansi-colors -cp "$TESTS/test-classes" -cp "$(ls "$JARS"/*.jar | tr '\n' ':')" \
        --select-class org.rollstream.launcher.cuda.CudaTest \
        --details=tree 2>&1 | tee "$OUT/cuda-test.log" ;;
    bench)
      java_env
      for v in ${VOCABS:-98 50257}; do for p in ${PRECISIONS:-fp32 fp16}; do
        start_smi "bench-$v-$p"
        # BENCH_TIMEOUT bounds each run
        timeout "${BENCH_TIMEOUT:-300}" "${JAVA[@]}" -cp "$JARS/*" org.rollstream.launcher.Rollstream bench learner --preset gpt2-small-char \
          --vocab "$v" --batch 64 --seq 320 --device cuda:0 --precision "$p" --warmup 3 --steps "${STEPS:-10}" ${BENCH_FLAGS:-} \
          2>&1 | tee "$OUT/bench-$v-$p.log" || true
        stop_smi "bench-$v-$p"
      done; done ;;
    weights)
      # weight hand-over over Kafka to 2 float16 CUDA actors (in-graph sampler sessions), per ORT
      # optimisation level (OPT_LEVELS [all]: the session build is paid at every hand-over)
      java_env
      # each way an actor can take the weights (a session per version, or one fed them as inputs) and fetch them
      # (prefetched as chunks arrive, or read after the put), the file exported as the learner's publisher does
      # from a snapshot on cuda:0 (WEIGHT_FLAGS replaces those flags)
      for lvl in ${OPT_LEVELS:-all}; do
        "${JAVA[@]}" -Drollstream.ortOptLevel="$lvl" -cp "$JARS/*" org.rollstream.launcher.Rollstream bench weights \
          --device cuda:0 --session-fp16 --presets gpt2-small-char,gpt2-small --runs "${WEIGHT_RUNS:-5}" \
          ${WEIGHT_FLAGS:---sampler-weights initializers,inputs --fetch prefetch,offset --learner-device cuda:0} 2>&1 \
          | grep -v onnxruntime | tee "$OUT/weights-$lvl.log"
        # what the level, and feeding the weights as inputs, cost in sampling speed: gpt2-small, float16, fused
        # in-graph sampling, 64 rows
        "${JAVA[@]}" -Drollstream.ortOptLevel="$lvl" -cp "$JARS/*" org.rollstream.launcher.Rollstream bench generate \
          --preset gpt2-small --device cuda:0 --fp16 --fused --sample --weight-inputs --batch 64 --prompt-tokens 64 \
          --new-tokens 256 --runs "${WEIGHT_RUNS:-5}" --djl-runs 0 2>&1 | grep -v onnxruntime | tee "$OUT/generate-$lvl.log"
      done ;;
    run)
      # η = 0 with the cold start, then η = 2 from that run's cold-start weights, so both GRPO
      # phases start from the same policy; the figures count from the first GRPO event
      java_env
      for eta in ${ETAS:-0 2}; do
        init=(); [ -n "${INIT_WEIGHTS:-}" ] && init=(--init-weights "$INIT_WEIGHTS")
        [ "$eta" = 0 ] || [ -n "${INIT_WEIGHTS:-}" ] || init=(--init-weights "$(ls "$RUNS/run-${RUN_TAG:-}eta0"/weights/*v000000.safetensors | head -1)")
        tag=${RUN_TAG:-}eta$eta
        start_smi "run-$tag"
        timeout "${RUN_TIMEOUT:-600}" "${JAVA[@]}" -cp "$JARS/*" org.rollstream.launcher.Rollstream run \
          --preset gpt2-small-char --device "${ACTOR_DEVICE:-cuda:0}" --learner-device "${LEARNER_DEVICE:-cuda:0}" \
          --eta "$eta" --run-dir "$RUNS/run-$tag" "${init[@]}" ${RUN_FLAGS:-} 2>&1 | tee "$OUT/run-$tag.log" || true
        stop_smi "run-$tag"
        python3 "$here/run_figures.py" "$RUNS/run-$tag" --log "$OUT/run-$tag.log" --smi "$OUT/smi-run-$tag.csv" \
          --target "${TARGETS:-0.5}" | tee -a "$OUT/run-figures.jsonl" || true
      done ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
