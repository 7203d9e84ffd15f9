package org.rollstream.transport;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.rollstream.transport.errors.BadRecordException;
import org.rollstream.transport.errors.RetriableRecordException;
import reactor.core.Exceptions;
import reactor.core.publisher.Mono;

/**
 * One consumed record with its decoded value. Settle every record handed to you exactly once, from
 * any thread and in any order:
 * <ul>
 *   <li>{@link #ack()}: processed. Offsets are committed up to the first record of a partition that
 *       is not settled yet.</li>
 *   <li>{@link #nack(Throwable)} with a {@link BadRecordException}: the record can never be
 *       processed; it goes to {@code <topic>.dlq} with the exception's message as the reason and
 *       counts as acked once the dead letter is written.</li>
 *   <li>{@code nack} with a {@link RetriableRecordException}: delivered again after a backoff, up to
 *       the consumer's {@link RetryPolicy}; a failure after the last retry dead-letters it with the
 *       last reason.</li>
 *   <li>{@code nack} with anything else: a bug or fatal condition. The record stays uncommitted (the
 *       next owner of the partition gets it again), the consumer stops handing out records, commits
 *       what was acked and its Flux terminates with that error.</li>
 * </ul>
 * A record neither acked nor nacked within the consumer's processing timeout is treated as failed
 * retriably ({@link org.rollstream.transport.errors.ProcessingTimeoutException}). A record may thus be
 * delivered more than once; an ack of any delivery settles it, a nack counts only while a delivery is
 * outstanding. Once its partition is revoked, settling a record has no effect: the partition's next
 * owner receives it again.
 */
public final class Received<V> {
    static final int PENDING = 0;        // polled, waiting for downstream demand (or for its retry)
    static final int EMITTED = 1;        // handed downstream, not settled yet
    static final int ACKED = 2;          // done: processed, or its dead letter written; may be committed
    static final int NACKED = 3;         // failed retriably or fatally; the poll thread decides what next
    static final int DEAD_LETTERING = 4; // its dead letter is being written
    static final int WAITING_RETRY = 5;  // failed retriably, waits out its backoff
    static final int DISCARDED = 6;      // dropped unprocessed (cancel, revoked partition): redelivered later

    private static final long NO_DEADLINE = Long.MAX_VALUE;
    @SuppressWarnings("rawtypes")
    private static final AtomicIntegerFieldUpdater<Received> STATUS =
            AtomicIntegerFieldUpdater.newUpdater(Received.class, "status");

    private final ConsumerRecord<byte[], byte[]> record;
    private final V value;
    private final RecordTracker tracker;
    private volatile int status = PENDING;
    /** When the current delivery expires, on the consumer's Time; set as user code receives it. */
    private volatile long deadlineNs = NO_DEADLINE;
    /** Deliveries so far; read and written by the poll thread only. */
    private int deliveries;

    Received(ConsumerRecord<byte[], byte[]> record, V value, RecordTracker tracker) {
        this.record = record;
        this.value = value;
        this.tracker = tracker;
    }

    /** The decoded value; null only for records that failed to decode, which are never handed out. */
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

    /** How many times this record has been handed out, this delivery included (1 on the first). */
    public int delivery() {
        return deliveries;
    }

    /** Marks the record processed; its offset may now be committed. Idempotent. */
    public void ack() {
        int s = status;
        while ((s == EMITTED || s == NACKED || s == WAITING_RETRY) && !STATUS.compareAndSet(this, s, ACKED)) {
            s = status;
        }
    }

    /**
     * Reports that processing failed; what follows depends on the error's type (see the class
     * documentation). Reactor's wrappers are looked through. Ignored when the record is already
     * settled or its partition was revoked, except that a fatal error always stops the consumer.
     */
    public void nack(Throwable error) {
        Throwable e = Exceptions.unwrap(error);
        if (e instanceof BadRecordException) {
            if (STATUS.compareAndSet(this, EMITTED, DEAD_LETTERING)) {
                tracker.deadLetter(this, DeadLetterPublisher.STAGE_PROCESS, e);
            }
        } else if (e instanceof RetriableRecordException retriable) {
            if (STATUS.compareAndSet(this, EMITTED, NACKED)) {
                tracker.retry(this, retriable);
            }
        } else {
            STATUS.compareAndSet(this, EMITTED, NACKED);
            tracker.fatal(this, e);
        }
    }

    /**
     * Dead-letters the record with {@code error} whatever its type (stage {@code process}); it is acked
     * once the dead letter is written, which the returned Mono tells. Starts at once.
     *
     * @deprecated say what kind of failure it is: {@code nack(new BadRecordException(reason))} for
     *             input that can never be processed, a {@link RetriableRecordException} for a failure
     *             that may pass; any other error is a bug and should stop the role.
     */
    @Deprecated
    public Mono<Void> fail(Throwable error) {
        if (!STATUS.compareAndSet(this, EMITTED, DEAD_LETTERING)) {
            return Mono.empty();
        }
        return tracker.deadLetter(this, DeadLetterPublisher.STAGE_PROCESS, error);
    }

    // ---- for the consumer

    int status() {
        return status;
    }

    boolean isAcked() {
        return status == ACKED;
    }

    /** In user hands or being dead-lettered: close waits for these. */
    boolean isOutstanding() {
        int s = status;
        return s == EMITTED || s == DEAD_LETTERING;
    }

    boolean transition(int from, int to) {
        return STATUS.compareAndSet(this, from, to);
    }

    /**
     * Handed downstream by the poll thread; the deadline starts when user code receives it.
     *
     * @return false when it was settled or revoked meanwhile and must not be handed out
     */
    boolean markEmitted() {
        deadlineNs = NO_DEADLINE;
        if (!STATUS.compareAndSet(this, PENDING, EMITTED)) {
            return false;
        }
        deliveries++;
        return true;
    }

    /** User code receives it now: its processing deadline starts. */
    void markDelivered(long deadlineNs) {
        this.deadlineNs = deadlineNs;
    }

    boolean isExpired(long nowNs) {
        return status == EMITTED && nowNs - deadlineNs >= 0 && deadlineNs != NO_DEADLINE;
    }

    /** Decode failed: dead-lettered at once, never handed out. */
    void markDeadLettering() {
        status = DEAD_LETTERING;
    }

    /** Dropped by Reactor before it reached user code (e.g. buffered when the Flux was cancelled). */
    void discard() {
        STATUS.compareAndSet(this, EMITTED, DISCARDED);
    }

    void discardPending() {
        STATUS.compareAndSet(this, PENDING, DISCARDED);
    }

    /** Its partition was revoked: whatever is not done or being dead-lettered is left to the next owner. */
    void revoke() {
        STATUS.getAndUpdate(this, s -> s == ACKED || s == DEAD_LETTERING ? s : DISCARDED);
    }

    ConsumerRecord<byte[], byte[]> record() {
        return record;
    }

    @Override
    public String toString() {
        return "Received[" + record.topic() + "-" + record.partition() + "@" + record.offset() + "]";
    }
}
