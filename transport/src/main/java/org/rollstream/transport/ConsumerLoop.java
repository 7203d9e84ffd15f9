package org.rollstream.transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.time.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.FluxSink;

/**
 * The thread that owns one KafkaConsumer: polls, decodes, emits within downstream demand, pauses
 * and resumes, redelivers retried records, expires deadlines and commits settled prefixes. Its state
 * is confined to that thread (rebalance callbacks run inside poll); other threads reach it only
 * through {@link #request}, {@link #stop} and {@link Redelivery}'s {@link RecordTracker} calls, which
 * hand over through thread-safe queues. Once polling has started it blocks on nothing but the
 * consumer's own calls: dead letters are written asynchronously by the {@link DeadLetterPublisher},
 * and admin calls happen only at start-up.
 */
final class ConsumerLoop<V> implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
    /** Poll timeout while paused: short, so returning demand resumes quickly without wakeup(). */
    private static final Duration PAUSED_POLL = Duration.ofMillis(5);
    private static final Duration REACHABLE_WITHIN = Duration.ofSeconds(10);

    private final ReactiveConsumer.Options<V> o;
    private final Time time;
    private final FluxSink<Received<V>> sink;
    private final ConsumerStats stats;
    private final AtomicLong demand = new AtomicLong();
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** Records waiting for demand, first in line first: retries go to the front. */
    private final ArrayDeque<Received<V>> pending = new ArrayDeque<>();
    private final Map<TopicPartition, PartitionWindow<V>> windows = new HashMap<>();
    private final Redelivery<V> redelivery;
    private volatile boolean stopping;
    private KafkaConsumer<byte[], byte[]> consumer;
    private boolean pausedForDemand;
    private long lastCommitNs;

    ConsumerLoop(ReactiveConsumer.Options<V> options, FluxSink<Received<V>> sink, ConsumerStats stats) {
        this.o = options;
        this.time = options.time;
        this.sink = sink;
        this.stats = stats;
        this.redelivery = new Redelivery<>(options, stats);
        this.lastCommitNs = time.nanoseconds();
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
            while (!stopping && redelivery.fatal() == null) {
                List<Received<V>> due = redelivery.step(windows.values());
                for (int i = due.size() - 1; i >= 0; i--) {
                    pending.addFirst(due.get(i)); // retries go first, earliest due first
                }
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
            failure = redelivery.fatal();
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
            Received<V> bad = new Received<>(r, null, redelivery);
            bad.markDeadLettering(); // never handed out; done once the dead letter is written
            window.add(bad);
            stats.decodeFailures.incrementAndGet();
            redelivery.deadLetter(bad, DeadLetterPublisher.STAGE_DECODE, e);
            return;
        }
        Received<V> ok = new Received<>(r, value, redelivery);
        window.add(ok);
        pending.add(ok);
    }

    private void emitPending() {
        while (!pending.isEmpty() && demand.get() > 0 && !stopping && redelivery.fatal() == null) {
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
        redelivery.clear();
        consumer.pause(consumer.assignment());
        Timer timer = time.timer(o.closeTimeout);
        while (outstanding() > 0 && !timer.isExpired()) {
            consumer.poll(PAUSED_POLL); // paused: returns nothing, serves callbacks and heartbeats
            redelivery.clear(); // no more retries
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
}
