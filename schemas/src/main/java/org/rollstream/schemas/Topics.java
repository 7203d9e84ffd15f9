package org.rollstream.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The topics Rollstream uses, with their partition counts and configs. Topic names are part of
 * the wire contract (other languages read and write them), so they live next to the schemas.
 */
public final class Topics {
    public static final String PROMPTS = "prompts";
    public static final String ROLLOUTS_SAMPLED = "rollouts.sampled";
    public static final String ROLLOUTS_SCORED = "rollouts.scored";
    public static final String POLICY_VERSIONS = "policy.versions";
    public static final String SFT_SAMPLES = "sft.samples";
    public static final String METRICS = "metrics";
    /** Per learner step: which groups were trained, which prompts were dropped and why. */
    public static final String LEARNER_AUDIT = "learner.audit";
    /** Reward components written by external scorers (topic protocol), keyed by group id: {@code PartialReward}. */
    public static final String REWARDS_PARTIAL = "rewards.partial";
    /** Policy weights in chunks, for clusters without a shared disk ({@code WeightChunk} records). */
    public static final String POLICY_WEIGHTS = "policy.weights";
    /** The most data one {@code WeightChunk} carries. */
    public static final int WEIGHT_CHUNK_BYTES = 1024 * 1024;
    /**
     * Chunks are keyed {@code <policy>/<slot>/<index>} with slot = version mod this, so compaction
     * keeps the chunks of the last {@value} versions of each policy and drops older ones.
     */
    public static final int WEIGHT_SLOTS = 4;

    /** Rollout groups carry G completions of up to thousands of tokens each. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private Topics() {
    }

    /** Name of the dead-letter topic of {@code topic}. */
    public static String dlq(String topic) {
        return topic + ".dlq";
    }

    /** A topic with the partitions and configs it should be created with. */
    public record TopicSpec(String name, int partitions, Map<String, String> configs) {
        public TopicSpec {
            if (partitions < 1) {
                throw new IllegalArgumentException("topic " + name + " needs at least one partition, got " + partitions);
            }
            configs = Map.copyOf(configs);
        }
    }

    /**
     * Every topic of a run. {@code partitions} is the parallelism ceiling of the data topics
     * (prompts and rollouts); the policy-version topic is compacted with one partition so
     * every actor reads versions in order.
     */
    public static List<TopicSpec> all(int partitions) {
        String maxBytes = Integer.toString(MAX_MESSAGE_BYTES);
        List<TopicSpec> specs = new ArrayList<>();
        specs.add(new TopicSpec(PROMPTS, partitions, Map.of()));
        specs.add(new TopicSpec(ROLLOUTS_SAMPLED, partitions, Map.of("max.message.bytes", maxBytes)));
        // the durable, replayable record of training: kept until deleted by hand
        specs.add(new TopicSpec(ROLLOUTS_SCORED, partitions,
                Map.of("max.message.bytes", maxBytes, "retention.ms", "-1")));
        specs.add(new TopicSpec(POLICY_VERSIONS, 1, Map.of("cleanup.policy", "compact")));
        specs.add(new TopicSpec(SFT_SAMPLES, partitions, Map.of("max.message.bytes", maxBytes)));
        specs.add(new TopicSpec(METRICS, 1, Map.of()));
        // the exactly-once audit trail: kept until deleted by hand, one partition so it reads in order
        specs.add(new TopicSpec(LEARNER_AUDIT, 1, Map.of("retention.ms", "-1")));
        // read whole by every scorer instance, which joins what it waits for; an hour covers any redelivery
        specs.add(new TopicSpec(REWARDS_PARTIAL, partitions, Map.of("retention.ms", Long.toString(3_600_000L))));
        // weights: one partition (chunks of a version stay in order, an announcement names its first
        // offset); compacted on rotating slot keys so the last WEIGHT_SLOTS versions stay; segments of
        // 64 MiB so compaction gets to old versions without waiting for a 1 GiB segment to fill
        specs.add(new TopicSpec(POLICY_WEIGHTS, 1, Map.of("cleanup.policy", "compact",
                "max.message.bytes", Integer.toString(2 * WEIGHT_CHUNK_BYTES),
                "segment.bytes", Integer.toString(64 * 1024 * 1024), "min.cleanable.dirty.ratio", "0.1")));
        for (String t : List.of(PROMPTS, ROLLOUTS_SAMPLED, ROLLOUTS_SCORED, POLICY_VERSIONS, SFT_SAMPLES, METRICS, REWARDS_PARTIAL)) {
            specs.add(new TopicSpec(dlq(t), 1, Map.of("max.message.bytes", maxBytes, "retention.ms", "-1")));
        }
        return List.copyOf(specs);
    }
}
