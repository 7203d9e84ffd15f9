package org.rollstream.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.rollstream.transport.errors.ProcessingTimeoutException;
import org.rollstream.transport.errors.RetriableRecordException;
import org.rollstream.transport.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * What becomes of records whose processing failed. A retriable failure waits out its
 * {@link RetryPolicy} backoff and goes back in line, or is dead-lettered once the retries are used
 * up; a delivery past its processing deadline counts as a retriable failure; a bad record is
 * dead-lettered at once; a fatal error is kept for the poll loop to stop on.
 *
 * <p>The {@link RecordTracker} methods may be called from any thread and only hand over (a
 * concurrent queue, an atomic reference, an asynchronous dead letter). {@link #step} and
 * {@link #clear} run on the poll thread, which owns the backoff queue.
 */
final class Redelivery<V> implements RecordTracker {
    private static final Logger log = LoggerFactory.getLogger(Redelivery.class);
    /** Attempts to write one dead letter before the consumer gives up and fails. */
    private static final int DLQ_WRITE_RETRIES = 5;

    private final ReactiveConsumer.Options<V> o;
    private final Time time;
    private final ConsumerStats stats;
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Due<V>> backoffs = new PriorityQueue<>();
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final long scanIntervalNs;
    private long lastScanNs;

    Redelivery(ReactiveConsumer.Options<V> options, ConsumerStats stats) {
        this.o = options;
        this.time = options.time;
        this.stats = stats;
        // deadlines are checked a few times per timeout, at most every second
        this.scanIntervalNs = Math.min(TimeUnit.SECONDS.toNanos(1), Math.max(1, options.processingTimeout.toNanos() / 4));
        this.lastScanNs = time.nanoseconds();
    }

    /** The first fatal error reported, or null. */
    Throwable fatal() {
        return fatal.get();
    }

    @Override
    public void retry(Received<?> r, RetriableRecordException cause) {
        failures.add(new Failure(r, cause));
    }

    @Override
    public void fatal(Received<?> r, Throwable cause) {
        if (fatal.compareAndSet(null, cause)) {
            log.error("processing {} failed with an error that is neither a bad record nor retriable; stopping", r, cause);
        }
    }

    @Override
    public Mono<Void> deadLetter(Received<?> r, String stage, Throwable cause) {
        return deadLetter(r, stage, cause.getClass().getName(), DeadLetterPublisher.reasonOf(cause));
    }

    /** Writes the dead letter asynchronously; acks {@code r} once written; a write that keeps failing is fatal. */
    private Mono<Void> deadLetter(Received<?> r, String stage, String errorClass, String reason) {
        var rec = r.record();
        Mono<Void> done = o.deadLetters
                .publish(rec.topic(), rec.partition(), rec.offset(), rec.key(), rec.value(), stage, errorClass, reason)
                .retryWhen(Retry.backoff(DLQ_WRITE_RETRIES, Duration.ofMillis(200)))
                .doOnSuccess(m -> {
                    if (r.transition(Received.DEAD_LETTERING, Received.ACKED)) {
                        stats.deadLettered.incrementAndGet();
                    }
                })
                .then()
                .cache();
        done.subscribe(v -> { }, e -> fatal(r, new IllegalStateException(
                "could not write the dead letter of " + r + " (" + reason + "): " + KafkaSettings.rootMessage(e), e)));
        return done;
    }

    /**
     * Poll thread, once per turn: schedules the failures reported since the last turn, fails the
     * deliveries past their deadline, and returns the records whose backoff has passed, earliest
     * first, now {@code PENDING} again.
     */
    List<Received<V>> step(Collection<PartitionWindow<V>> windows) {
        for (Failure f; (f = failures.poll()) != null; ) {
            @SuppressWarnings("unchecked")
            Received<V> r = (Received<V>) f.record;
            failed(r, f.cause);
        }
        long now = time.nanoseconds();
        if (now - lastScanNs >= scanIntervalNs) {
            lastScanNs = now;
            expire(windows, now);
        }
        List<Received<V>> due = new ArrayList<>();
        while (!backoffs.isEmpty() && now - backoffs.peek().dueNs >= 0) {
            Received<V> r = backoffs.poll().record;
            if (r.transition(Received.WAITING_RETRY, Received.PENDING)) { // not acked late, not revoked
                stats.retried.incrementAndGet();
                due.add(r);
            }
        }
        return due;
    }

    /** Poll thread, at close: nothing is retried any more; those records stay uncommitted. */
    void clear() {
        failures.clear();
        backoffs.clear();
    }

    private void expire(Collection<PartitionWindow<V>> windows, long now) {
        for (PartitionWindow<V> w : windows) {
            for (Received<V> r : w) {
                if (r.isExpired(now) && r.transition(Received.EMITTED, Received.NACKED)) {
                    failed(r, new ProcessingTimeoutException("not settled within " + o.processingTimeout.toMillis()
                            + " ms of delivery " + r.delivery()));
                    stats.timedOut.incrementAndGet(); // after scheduling: who sees the count sees the retry's due time
                }
            }
        }
    }

    /** {@code r} is NACKED after its latest delivery failed with {@code cause}. */
    private void failed(Received<V> r, RetriableRecordException cause) {
        int deliveries = r.delivery();
        if (deliveries > o.retry.maxRetries()) {
            if (r.transition(Received.NACKED, Received.DEAD_LETTERING)) {
                deadLetter(r, DeadLetterPublisher.STAGE_PROCESS, cause.getClass().getName(),
                        "gave up after " + deliveries + " deliveries: " + DeadLetterPublisher.reasonOf(cause));
            }
        } else if (r.transition(Received.NACKED, Received.WAITING_RETRY)) {
            backoffs.add(new Due<>(time.nanoseconds() + o.retry.backoff(deliveries).toNanos(), r));
        }
    }

    private record Failure(Received<?> record, RetriableRecordException cause) {
    }

    private record Due<V>(long dueNs, Received<V> record) implements Comparable<Due<V>> {
        @Override
        public int compareTo(Due<V> other) {
            return Long.compare(dueNs, other.dueNs);
        }
    }
}
