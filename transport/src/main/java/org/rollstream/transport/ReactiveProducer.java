package org.rollstream.transport;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Function;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An idempotent producer ({@code enable.idempotence=true}, {@code acks=all}) exposed as Reactor
 * types. Keys are strings (prompt id, policy name, role): they decide the partition. Thread-safe.
 * A {@code send} may block its caller while the producer's buffer is full or metadata is missing
 * (bounded by {@code max.block.ms}); that is the producer's backpressure.
 */
public final class ReactiveProducer implements AutoCloseable {
    private final KafkaProducer<byte[], byte[]> producer;

    private ReactiveProducer(KafkaProducer<byte[], byte[]> producer) {
        this.producer = producer;
    }

    public static ReactiveProducer create(KafkaSettings settings, String clientId) {
        var props = settings.producerProps();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return new ReactiveProducer(new KafkaProducer<>(props));
    }

    /** Completes once the broker acknowledged the record (all in-sync replicas). Lazy: sends on subscribe. */
    public Mono<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        return Mono.create(sink -> {
            try {
                producer.send(record, (metadata, error) -> {
                    if (error != null) {
                        sink.error(error);
                    } else {
                        sink.success(metadata);
                    }
                });
            } catch (RuntimeException e) { // serialization, buffer exhausted, closed producer
                sink.error(e);
            }
        });
    }

    public Mono<RecordMetadata> send(String topic, String key, byte[] value) {
        return send(new ProducerRecord<>(topic, keyBytes(key), value));
    }

    public <V> Mono<RecordMetadata> send(String topic, String key, V value, Function<? super V, byte[]> encoder) {
        return Mono.defer(() -> send(topic, key, encoder.apply(value)));
    }

    /**
     * Sends records in order with at most {@code maxInFlight} unacknowledged; emits metadata in
     * the same order. Records are handed to the producer in publisher order, so per-partition
     * order holds (idempotence keeps it across retries).
     */
    public Flux<RecordMetadata> sendAll(Publisher<ProducerRecord<byte[], byte[]>> records, int maxInFlight) {
        return Flux.from(records).flatMapSequential(this::send, maxInFlight, 1);
    }

    public Flux<RecordMetadata> sendAll(Publisher<ProducerRecord<byte[], byte[]>> records) {
        return sendAll(records, 1024);
    }

    /** Blocks until everything sent so far is acknowledged or failed. */
    public void flush() {
        producer.flush();
    }

    /** Flushes and closes; records sent before close are delivered (or their Monos fail). */
    @Override
    public void close() {
        producer.close(Duration.ofSeconds(30));
    }

    static byte[] keyBytes(String key) {
        return key == null ? null : key.getBytes(StandardCharsets.UTF_8);
    }
}
