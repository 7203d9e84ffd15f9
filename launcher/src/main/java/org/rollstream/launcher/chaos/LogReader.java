package org.rollstream.launcher.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.avro.specific.SpecificRecord;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;

/**
 * Reads whole topics, from the beginning to the end offsets at the time of the call, without a
 * consumer group (nothing is committed, no member joins). Records come back in partition, then
 * offset order: for a one-partition topic that is publish order.
 */
public final class LogReader {
    /** Records of a topic that would not decode, kept so an accounting can say it saw them. */
    public record Read<T>(List<T> records, int undecodable) {
    }

    private final KafkaSettings kafka;

    public LogReader(KafkaSettings kafka) {
        this.kafka = kafka;
    }

    /**
     * Every record of {@code topic}.
     *
     * @throws IllegalStateException if the topic does not exist or the end is not reached within {@code timeout}
     */
    public <T extends SpecificRecord> Read<T> readAll(String topic, Class<T> type, Duration timeout) {
        AvroCodec<T> codec = AvroCodec.of(type);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("rollstream-chaos-reader"))) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            if (infos == null || infos.isEmpty()) {
                throw new IllegalStateException("topic " + topic + " does not exist");
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition()))
                    .sorted(Comparator.comparingInt(TopicPartition::partition)).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts, timeout);
            List<ConsumerRecord<byte[], byte[]>> raw = new ArrayList<>();
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("could not read " + topic + " to its end within " + timeout);
                }
                consumer.poll(Duration.ofMillis(500)).forEach(r -> {
                    if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
                        raw.add(r);
                    }
                });
            }
            raw.sort(Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
                    .thenComparingLong(ConsumerRecord::offset));
            List<T> out = new ArrayList<>(raw.size());
            int bad = 0;
            for (ConsumerRecord<byte[], byte[]> r : raw) {
                try {
                    out.add(codec.decode(r.value()));
                } catch (RuntimeException e) { // RecordDecodeException, or a record that fails its schema
                    bad++;
                }
            }
            return new Read<>(out, bad);
        }
    }
}
