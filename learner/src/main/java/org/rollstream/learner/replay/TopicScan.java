package org.rollstream.learner.replay;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.transport.KafkaSettings;

/**
 * Reads a topic from given offsets up to the end it had when the scan began, without a consumer
 * group (nothing is committed, the run's log is left as it was).
 */
final class TopicScan {
    private TopicScan() {
    }

    /**
     * Hands every record of {@code topic} from {@code from} (partition → offset; absent: the beginning) to
     * {@code visit} until the end offsets taken at the start, or until {@code visit} returns false.
     *
     * @throws ReplayException when the topic does not exist
     */
    static void scan(KafkaSettings kafka, String topic, Map<Integer, Long> from,
                     Predicate<ConsumerRecord<byte[], byte[]>> visit) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("rollstream-replay"))) {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(15));
            if (infos == null || infos.isEmpty()) {
                throw new ReplayException("topic '" + topic + "' does not exist on " + kafka.bootstrapServers());
            }
            List<TopicPartition> parts = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            consumer.assign(parts);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(parts);
            for (TopicPartition tp : parts) {
                Long off = from.get(tp.partition());
                consumer.seek(tp, off == null ? begin.get(tp) : Math.max(off, begin.get(tp)));
            }
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (parts.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() < end.get(new TopicPartition(topic, r.partition())) && !visit.test(r)) {
                        return;
                    }
                }
            }
        }
    }
}
