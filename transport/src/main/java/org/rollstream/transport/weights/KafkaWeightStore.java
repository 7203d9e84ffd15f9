package org.rollstream.transport.weights;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.WeightChunk;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.time.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Weights on a Kafka topic ({@link Topics#POLICY_WEIGHTS}), so roles share nothing but the cluster.
 * {@link #put} sends a version as {@link WeightChunk}s of at most {@link Topics#WEIGHT_CHUNK_BYTES}
 * to partition 0 and returns once all are acknowledged; the location it returns names the first
 * chunk's offset. Chunks are keyed {@code <policy>/<version mod WEIGHT_SLOTS>/<index>}, so the
 * compacted topic keeps the last {@link Topics#WEIGHT_SLOTS} versions.
 *
 * <p>{@link #fetch} reads from that offset to the end of the log as it was when the fetch began,
 * assembling the version ({@link ChunkAssembler}); if its chunks are not all there (compacted away
 * because several newer versions came meanwhile, or never fully written), the version is refused as
 * partial: it never waits for chunks that cannot come. Producer and consumer are opened on first
 * use; one store may both put and fetch. Fetches are serialised (one consumer).
 *
 * <p>A {@linkplain #prefetching prefetching} store (an actor's) also reads the weights topic as
 * chunks arrive, from its first fetch on ({@link WeightPrefetcher}): a later version is then mostly
 * read by the time it is announced, and its fetch waits only for the last chunks.
 */
public final class KafkaWeightStore implements WeightStore {
    private static final Logger log = LoggerFactory.getLogger(KafkaWeightStore.class);
    private static final AvroCodec<WeightChunk> CODEC = AvroCodec.of(WeightChunk.class);
    /** A put or a fetch that takes longer than this has failed (a 500 MB version takes seconds). */
    private static final Duration DEADLINE = Duration.ofSeconds(120);
    /** How long a fetch waits for the prefetcher to finish a version before reading it from its offset. */
    private static final Duration PREFETCH_WAIT = Duration.ofSeconds(30);

    private final KafkaSettings settings;
    private final String topic;
    private final String clientId;
    private final int chunkBytes;
    private KafkaProducer<byte[], byte[]> producer; // guarded by this
    private volatile KafkaConsumer<byte[], byte[]> consumer; // written under fetchLock; read by close to wake it
    private volatile boolean closed;
    private final Object fetchLock = new Object();
    private long skippedRecords; // guarded by fetchLock
    private long prefetched; // guarded by fetchLock
    private final boolean prefetch;
    private volatile WeightPrefetcher prefetcher; // written under fetchLock, by the first fetch of a prefetching store

    public KafkaWeightStore(KafkaSettings settings, String clientId) {
        this(settings, Topics.POLICY_WEIGHTS, clientId, Topics.WEIGHT_CHUNK_BYTES);
    }

    /** For tests: another topic or chunk size. */
    public KafkaWeightStore(KafkaSettings settings, String topic, String clientId, int chunkBytes) {
        this(settings, topic, clientId, chunkBytes, false);
    }

    /** A store whose fetches are prefetched from the first one on (see the class comment): an actor's. */
    public static KafkaWeightStore prefetching(KafkaSettings settings, String clientId) {
        return new KafkaWeightStore(settings, Topics.POLICY_WEIGHTS, clientId, Topics.WEIGHT_CHUNK_BYTES, true);
    }

    /** For tests: a prefetching store on another topic. */
    static KafkaWeightStore prefetching(KafkaSettings settings, String topic, String clientId) {
        return new KafkaWeightStore(settings, topic, clientId, Topics.WEIGHT_CHUNK_BYTES, true);
    }

    private KafkaWeightStore(KafkaSettings settings, String topic, String clientId, int chunkBytes, boolean prefetch) {
        if (chunkBytes < 1 || chunkBytes > Topics.WEIGHT_CHUNK_BYTES) {
            throw new IllegalArgumentException("chunk size must be in [1, " + Topics.WEIGHT_CHUNK_BYTES + "], got " + chunkBytes);
        }
        this.settings = settings;
        this.topic = topic;
        this.clientId = clientId;
        this.chunkBytes = chunkBytes;
        this.prefetch = prefetch;
    }

    @Override
    public String put(WeightBlob blob) {
        List<WeightChunk> chunks = WeightChunks.split(blob, chunkBytes);
        KafkaProducer<byte[], byte[]> p = producer();
        List<Future<RecordMetadata>> sent = new ArrayList<>(chunks.size());
        long slot = blob.version() % Topics.WEIGHT_SLOTS;
        for (WeightChunk c : chunks) {
            byte[] key = (blob.policy() + "/" + slot + "/" + c.getIndex()).getBytes(StandardCharsets.UTF_8);
            sent.add(p.send(new ProducerRecord<>(topic, 0, key, CODEC.encode(c))));
        }
        Timer timer = Time.SYSTEM.timer(DEADLINE);
        long first = -1;
        try {
            for (Future<RecordMetadata> f : sent) {
                RecordMetadata m = f.get(Math.max(1, timer.remainingMs()), TimeUnit.MILLISECONDS);
                if (first < 0) {
                    first = m.offset();
                }
            }
        } catch (ExecutionException e) {
            throw new WeightStoreException("the broker refused a chunk of policy version " + blob.version() + ": " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new WeightStoreException("policy version " + blob.version() + " was not acknowledged within " + DEADLINE.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WeightStoreException("interrupted while sending policy version " + blob.version(), e);
        }
        return new KafkaWeightsLocation(topic, blob.runId(), blob.incarnation(), blob.version(), 0, first, chunks.size()).format();
    }

    @Override
    public Fetched fetch(String location, String sha256) {
        KafkaWeightsLocation loc = KafkaWeightsLocation.parse(location);
        synchronized (fetchLock) {
            try {
                return fetch(loc, location, sha256);
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                throw new WeightStoreException("fetch of " + location + " cut short: the store is closing", e);
            }
        }
    }

    private Fetched fetch(KafkaWeightsLocation loc, String location, String sha256) {
        KafkaConsumer<byte[], byte[]> c = consumer();
        TopicPartition tp = new TopicPartition(loc.topic(), loc.partition());
        long t0 = System.nanoTime();
        if (prefetcher != null) {
            try {
                byte[] ready = prefetcher.take(loc, sha256, Time.SYSTEM.timer(PREFETCH_WAIT));
                if (ready != null) {
                    prefetched++;
                    return new Fetched(ready, System.nanoTime() - t0, 0);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WeightStoreException("interrupted while fetching " + location, e);
            }
        }
        c.assign(List.of(tp));
        long end = c.endOffsets(List.of(tp)).getOrDefault(tp, 0L);
        if (prefetch && prefetcher == null && !closed) { // versions put from now on are read as they arrive
            prefetcher = new WeightPrefetcher(newConsumer("-prefetch"), tp, end, r -> decode(r, false), clientId + "-weights-prefetch");
        }
        if (loc.offset() >= end) {
            throw new WeightStoreException("weights at " + location + " are not on the broker: the log of " + tp + " ends at " + end);
        }
        c.seek(tp, loc.offset());
        ChunkAssembler assembler = null;
        Timer timer = Time.SYSTEM.timer(DEADLINE);
        while ((assembler == null || !assembler.complete()) && c.position(tp) < end) {
            if (timer.isExpired()) {
                throw new WeightStoreException("weights at " + location + " not read within " + DEADLINE.toSeconds() + " s"
                        + (assembler == null ? "" : ": " + assembler.progress()));
            }
            for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                WeightChunk chunk = decode(r);
                if (chunk == null) {
                    continue;
                }
                if (assembler == null) { // the location does not name the policy: the first chunk of this version does
                    if (!sameVersion(chunk, loc)) {
                        continue;
                    }
                    assembler = new ChunkAssembler(chunk.getPolicy().toString(), loc.runId(), loc.incarnation(), loc.version(), sha256);
                }
                assembler.accept(chunk);
            }
        }
        if (assembler == null) {
            throw new WeightStoreException("no chunk of run '" + loc.runId() + "' v" + loc.version() + " between offsets "
                    + loc.offset() + " and " + end + " of " + tp + " (compacted away after newer versions?)");
        }
        byte[] bytes = assembler.bytes(); // throws when partial or altered
        long verify = assembler.verifyNanos();
        return new Fetched(bytes, System.nanoTime() - t0 - verify, verify);
    }

    private static boolean sameVersion(WeightChunk c, KafkaWeightsLocation loc) {
        return c.getVersion() == loc.version() && c.getIncarnation() == loc.incarnation() && loc.runId().equals(c.getRunId().toString());
    }

    private WeightChunk decode(ConsumerRecord<byte[], byte[]> r) {
        return decode(r, true);
    }

    /**
     * The chunk, or null for a tombstone or an undecodable record.
     *
     * @param fetched a fetch's record (under fetchLock: counted in {@link #skippedRecords()}, warned about); else
     *                the prefetcher's, only logged at debug (a fetch of that version will meet it and say so)
     */
    private WeightChunk decode(ConsumerRecord<byte[], byte[]> r, boolean fetched) {
        if (r.value() == null) {
            return null;
        }
        try {
            return CODEC.decode(r.value());
        } catch (RuntimeException e) {
            if (fetched) {
                skippedRecords++;
                log.warn("skipping undecodable record {}@{} on {}: {}", r.partition(), r.offset(), r.topic(), e.getMessage());
            } else {
                log.debug("prefetch skips undecodable record {}@{} on {}: {}", r.partition(), r.offset(), r.topic(), e.getMessage());
            }
            return null;
        }
    }

    /** Records on the weights topic that did not decode as a chunk (skipped, logged). */
    public long skippedRecords() {
        synchronized (fetchLock) {
            return skippedRecords;
        }
    }

    /** Fetches the prefetcher served (the rest read their version from its offset). */
    public long prefetchedFetches() {
        synchronized (fetchLock) {
            return prefetched;
        }
    }

    @Override
    public boolean handles(String location) {
        return location != null && location.startsWith(KafkaWeightsLocation.SCHEME);
    }

    private synchronized KafkaProducer<byte[], byte[]> producer() {
        if (producer == null) {
            Properties p = settings.producerProps();
            p.put(ProducerConfig.CLIENT_ID_CONFIG, clientId + "-weights");
            // each chunk is a batch of its own; room for a whole large version in flight
            p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(Topics.WEIGHT_CHUNK_BYTES + 64 * 1024));
            p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(256L << 20));
            p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
            p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none"); // weights do not compress
            p.put(ProducerConfig.SEND_BUFFER_CONFIG, "-1");
            p.putAll(Map.copyOf(settings.clientProperties()));
            producer = new KafkaProducer<>(p);
        }
        return producer;
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        if (closed) {
            throw new WeightStoreException("the weight store is closed");
        }
        if (consumer == null) {
            consumer = newConsumer("");
        }
        return consumer;
    }

    private KafkaConsumer<byte[], byte[]> newConsumer(String suffix) {
        Properties p = settings.consumerProps("unused");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG); // assign() without a group: nothing to commit
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-weights" + suffix);
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(32 << 20));
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(64 << 20));
        p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, "-1");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "64");
        p.putAll(Map.copyOf(settings.clientProperties()));
        return new KafkaConsumer<>(p);
    }

    /** Closes producer and consumer; a fetch in progress is woken and fails. */
    @Override
    public void close() {
        closed = true;
        KafkaConsumer<byte[], byte[]> c = consumer;
        if (c != null) {
            c.wakeup(); // the one thread-safe consumer call: a fetch in poll() ends now rather than at its deadline
        }
        WeightPrefetcher pf = prefetcher; // not under fetchLock: a fetch waiting on the prefetcher holds it
        if (pf != null) {
            pf.close(); // a fetch waiting on it gives up and reads from the offset, where the woken consumer ends it
        }
        synchronized (this) {
            if (producer != null) {
                producer.close(Duration.ofSeconds(10));
                producer = null;
            }
        }
        synchronized (fetchLock) {
            if (consumer != null) {
                consumer.close(Duration.ofSeconds(5));
                consumer = null;
            }
        }
    }
}
