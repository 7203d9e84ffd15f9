#!/usr/bin/env bash
# Creates Rollstream's topics on the compose cluster (idempotent). Mirrors org.rollstream.schemas.Topics.
set -euo pipefail
BS=kafka-1:9092,kafka-2:9092,kafka-3:9092
P=${PARTITIONS:-6}
MAX=16777216
create() { # name partitions [config ...]
  local name=$1 parts=$2; shift 2
  local cfg=()
  for c in "$@"; do cfg+=(--config "$c"); done
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BS" --create --if-not-exists \
    --topic "$name" --partitions "$parts" --replication-factor 3 "${cfg[@]}"
}
create prompts "$P"
create rollouts.sampled "$P" max.message.bytes=$MAX
create rollouts.scored "$P" max.message.bytes=$MAX retention.ms=-1
create policy.versions 1 cleanup.policy=compact
create sft.samples "$P" max.message.bytes=$MAX
create metrics 1
create learner.audit 1 retention.ms=-1
for t in prompts rollouts.sampled rollouts.scored policy.versions sft.samples metrics learner.audit; do
  create "$t.dlq" 1 max.message.bytes=$MAX retention.ms=-1
done
/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BS" --list
