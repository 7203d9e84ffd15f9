package org.rollstream.transport.weights;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.rollstream.schemas.records.WeightChunk;
import org.rollstream.transport.time.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one partition of the weights topic as the chunks arrive and assembles each version there,
 * so that when its announcement comes (the learner announces a version only once every chunk is
 * acknowledged) the version is already read: a hand-over's consume overlaps the learner's produce
 * instead of following it. {@link #take} hands out a version found here by its location (the offset
 * of its first chunk), or null, and the caller then fetches it the usual way: a version that began
 * before this prefetcher started, was evicted, or failed a check here.
 *
 * <p>Holds at most {@link #KEEP} versions (the newest, whole or in progress; each as large as a
 * weights file); chunks are checked as {@link ChunkAssembler} checks them, and a version is handed
 * out only when its whole sha-256 is the announced one. One thread of its own, one consumer.
 */
final class WeightPrefetcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WeightPrefetcher.class);
    /** Versions held at once: the one an actor is about to load and the next one coming. */
    static final int KEEP = 2;

    /** A version being assembled here; {@code failed} once a chunk did not check out. */
    private static final class Assembly {
        final long firstOffset;
        final ChunkAssembler assembler;
        final String sha256; // as its chunks say; null when they say none
        final long runIncarnation;
        final String key;
        boolean failed;

        Assembly(long firstOffset, WeightChunk c) {
            this.firstOffset = firstOffset;
            this.sha256 = c.getSha256() == null ? null : c.getSha256().toString();
            this.assembler = new ChunkAssembler(c.getPolicy().toString(), c.getRunId().toString(), c.getIncarnation(), c.getVersion(), sha256);
            this.runIncarnation = c.getIncarnation();
            this.key = keyOf(c);
        }
    }

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final TopicPartition partition;
    private final java.util.function.Function<ConsumerRecord<byte[], byte[]>, WeightChunk> decode;
    private final Deque<Assembly> held = new ArrayDeque<>(); // guarded by this; oldest first
    private final long startOffset; // where reading begins
    private long position; // guarded by this; the next offset to read
    private volatile boolean closed;
    private final Thread thread;

    /** Starts reading {@code partition} at {@code startOffset} (typically its end when a first version was fetched). */
    WeightPrefetcher(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition, long startOffset,
                     java.util.function.Function<ConsumerRecord<byte[], byte[]>, WeightChunk> decode, String name) {
        this.consumer = consumer;
        this.partition = partition;
        this.decode = decode;
        this.startOffset = startOffset;
        this.position = startOffset;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private void run() {
        try {
            consumer.assign(List.of(partition));
            consumer.seek(partition, startOffset);
            while (!closed) {
                var records = consumer.poll(Duration.ofMillis(200));
                long next = consumer.position(partition);
                synchronized (this) {
                    for (ConsumerRecord<byte[], byte[]> r : records) {
                        accept(r);
                    }
                    position = next;
                    notifyAll();
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            if (!closed) {
                log.warn("weights prefetcher on {} stopped: {}; versions are fetched from their offsets", partition, e.toString());
            }
        } finally {
            synchronized (this) {
                closed = true;
                notifyAll();
            }
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Called with the lock held. */
    private void accept(ConsumerRecord<byte[], byte[]> r) {
        WeightChunk c = decode.apply(r);
        if (c == null) {
            return;
        }
        Assembly a = null;
        for (Assembly x : held) {
            if (x.key.equals(keyOf(c))) {
                a = x;
            }
        }
        if (a == null) {
            if (c.getIndex() != 0) {
                return; // a version that began before this prefetcher: fetched from its offset
            }
            a = new Assembly(r.offset(), c);
            held.addLast(a);
            while (held.size() > KEEP) {
                held.removeFirst();
            }
        }
        if (a.failed) {
            return;
        }
        try {
            a.assembler.accept(c);
        } catch (WeightStoreException e) {
            a.failed = true; // the fetch from its offset will say why
        }
    }

    /**
     * The version whose first chunk is at {@code loc}'s offset, assembled here and matching
     * {@code sha256}, waiting while {@code timer} runs for the chunks still coming; null when it is
     * not to be had here (the caller fetches it from its offset).
     */
    byte[] take(KafkaWeightsLocation loc, String sha256, Timer timer) throws InterruptedException {
        Assembly found;
        synchronized (this) {
            while (true) {
                found = null;
                for (Assembly x : held) {
                    if (x.firstOffset == loc.offset()) {
                        found = x;
                    }
                }
                if (found != null && (found.failed || found.assembler.complete())) {
                    break;
                }
                boolean passed = found == null && position > loc.offset(); // read past its first chunk without keeping it
                if (closed || passed || loc.offset() < startOffset || timer.isExpired()) {
                    return null;
                }
                wait(Math.max(1, timer.remainingMs()));
            }
            held.remove(found);
        }
        if (found.failed || found.sha256 != null && !found.sha256.equalsIgnoreCase(sha256) || found.runIncarnation != loc.incarnation()) {
            return null;
        }
        try {
            return found.assembler.bytes(sha256); // the whole sha-256, mostly hashed while the chunks came
        } catch (WeightStoreException e) {
            return null;
        }
    }

    private static String keyOf(WeightChunk c) {
        return c.getPolicy() + "\n" + c.getRunId() + "\n" + c.getIncarnation() + "\n" + c.getVersion();
    }

    @Override
    public void close() {
        closed = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
