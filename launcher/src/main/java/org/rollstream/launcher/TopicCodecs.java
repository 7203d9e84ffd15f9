package org.rollstream.launcher;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.schemas.serde.AvroCodec;

/** The record type of each Rollstream topic, for commands that print or export records. */
final class TopicCodecs {
    private static final Map<String, Function<byte[], Object>> DECODERS = new LinkedHashMap<>();

    static {
        DECODERS.put(Topics.PROMPTS, AvroCodec.of(Prompt.class)::decode);
        DECODERS.put(Topics.ROLLOUTS_SAMPLED, AvroCodec.of(SampledGroup.class)::decode);
        DECODERS.put(Topics.ROLLOUTS_SCORED, AvroCodec.of(ScoredGroup.class)::decode);
        DECODERS.put(Topics.POLICY_VERSIONS, AvroCodec.of(PolicyVersion.class)::decode);
        DECODERS.put(Topics.SFT_SAMPLES, AvroCodec.of(SftSample.class)::decode);
        DECODERS.put(Topics.METRICS, AvroCodec.of(MetricEvent.class)::decode);
        DECODERS.put(Topics.LEARNER_AUDIT, AvroCodec.of(StepAudit.class)::decode);
    }

    private TopicCodecs() {
    }

    /**
     * The decoder of {@code topic} (a {@code .dlq} topic holds dead letters); a decoder throws
     * {@code RecordDecodeException} on bytes it cannot read.
     *
     * @throws UsageException for a topic Rollstream does not know
     */
    static Function<byte[], Object> decoder(String topic) {
        Function<byte[], Object> d = topic.endsWith(".dlq") ? AvroCodec.of(DeadLetter.class)::decode : DECODERS.get(topic);
        if (d == null) {
            throw new UsageException("unknown topic '" + topic + "'; known: " + String.join(", ", DECODERS.keySet())
                    + " and their .dlq");
        }
        return d;
    }
}
