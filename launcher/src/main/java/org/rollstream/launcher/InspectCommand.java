package org.rollstream.launcher;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Prints records of a Rollstream topic as JSON, one per line, from the beginning (read-only: no consumer group).")
final class InspectCommand implements Callable<Integer> {
    private static final Map<String, Function<byte[], Object>> DECODERS = Map.of(
            Topics.PROMPTS, AvroCodec.of(Prompt.class)::decode,
            Topics.ROLLOUTS_SAMPLED, AvroCodec.of(SampledGroup.class)::decode,
            Topics.ROLLOUTS_SCORED, AvroCodec.of(ScoredGroup.class)::decode,
            Topics.POLICY_VERSIONS, AvroCodec.of(PolicyVersion.class)::decode,
            Topics.SFT_SAMPLES, AvroCodec.of(SftSample.class)::decode,
            Topics.METRICS, AvroCodec.of(MetricEvent.class)::decode);

    @Mixin
    KafkaOptions kafka;

    @Parameters(paramLabel = "TOPIC", description = "prompts, rollouts.sampled, rollouts.scored, policy.versions, sft.samples, metrics, or <topic>.dlq")
    String topic;

    @Option(names = "--limit", defaultValue = "20", description = "Records to print at most (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--grep", description = "Print only records whose JSON contains this text.")
    String grep;

    @Override
    public Integer call() {
        Function<byte[], Object> decoder = topic.endsWith(".dlq") ? AvroCodec.of(DeadLetter.class)::decode : DECODERS.get(topic);
        if (decoder == null) {
            throw new UsageException("unknown topic '" + topic + "'; known: " + String.join(", ", DECODERS.keySet()) + " and their .dlq");
        }
        KafkaSettings settings = kafka.requiredSettings("inspect");
        settings.verifyReachable(Duration.ofSeconds(15));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(settings.consumerProps("rollstream-inspect"))) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                throw new UsageException("topic '" + topic + "' does not exist on " + settings.bootstrapServers());
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            int printed = 0;
            while (printed < limit && parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    String json;
                    try {
                        json = decoder.apply(r.value()).toString();
                    } catch (RecordDecodeException e) {
                        json = "{\"undecodable\": \"" + e.getMessage().replace("\"", "'") + "\"}";
                    }
                    if (printed < limit && (grep == null || json.contains(grep))) {
                        System.out.println(r.partition() + "@" + r.offset() + " " + json);
                        printed++;
                    }
                }
            }
        }
        return 0;
    }
}
