package org.rollstream.transport;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import reactor.core.publisher.Mono;

/**
 * One consumed record with its decoded value. Call {@link #ack()} once it is processed: offsets are
 * committed only up to the first record of a partition that is not acked yet. Or call
 * {@link #fail(Throwable)} to dead-letter it (it is acked once the dead letter is written).
 * Acks may come from any thread and in any order.
 */
public final class Received<V> {
    static final int PENDING = 0;   // polled, waiting for downstream demand
    static final int EMITTED = 1;   // handed downstream (or to the DLQ), not done yet
    static final int ACKED = 2;     // done: may be committed
    static final int DISCARDED = 3; // dropped before processing (cancel): will be redelivered

    private static final AtomicIntegerFieldUpdater<Received> STATUS =
            AtomicIntegerFieldUpdater.newUpdater(Received.class, "status");

    private final ConsumerRecord<byte[], byte[]> record;
    private final V value;
    private final DeadLetterPublisher deadLetters;
    private volatile int status = PENDING;

    Received(ConsumerRecord<byte[], byte[]> record, V value, DeadLetterPublisher deadLetters) {
        this.record = record;
        this.value = value;
        this.deadLetters = deadLetters;
    }

    public V value() {
        return value;
    }

    /** The key as UTF-8 text (our keys are ids), or null. */
    public String key() {
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    public byte[] rawKey() {
        return record.key();
    }

    public byte[] rawValue() {
        return record.value();
    }

    public String topic() {
        return record.topic();
    }

    public int partition() {
        return record.partition();
    }

    public long offset() {
        return record.offset();
    }

    public long timestamp() {
        return record.timestamp();
    }

    /** Marks the record processed; its offset may now be committed. Idempotent. */
    public void ack() {
        STATUS.compareAndSet(this, EMITTED, ACKED);
    }

    /**
     * Sends the record with {@code error} to {@code <topic>.dlq} (stage {@code process}) and acks it
     * once the dead letter is acknowledged by the broker. Starts at once; the returned Mono tells
     * when it is done. If the DLQ write fails the record stays unacked and is redelivered later.
     */
    public Mono<Void> fail(Throwable error) {
        Mono<Void> done = deadLetters.publish(record, DeadLetterPublisher.STAGE_PROCESS, error)
                .doOnSuccess(m -> ack()).then().cache();
        done.subscribe(v -> { }, e -> { });
        return done;
    }

    boolean isAcked() {
        return status == ACKED;
    }

    boolean isOutstanding() {
        return status == EMITTED;
    }

    void markEmitted() {
        status = EMITTED;
    }

    /** Dropped by Reactor before it reached user code (e.g. buffered when the Flux was cancelled). */
    void discard() {
        STATUS.compareAndSet(this, EMITTED, DISCARDED);
    }

    void discardPending() {
        STATUS.compareAndSet(this, PENDING, DISCARDED);
    }

    ConsumerRecord<byte[], byte[]> record() {
        return record;
    }

    @Override
    public String toString() {
        return "Received[" + record.topic() + "-" + record.partition() + "@" + record.offset() + "]";
    }
}
