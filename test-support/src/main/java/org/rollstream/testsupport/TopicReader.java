package org.rollstream.testsupport;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Reads what a topic holds, from its beginning, with a plain consumer outside any group: how a test
 * checks what the code under test wrote without using that code's own consumer.
 */
public final class TopicReader {
    private TopicReader() {
    }

    /**
     * Reads {@code topic} from the beginning until a record with each of {@code keys} was seen (keys as
     * UTF-8 text), or {@code timeout} passed.
     *
     * @return the decoded values by key (the last record of a key wins), including keys not asked for
     * @throws AssertionError naming the keys seen when some key did not arrive in time
     */
    public static <V> Map<String, V> readUntil(String bootstrapServers, String topic, Collection<String> keys,
                                               Function<byte[], V> decode, Duration timeout) {
        Map<String, V> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props(bootstrapServers))) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!out.keySet().containsAll(keys) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.put(r.key() == null ? null : new String(r.key(), java.nio.charset.StandardCharsets.UTF_8),
                            decode.apply(r.value()));
                }
            }
        }
        if (!out.keySet().containsAll(keys)) {
            throw new AssertionError("records on " + topic + ": " + out.keySet() + ", wanted " + keys);
        }
        return out;
    }

    private static Properties props(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }
}
