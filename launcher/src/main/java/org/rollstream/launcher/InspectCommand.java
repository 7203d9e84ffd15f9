package org.rollstream.launcher;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Prints records of a Rollstream topic as JSON, one per line, from the beginning, or with --stats figures over "
                + "the whole topic (read-only: no consumer group joins).")
final class InspectCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Parameters(paramLabel = "TOPIC", description = "prompts, rollouts.sampled, rollouts.scored, policy.versions, sft.samples, metrics, learner.audit, or <topic>.dlq")
    String topic;

    @Option(names = "--limit", defaultValue = "20", description = "Records to print at most (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--grep", description = "Print only records whose JSON contains this text.")
    String grep;

    @Option(names = "--stats", description = "Instead of records: counts per partition, reward distribution, completion lengths, "
            + "finish reasons, policy versions (by record type), and the lag of --group.")
    boolean stats;

    @Option(names = "--group", paramLabel = "GROUP", description = "With --stats: the lag of this consumer group (end offset minus its committed offset).")
    String group;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Read the run's own Kafka log (<run>/kafka) instead of --bootstrap-servers.")
    java.nio.file.Path runDir;

    @Override
    public Integer call() {
        Function<byte[], Object> decoder = TopicCodecs.decoder(topic);
        if (group != null && !stats) {
            throw new UsageException("--group needs --stats");
        }
        if (runDir == null) {
            kafka.requiredSettings("inspect"); // the usual message when neither is given
        }
        try (KafkaOptions.Cluster cluster = RunLog.open(kafka, runDir, "inspect");
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cluster.settings().consumerProps("rollstream-inspect"))) {
            KafkaSettings settings = cluster.settings();
            settings.verifyReachable(Duration.ofSeconds(15));
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                throw new UsageException("topic '" + topic + "' does not exist on " + settings.bootstrapServers());
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            TopicStats figures = new TopicStats();
            int printed = 0;
            while ((stats || printed < limit) && parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (stats) {
                        if (r.offset() >= end.get(new TopicPartition(topic, r.partition()))) {
                            continue;
                        }
                        try {
                            figures.add(decoder.apply(r.value()), r.timestamp());
                        } catch (RecordDecodeException e) {
                            figures.records++;
                            figures.undecodable++;
                        }
                        continue;
                    }
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
            if (stats) {
                printStats(settings, parts, begin, end, figures);
            }
        }
        return 0;
    }

    private void printStats(KafkaSettings settings, List<TopicPartition> parts, Map<TopicPartition, Long> begin,
                            Map<TopicPartition, Long> end, TopicStats figures) {
        System.out.println("topic " + topic + " on " + settings.bootstrapServers());
        Map<TopicPartition, OffsetAndMetadata> committed = null;
        if (group != null) {
            // a consumer with the group's id reads its committed offsets without joining the group
            try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(settings.consumerProps(group))) {
                committed = c.committed(new HashSet<>(parts), Duration.ofSeconds(15));
            }
        }
        long totalLag = 0;
        boolean anyCommitted = false;
        for (TopicPartition tp : parts) {
            String lag = "";
            if (committed != null) {
                OffsetAndMetadata o = committed.get(tp);
                if (o == null) {
                    lag = "  lag -: group " + group + " has no offset here";
                } else {
                    long l = Math.max(0, end.get(tp) - o.offset());
                    totalLag += l;
                    anyCommitted = true;
                    lag = "  committed " + o.offset() + "  lag " + l;
                }
            }
            System.out.printf(Locale.ROOT, "partition %-3d offsets %d..%d  records %d%s%n", tp.partition(), begin.get(tp),
                    end.get(tp), end.get(tp) - begin.get(tp), lag);
        }
        if (group != null) {
            System.out.println(anyCommitted ? "lag of group " + group + ": " + totalLag + " records"
                    : "group " + group + " has committed no offsets on " + topic);
        }
        figures.print(System.out);
    }
}
