package org.rollstream.transport;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.FluxSink;
import reactor.util.retry.Retry;

/**
 * The thread that owns one KafkaConsumer: polls, decodes, emits within downstream demand, pauses
 * and resumes, commits acked prefixes. Everything here except {@link #request} and {@link #stop}
 * runs on that thread, including the rebalance callbacks (they are invoked from inside poll).
 */
final class ConsumerLoop<V> implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);
    /** Poll timeout while paused: short, so returning demand resumes quickly without wakeup(). */
    private static final Duration PAUSED_POLL = Duration.ofMillis(5);
    private static final Duration REACHABLE_WITHIN = Duration.ofSeconds(10);

    private final ReactiveConsumer.Options<V> o;
    private final FluxSink<Received<V>> sink;
    private final ConsumerStats stats;
    private final AtomicLong demand = new AtomicLong();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final ArrayDeque<Received<V>> pending = new ArrayDeque<>();
    /** Per assigned partition, every polled record not committed yet, in offset order. */
    private final Map<TopicPartition, ArrayDeque<Received<V>>> uncommitted = new HashMap<>();
    private volatile boolean stopping;
    private KafkaConsumer<byte[], byte[]> consumer;
    private boolean paused;
    private long lastCommitNanos = System.nanoTime();

    ConsumerLoop(ReactiveConsumer.Options<V> options, FluxSink<Received<V>> sink, ConsumerStats stats) {
        this.o = options;
        this.sink = sink;
        this.stats = stats;
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

    @Override
    public void run() {
        Throwable failure = null;
        try {
            // the consumer would otherwise retry an unreachable cluster forever, silently
            o.settings.verifyReachable(REACHABLE_WITHIN);
            Properties props = o.settings.consumerProps(o.groupId);
            if (o.clientId != null) {
                props.put(ConsumerConfig.CLIENT_ID_CONFIG, o.clientId);
            }
            consumer = new KafkaConsumer<>(props);
            for (String topic : o.topics) {
                o.deadLetters.ensureDlqTopic(topic);
            }
            consumer.subscribe(o.topics, new Rebalance());
            while (!stopping) {
                emitPending();
                updatePause();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(paused ? PAUSED_POLL : o.pollTimeout)) {
                    accept(r);
                }
                emitPending();
                if (System.nanoTime() - lastCommitNanos >= o.commitInterval.toNanos()) {
                    commitAcked(false);
                }
            }
            drainForClose();
        } catch (Throwable t) {
            failure = t;
            log.error("consumer of group {} failed: {}", o.groupId, t.toString());
        } finally {
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

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        stats.polled.incrementAndGet();
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        ArrayDeque<Received<V>> queue = uncommitted.computeIfAbsent(tp, k -> new ArrayDeque<>());
        V value;
        try {
            value = o.decoder.apply(r.value());
        } catch (RuntimeException e) {
            Received<V> bad = new Received<>(r, null, o.deadLetters);
            bad.markEmitted(); // outstanding until the dead letter is written
            queue.add(bad);
            stats.deadLettered.incrementAndGet();
            o.deadLetters.publish(r, DeadLetterPublisher.STAGE_DECODE, e)
                    .retryWhen(Retry.backoff(5, Duration.ofMillis(200)))
                    .subscribe(m -> bad.ack(), err -> log.error(
                            "could not dead-letter {}-{}@{}; it stays uncommitted and will be redelivered: {}",
                            r.topic(), r.partition(), r.offset(), err.toString()));
            return;
        }
        Received<V> ok = new Received<>(r, value, o.deadLetters);
        queue.add(ok);
        pending.add(ok);
    }

    private void emitPending() {
        while (!pending.isEmpty() && demand.get() > 0 && !stopping) {
            Received<V> r = pending.poll();
            r.markEmitted();
            demand.decrementAndGet();
            stats.emitted.incrementAndGet();
            sink.next(r);
        }
    }

    /** Paused while records wait for demand; the poll keeps going either way. */
    private void updatePause() {
        boolean want = !pending.isEmpty() || demand.get() <= 0;
        Set<TopicPartition> assigned = consumer.assignment();
        if (want) {
            if (!paused || !consumer.paused().containsAll(assigned)) {
                consumer.pause(assigned);
                if (!paused) {
                    stats.pauses.incrementAndGet();
                }
                paused = true;
            }
        } else if (paused) {
            consumer.resume(consumer.paused());
            paused = false;
        }
    }

    /** Offsets after the contiguous acked prefix of each partition in {@code partitions}. */
    private Map<TopicPartition, OffsetAndMetadata> ackedPrefix(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : partitions) {
            ArrayDeque<Received<V>> queue = uncommitted.get(tp);
            if (queue == null) {
                continue;
            }
            Received<V> last = null;
            long n = 0;
            while (!queue.isEmpty() && queue.peek().isAcked()) {
                last = queue.poll();
                n++;
            }
            if (last != null) {
                offsets.put(tp, new OffsetAndMetadata(last.offset() + 1));
                stats.committed.addAndGet(n);
            }
        }
        return offsets;
    }

    private void commitAcked(boolean sync) {
        lastCommitNanos = System.nanoTime();
        Map<TopicPartition, OffsetAndMetadata> offsets = ackedPrefix(uncommitted.keySet());
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

    /** Hands out nothing more; waits (polling, so the group keeps us) for records in user hands. */
    private void drainForClose() {
        for (Received<V> r : pending) {
            r.discardPending();
        }
        pending.clear();
        consumer.pause(consumer.assignment());
        long deadline = System.nanoTime() + o.closeTimeout.toNanos();
        while (outstanding() > 0 && System.nanoTime() < deadline) {
            consumer.poll(PAUSED_POLL); // paused: returns nothing, serves callbacks and heartbeats
            if (System.nanoTime() - lastCommitNanos >= o.commitInterval.toNanos()) {
                commitAcked(false);
            }
        }
        commitAcked(true);
        long left = 0;
        for (ArrayDeque<Received<V>> q : uncommitted.values()) {
            left += q.size();
        }
        stats.uncommittedAtClose.addAndGet(left);
        uncommitted.clear(); // counted once: close() revokes the partitions again
    }

    private long outstanding() {
        long n = 0;
        for (ArrayDeque<Received<V>> q : uncommitted.values()) {
            for (Received<V> r : q) {
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
            ArrayDeque<Received<V>> q = uncommitted.remove(tp);
            if (q != null) {
                stats.uncommittedAtClose.addAndGet(q.size());
            }
        }
        for (Iterator<Received<V>> it = pending.iterator(); it.hasNext(); ) {
            Received<V> r = it.next();
            if (partitions.contains(new TopicPartition(r.topic(), r.partition()))) {
                r.discardPending();
                it.remove();
            }
        }
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = ackedPrefix(partitions);
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
            if (paused) {
                consumer.pause(partitions);
            }
        }
    }
}
