package org.rollstream.transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.transport.errors.ProcessingTimeoutException;
import org.rollstream.transport.errors.RetriableRecordException;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.time.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The thread that owns one KafkaConsumer: polls, decodes, emits within downstream demand, pauses
 * and resumes, redelivers retried records, expires deadlines and commits settled prefixes. Its state
 * is confined to that thread (rebalance callbacks run inside poll); other threads reach it only
 * through {@link #request}, {@link #stop} and the {@link RecordTracker} calls, which hand over
 * through thread-safe queues. It never blocks on anything but the consumer's own calls: dead letters
 * are written asynchronously by the {@link DeadLetterPublisher}.
 */
final class ConsumerLoop<V> implements Runnable, RecordTracker {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
    /** Poll timeout while paused: short, so returning demand resumes quickly without wakeup(). */
    private static final Duration PAUSED_POLL = Duration.ofMillis(5);
    private static final Duration REACHABLE_WITHIN = Duration.ofSeconds(10);
    /** Attempts to write one dead letter before the consumer gives up and fails. */
    private static final int DLQ_WRITE_RETRIES = 5;

    private final ReactiveConsumer.Options<V> o;
    private final Time time;
    private final FluxSink<Received<V>> sink;
    private final ConsumerStats stats;
    private final AtomicLong demand = new AtomicLong();
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** Records waiting for demand, first in line first: retries go to the front. */
    private final ArrayDeque<Received<V>> pending = new ArrayDeque<>();
    private final Map<TopicPartition, PartitionWindow<V>> windows = new HashMap<>();
    /** Retriable failures reported from other threads, for the poll thread to schedule. */
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
    private final PriorityQueue<Due<V>> retries = new PriorityQueue<>();
    private final AtomicReference<Throwable> fatal = new AtomicReference<>();
    private final long scanIntervalNs;
    private volatile boolean stopping;
    private KafkaConsumer<byte[], byte[]> consumer;
    private boolean pausedForDemand;
    private long lastCommitNs;
    private long lastScanNs;

    ConsumerLoop(ReactiveConsumer.Options<V> options, FluxSink<Received<V>> sink, ConsumerStats stats) {
        this.o = options;
        this.time = options.time;
        this.sink = sink;
        this.stats = stats;
        // deadlines are checked a few times per timeout, at most every second
        this.scanIntervalNs = Math.min(TimeUnit.SECONDS.toNanos(1), Math.max(1, options.processingTimeout.toNanos() / 4));
        this.lastCommitNs = time.nanoseconds();
        this.lastScanNs = lastCommitNs;
    }

    void start() {
        Thread t = new Thread(this, "rollstream-consumer-" + o.groupId);
        t.setDaemon(true);
        t.start();
    }

    void request(long n) {
        demand.getAndUpdate(d -> d + n < 0 ? Long.MAX_VALUE : d + n);
    }

    void stop() {
        stopping = true;
    }

    void awaitTermination(Duration timeout) {
        try {
            terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The deadline of a delivery that user code receives now. */
    long deadlineFromNow() {
        return time.nanoseconds() + o.processingTimeout.toNanos();
    }

    @Override
    public void run() {
        Throwable failure = null;
        try {
            startUp();
            while (!stopping && fatal.get() == null) {
                handleFailures();
                redeliverDue();
                expireDeadlines();
                emitPending();
                updatePause();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(pausedForDemand ? PAUSED_POLL : o.pollTimeout)) {
                    accept(r);
                }
                emitPending();
                if (time.nanoseconds() - lastCommitNs >= o.commitInterval.toNanos()) {
                    commitSettled(false);
                }
            }
            drainForClose();
            failure = fatal.get();
        } catch (Throwable t) {
            failure = t;
        } finally {
            if (failure != null) {
                log.error("consumer of group {} stops: {}", o.groupId, failure.toString());
            }
            closeConsumer();
            if (o.ownsDeadLetters) {
                o.deadLetters.close();
            }
            terminated.countDown();
            if (failure != null) {
                sink.error(failure);
            } else {
                sink.complete();
            }
        }
    }

    /** Before the first poll: fail fast on an unreachable cluster, make sure dead letters have a topic. */
    private void startUp() {
        // the consumer would otherwise retry an unreachable cluster forever, silently
        o.settings.verifyReachable(REACHABLE_WITHIN);
        try (TopicAdmin admin = new TopicAdmin(o.settings, time)) {
            admin.ensureDeadLetterTopics(o.topics);
        }
        Properties props = o.settings.consumerProps(o.groupId);
        if (o.clientId != null) {
            props.put(ConsumerConfig.CLIENT_ID_CONFIG, o.clientId);
        }
        consumer = new KafkaConsumer<>(props);
        consumer.subscribe(o.topics, new Rebalance());
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        stats.polled.incrementAndGet();
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        PartitionWindow<V> window = windows.computeIfAbsent(tp, k -> new PartitionWindow<>(o.ackWindow));
        V value;
        try {
            value = o.decoder.apply(r.value());
        } catch (RuntimeException e) {
            Received<V> bad = new Received<>(r, null, this);
            bad.markDeadLettering(); // never handed out; done once the dead letter is written
            window.add(bad);
            stats.decodeFailures.incrementAndGet();
            deadLetter(bad, DeadLetterPublisher.STAGE_DECODE, e);
            return;
        }
        Received<V> ok = new Received<>(r, value, this);
        window.add(ok);
        pending.add(ok);
    }

    private void emitPending() {
        while (!pending.isEmpty() && demand.get() > 0 && !stopping && fatal.get() == null) {
            Received<V> r = pending.poll();
            if (!r.markEmitted()) {
                continue; // settled or revoked while it waited
            }
            demand.decrementAndGet();
            stats.emitted.incrementAndGet();
            sink.next(r);
        }
    }

    /**
     * All partitions are paused while records wait for demand; otherwise those whose window of
     * unsettled records is full. The poll keeps going either way, so the group keeps the member.
     */
    private void updatePause() {
        Set<TopicPartition> assigned = consumer.assignment();
        boolean noDemand = !pending.isEmpty() || demand.get() <= 0;
        if (noDemand && !pausedForDemand) {
            stats.pauses.incrementAndGet();
        }
        pausedForDemand = noDemand;
        Set<TopicPartition> want = new HashSet<>();
        for (TopicPartition tp : assigned) {
            PartitionWindow<V> w = windows.get(tp);
            boolean full = w != null && w.isFull(stats);
            if (noDemand || full) {
                want.add(tp);
            }
        }
        Set<TopicPartition> paused = consumer.paused();
        Set<TopicPartition> resume = new HashSet<>(paused);
        resume.removeAll(want);
        want.removeAll(paused);
        if (!want.isEmpty()) {
            consumer.pause(want);
        }
        if (!resume.isEmpty()) {
            consumer.resume(resume);
        }
    }

    // ---- failures: retry with backoff, dead-letter, or stop

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
        return writeDeadLetter(r, stage, cause.getClass().getName(), DeadLetterPublisher.reasonOf(cause));
    }

    private Mono<Void> writeDeadLetter(Received<?> r, String stage, String errorClass, String reason) {
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

    /** Poll thread: retriable failures reported since the last turn are scheduled or dead-lettered. */
    private void handleFailures() {
        for (Failure f; (f = failures.poll()) != null; ) {
            @SuppressWarnings("unchecked")
            Received<V> r = (Received<V>) f.record;
            failed(r, f.cause);
        }
    }

    /** {@code r} is NACKED after its latest delivery failed with {@code cause}. */
    private void failed(Received<V> r, RetriableRecordException cause) {
        int deliveries = r.delivery();
        if (deliveries > o.retry.maxRetries()) {
            if (r.transition(Received.NACKED, Received.DEAD_LETTERING)) {
                writeDeadLetter(r, DeadLetterPublisher.STAGE_PROCESS, cause.getClass().getName(),
                        "gave up after " + deliveries + " deliveries: " + DeadLetterPublisher.reasonOf(cause));
            }
        } else if (r.transition(Received.NACKED, Received.WAITING_RETRY)) {
            long due = time.nanoseconds() + o.retry.backoff(deliveries).toNanos();
            retries.add(new Due<>(due, r));
        }
    }

    private void redeliverDue() {
        long now = time.nanoseconds();
        while (!retries.isEmpty() && now - retries.peek().dueNs >= 0) {
            Received<V> r = retries.poll().record;
            if (r.transition(Received.WAITING_RETRY, Received.PENDING)) {
                stats.retried.incrementAndGet();
                pending.addFirst(r);
            }
        }
    }

    /** Deliveries past their deadline fail retriably. Scans the windows a few times per timeout. */
    private void expireDeadlines() {
        long now = time.nanoseconds();
        if (now - lastScanNs < scanIntervalNs) {
            return;
        }
        lastScanNs = now;
        for (PartitionWindow<V> w : windows.values()) {
            for (Received<V> r : w) {
                if (r.isExpired(now) && r.transition(Received.EMITTED, Received.NACKED)) {
                    failed(r, new ProcessingTimeoutException("not settled within " + o.processingTimeout.toMillis()
                            + " ms of delivery " + r.delivery()));
                    stats.timedOut.incrementAndGet(); // after scheduling: who sees the count sees the retry's due time
                }
            }
        }
    }

    // ---- commits, close, rebalance

    private Map<TopicPartition, OffsetAndMetadata> settledPrefix(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            PartitionWindow<V> w = windows.get(tp);
            long next = w == null ? -1 : w.takeSettledPrefix(stats);
            if (next >= 0) {
                offsets.put(tp, new OffsetAndMetadata(next));
            }
        }
        return offsets;
    }

    private void commitSettled(boolean sync) {
        lastCommitNs = time.nanoseconds();
        Map<TopicPartition, OffsetAndMetadata> offsets = settledPrefix(windows.keySet());
        if (offsets.isEmpty()) {
            return;
        }
        if (sync) {
            consumer.commitSync(offsets, Duration.ofSeconds(10));
        } else {
            consumer.commitAsync(offsets, (committed, error) -> {
                if (error != null) { // a later commit or the commit at revoke/close covers it
                    log.warn("offset commit failed for group {}: {}", o.groupId, error.toString());
                }
            });
        }
    }

    /**
     * Hands out nothing more; waits (polling, so the group keeps us) for records in user hands and
     * dead letters being written. Records waiting for a retry are left for the next owner.
     */
    private void drainForClose() {
        for (Received<V> r : pending) {
            r.discardPending();
        }
        pending.clear();
        retries.clear();
        consumer.pause(consumer.assignment());
        Timer timer = time.timer(o.closeTimeout);
        while (outstanding() > 0 && !timer.isExpired()) {
            consumer.poll(PAUSED_POLL); // paused: returns nothing, serves callbacks and heartbeats
            failures.clear(); // no more retries
            if (time.nanoseconds() - lastCommitNs >= o.commitInterval.toNanos()) {
                commitSettled(false);
            }
        }
        commitSettled(true);
        long left = 0;
        for (PartitionWindow<V> w : windows.values()) {
            left += w.size();
        }
        stats.uncommittedAtClose.addAndGet(left);
        windows.clear(); // counted once: close() revokes the partitions again
    }

    private long outstanding() {
        long n = 0;
        for (PartitionWindow<V> w : windows.values()) {
            for (Received<V> r : w) {
                if (r.isOutstanding()) {
                    n++;
                }
            }
        }
        return n;
    }

    private void closeConsumer() {
        if (consumer == null) {
            return;
        }
        try {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
        } catch (RuntimeException e) {
            log.warn("closing consumer of group {}: {}", o.groupId, e.toString());
        }
    }

    /** Drops a partition's records: what was not committed will be redelivered to its next owner. */
    private void forget(Collection<TopicPartition> partitions) {
        stats.rebalances.incrementAndGet();
        for (TopicPartition tp : partitions) {
            PartitionWindow<V> w = windows.remove(tp);
            if (w != null) {
                stats.uncommittedAtClose.addAndGet(w.size());
                for (Received<V> r : w) {
                    r.revoke();
                }
            }
        }
        for (Iterator<Received<V>> it = pending.iterator(); it.hasNext(); ) {
            Received<V> r = it.next();
            if (partitions.contains(new TopicPartition(r.topic(), r.partition()))) {
                it.remove();
            }
        }
        // revoked records waiting for a retry are skipped when due: they are no longer WAITING_RETRY
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = settledPrefix(partitions);
            if (!offsets.isEmpty()) {
                try {
                    consumer.commitSync(offsets, Duration.ofSeconds(10));
                } catch (RuntimeException e) {
                    log.warn("commit on revoke failed for group {}: {}", o.groupId, e.toString());
                }
            }
            forget(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            forget(partitions); // another member owns them already: committing would fail
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (pausedForDemand) {
                consumer.pause(partitions);
            }
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
