package org.rollstream.launcher;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Option;

/**
 * A range of a topic chosen by options: a partition, offsets, record timestamps and a limit. Read
 * without a consumer group (nothing is committed), up to the end the topic had when reading began,
 * each partition in offset order.
 */
final class TopicRange {
    @Option(names = "--partition", paramLabel = "P", description = "Only this partition (default: all).")
    Integer partition;

    @Option(names = "--from-offset", paramLabel = "N", description = "First offset (in each partition read).")
    Long fromOffset;

    @Option(names = "--to-offset", paramLabel = "N", description = "Last offset, inclusive (in each partition read).")
    Long toOffset;

    @Option(names = "--from-time", paramLabel = "TIME", description = "First record timestamp: epoch milliseconds or ISO-8601 (2026-11-29T21:00:00Z).")
    String fromTime;

    @Option(names = "--to-time", paramLabel = "TIME", description = "Last record timestamp, inclusive: epoch milliseconds or ISO-8601.")
    String toTime;

    @Option(names = "--limit", paramLabel = "N", description = "Records at most (default: no limit).")
    Long limit;

    /** Validates the options. @throws UsageException naming the bad one */
    void validate() {
        if (fromOffset != null && fromOffset < 0 || toOffset != null && toOffset < 0) {
            throw new UsageException("offsets must be at least 0");
        }
        if (fromOffset != null && toOffset != null && toOffset < fromOffset) {
            throw new UsageException("--to-offset " + toOffset + " is before --from-offset " + fromOffset);
        }
        if (limit != null && limit < 1) {
            throw new UsageException("--limit must be at least 1, got " + limit);
        }
        Long a = millis(fromTime, "--from-time");
        Long b = millis(toTime, "--to-time");
        if (a != null && b != null && b < a) {
            throw new UsageException("--to-time is before --from-time");
        }
    }

    static Long millis(String text, String option) {
        if (text == null) {
            return null;
        }
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            try {
                return Instant.parse(text.trim()).toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw new UsageException(option + " " + text + " is neither epoch milliseconds nor an ISO-8601 instant");
            }
        }
    }

    /**
     * Hands each record of the range to {@code visit}; returns how many.
     *
     * @throws UsageException when the topic or partition does not exist
     */
    long read(KafkaSettings kafka, String topic, Consumer<ConsumerRecord<byte[], byte[]>> visit) {
        validate();
        Long fromMs = millis(fromTime, "--from-time");
        Long toMs = millis(toTime, "--to-time");
        long max = limit == null ? Long.MAX_VALUE : limit;
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("rollstream-read"))) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                throw new UsageException("topic '" + topic + "' does not exist on " + kafka.bootstrapServers());
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition()))
                    .filter(tp -> partition == null || tp.partition() == partition).toList();
            if (parts.isEmpty()) {
                throw new UsageException("topic '" + topic + "' has no partition " + partition + " (it has " + infos.size() + ")");
            }
            consumer.assign(parts);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
            Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(parts));
            Map<TopicPartition, OffsetAndTimestamp> byTime = null;
            if (fromMs != null) {
                Map<TopicPartition, Long> q = new HashMap<>();
                parts.forEach(tp -> q.put(tp, fromMs));
                byTime = consumer.offsetsForTimes(q);
            }
            for (TopicPartition tp : parts) {
                long start = Math.max(begin.get(tp), fromOffset == null ? 0 : fromOffset);
                if (byTime != null) {
                    OffsetAndTimestamp t = byTime.get(tp);
                    start = Math.max(start, t == null ? end.get(tp) : t.offset()); // null: nothing that late
                }
                if (toOffset != null) {
                    end.put(tp, Math.min(end.get(tp), toOffset + 1));
                }
                consumer.seek(tp, Math.min(start, end.get(tp)));
            }
            long n = 0;
            while (n < max && parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(topic, r.partition());
                    if (r.offset() >= end.get(tp) || toMs != null && r.timestamp() > toMs || n >= max) {
                        continue;
                    }
                    visit.accept(r);
                    n++;
                }
                for (TopicPartition tp : parts) { // a partition past its end is done: stop fetching it
                    if (consumer.position(tp) >= end.get(tp)) {
                        consumer.pause(List.of(tp));
                    }
                }
            }
            return n;
        }
    }
}
