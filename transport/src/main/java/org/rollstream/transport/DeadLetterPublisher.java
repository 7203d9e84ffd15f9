package org.rollstream.transport;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.Topics.TopicSpec;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.serde.AvroCodec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Writes records that could not be decoded or processed to {@code <topic>.dlq} as {@link DeadLetter}:
 * the original key and value bytes, their coordinates, the stage, the error class and message.
 * The DLQ record keeps the original key so it lands in the same order per key. Thread-safe.
 */
public final class DeadLetterPublisher implements AutoCloseable {
    public static final String STAGE_DECODE = "decode";
    public static final String STAGE_PROCESS = "process";

    private static final Logger log = LoggerFactory.getLogger(DeadLetterPublisher.class);
    private static final AvroCodec<DeadLetter> CODEC = AvroCodec.of(DeadLetter.class);

    private final KafkaSettings settings;
    private final ReactiveProducer producer;
    private final boolean ownsProducer;
    private final String failedBy;
    private final Set<String> ensured = ConcurrentHashMap.newKeySet();

    /** @param failedBy role/instance written into every dead letter, e.g. {@code scorer-1} */
    public DeadLetterPublisher(KafkaSettings settings, ReactiveProducer producer, String failedBy) {
        this(settings, producer, false, failedBy);
    }

    public DeadLetterPublisher(KafkaSettings settings, String failedBy) {
        this(settings, ReactiveProducer.create(settings, failedBy + "-dlq"), true, failedBy);
    }

    private DeadLetterPublisher(KafkaSettings settings, ReactiveProducer producer, boolean owns, String failedBy) {
        this.settings = settings;
        this.producer = producer;
        this.ownsProducer = owns;
        this.failedBy = failedBy == null ? "" : failedBy;
    }

    /**
     * Creates {@code <topic>.dlq} if missing (once per topic and publisher), so a cluster with topic
     * auto-creation off still receives dead letters instead of blocking the sender.
     */
    public void ensureDlqTopic(String topic) {
        String dlq = Topics.dlq(topic);
        if (ensured.contains(dlq)) {
            return;
        }
        TopicSpec spec = Topics.all(1).stream().filter(s -> s.name().equals(dlq)).findFirst()
                .orElse(new TopicSpec(dlq, 1, Map.of("max.message.bytes", Integer.toString(Topics.MAX_MESSAGE_BYTES))));
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(java.util.List.of(spec));
            ensured.add(dlq);
        } catch (RuntimeException e) { // the send itself may still succeed via auto-creation
            log.warn("could not ensure dead-letter topic {}: {}", dlq, e.getMessage());
        }
    }

    /** Dead-letters a consumed record; completes when the DLQ write is acknowledged. */
    public Mono<RecordMetadata> publish(ConsumerRecord<byte[], byte[]> record, String stage, Throwable error) {
        return publish(record.topic(), record.partition(), record.offset(), record.key(), record.value(), stage, error);
    }

    public Mono<RecordMetadata> publish(String topic, int partition, long offset, byte[] key, byte[] value,
                                        String stage, Throwable error) {
        return Mono.defer(() -> {
            ensureDlqTopic(topic);
            DeadLetter letter = DeadLetter.newBuilder()
                    .setTopic(topic).setPartition(partition).setOffset(offset)
                    .setKey(key == null ? null : java.nio.ByteBuffer.wrap(key))
                    .setValue(value == null ? null : java.nio.ByteBuffer.wrap(value))
                    .setStage(stage)
                    .setErrorClass(error.getClass().getName())
                    .setReason(reasonOf(error))
                    .setFailedBy(failedBy)
                    .setFailedAtMs(System.currentTimeMillis())
                    .build();
            return producer.send(new ProducerRecord<>(Topics.dlq(topic), key, CODEC.encode(letter)));
        });
    }

    /** The error's message followed by its causes' messages, so a typed decode error keeps its text. */
    static String reasonOf(Throwable error) {
        StringBuilder sb = new StringBuilder();
        Throwable t = error;
        for (int depth = 0; t != null && depth < 5; depth++, t = t.getCause()) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            sb.append(t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName());
            if (t.getCause() == t) {
                break;
            }
        }
        return sb.toString();
    }

    public static AvroCodec<DeadLetter> codec() {
        return CODEC;
    }

    @Override
    public void close() {
        if (ownsProducer) {
            producer.close();
        } else {
            producer.flush();
        }
    }
}
