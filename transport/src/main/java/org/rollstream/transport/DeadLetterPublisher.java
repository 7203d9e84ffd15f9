package org.rollstream.transport;

import java.nio.ByteBuffer;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.time.Time;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Writes records that could not be decoded or processed to {@code <topic>.dlq} as {@link DeadLetter}:
 * the original key and value bytes, their coordinates, the stage, the error class and the reason.
 * The DLQ record keeps the original key so it lands in the same order per key. Thread-safe.
 *
 * <p>Never blocks its caller: the send runs on the publisher's own thread, because a producer's send
 * may wait for metadata or buffer space, which must not stall a poll thread or Reactor's parallel
 * workers. It creates no topics: {@link TopicAdmin#ensureTopics} creates every topic's dead-letter
 * topic with it, and {@link ReactiveConsumer} checks its own at start-up.
 */
public final class DeadLetterPublisher implements AutoCloseable {
    public static final String STAGE_DECODE = "decode";
    public static final String STAGE_PROCESS = "process";

    private static final AvroCodec<DeadLetter> CODEC = AvroCodec.of(DeadLetter.class);

    private final ReactiveProducer producer;
    private final boolean ownsProducer;
    private final String failedBy;
    private final Time time;
    private final Scheduler sender;

    /** @param failedBy role/instance written into every dead letter, e.g. {@code scorer-1} */
    public DeadLetterPublisher(ReactiveProducer producer, String failedBy) {
        this(producer, false, failedBy, Time.SYSTEM);
    }

    /** Same as {@link #DeadLetterPublisher(ReactiveProducer, String)}; {@code settings} is not needed any more. */
    public DeadLetterPublisher(KafkaSettings settings, ReactiveProducer producer, String failedBy) {
        this(producer, false, failedBy, Time.SYSTEM);
    }

    /** A publisher with a producer of its own, closed with it. */
    public DeadLetterPublisher(KafkaSettings settings, String failedBy) {
        this(ReactiveProducer.create(settings, (failedBy == null ? "" : failedBy) + "-dlq"), true, failedBy, Time.SYSTEM);
    }

    DeadLetterPublisher(ReactiveProducer producer, boolean owns, String failedBy, Time time) {
        this.producer = producer;
        this.ownsProducer = owns;
        this.failedBy = failedBy == null ? "" : failedBy;
        this.time = time;
        this.sender = Schedulers.newSingle("rollstream-dlq-" + this.failedBy, true);
    }

    /** Dead-letters a consumed record; completes when the DLQ write is acknowledged. Lazy: sends on subscribe. */
    public Mono<RecordMetadata> publish(ConsumerRecord<byte[], byte[]> record, String stage, Throwable error) {
        return publish(record.topic(), record.partition(), record.offset(), record.key(), record.value(), stage, error);
    }

    public Mono<RecordMetadata> publish(String topic, int partition, long offset, byte[] key, byte[] value,
                                        String stage, Throwable error) {
        return publish(topic, partition, offset, key, value, stage, error.getClass().getName(), reasonOf(error));
    }

    /** With the error class and reason given explicitly, e.g. a reason that says how many retries were made. */
    Mono<RecordMetadata> publish(String topic, int partition, long offset, byte[] key, byte[] value,
                                 String stage, String errorClass, String reason) {
        return Mono.defer(() -> {
            DeadLetter letter = DeadLetter.newBuilder()
                    .setTopic(topic).setPartition(partition).setOffset(offset)
                    .setKey(key == null ? null : ByteBuffer.wrap(key))
                    .setValue(value == null ? null : ByteBuffer.wrap(value))
                    .setStage(stage)
                    .setErrorClass(errorClass)
                    .setReason(reason)
                    .setFailedBy(failedBy)
                    .setFailedAtMs(time.milliseconds())
                    .build();
            return producer.send(new ProducerRecord<>(Topics.dlq(topic), key, CODEC.encode(letter)));
        }).subscribeOn(sender);
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

    /** Waits for dead letters sent so far, then closes the producer if this publisher owns it. */
    @Override
    public void close() {
        if (ownsProducer) {
            producer.close();
        } else {
            producer.flush();
        }
        sender.dispose();
    }
}
