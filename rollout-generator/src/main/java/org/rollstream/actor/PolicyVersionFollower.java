package org.rollstream.actor;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads {@code policy.versions} from the beginning on its own thread, outside any consumer group
 * (every actor must see every version, and the compacted topic holds the latest per policy), and
 * hands announcements of one policy to a handler. It first reads up to the end of the log as it was
 * at start, so an actor joining late loads the latest weights directly rather than every old run's.
 * The latest announcement names the current run: only that run's announcements are offered, newest
 * (incarnation, version) first; earlier runs are recorded as retired in {@link AnnouncedRuns}. The
 * handler loads the weights on this thread, so building a new session never stalls sampling.
 */
final class PolicyVersionFollower implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PolicyVersionFollower.class);
    private static final AvroCodec<PolicyVersion> CODEC = AvroCodec.of(PolicyVersion.class);
    private static final Comparator<PolicyVersion> NEWEST_FIRST = Comparator
            .comparingLong(PolicyVersion::getIncarnation).thenComparingLong(PolicyVersion::getVersion).reversed();

    private final KafkaSettings settings;
    private final String policyName;
    private final AnnouncedRuns runs;
    private final Predicate<PolicyVersion> handler;
    private final Thread thread;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;

    /**
     * @param runs    told of every announcement of the policy, in log order
     * @param handler called with announcements of the current run, newest first; returns true when it
     *                needs no older one (it took that version, or already serves one at least as new)
     */
    PolicyVersionFollower(KafkaSettings settings, String policyName, String actorId, AnnouncedRuns runs,
                          Predicate<PolicyVersion> handler) {
        this.settings = settings;
        this.policyName = policyName;
        this.runs = runs;
        this.handler = handler;
        this.thread = new Thread(this::run, "rollstream-policy-follower-" + actorId);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        Properties props = settings.consumerProps("unused");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG); // assign() without a group: nothing to commit
        // asking for a missing topic must not create it uncompacted: the learner's admin creates it
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = awaitPartitions(consumer);
            if (partitions.isEmpty()) {
                return;
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            boolean caughtUp = false;
            List<PolicyVersion> unseen = new ArrayList<>(); // in log order (one policy = one key = one partition)
            while (!stopping) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    PolicyVersion v = decode(r);
                    if (v != null && policyName.equals(v.getPolicy().toString())) {
                        unseen.add(v);
                    }
                }
                if (!caughtUp) {
                    caughtUp = partitions.stream().allMatch(tp -> consumer.position(tp) >= end.getOrDefault(tp, 0L));
                }
                if (caughtUp && !unseen.isEmpty()) {
                    offer(unseen);
                    unseen = new ArrayList<>();
                }
            }
        } catch (RuntimeException e) {
            if (!stopping) {
                log.error("policy-version follower for '{}' stopped: {}", policyName, e.toString());
            }
        } finally {
            stopped.countDown();
        }
    }

    private void offer(List<PolicyVersion> inLogOrder) {
        for (PolicyVersion v : inLogOrder) {
            runs.announced(PolicyIdentity.of(v).runId());
        }
        String current = PolicyIdentity.of(inLogOrder.get(inLogOrder.size() - 1)).runId();
        List<PolicyVersion> candidates = new ArrayList<>();
        for (PolicyVersion v : inLogOrder) {
            if (PolicyIdentity.of(v).runId().equals(current)) {
                candidates.add(v);
            }
        }
        candidates.sort(NEWEST_FIRST);
        for (PolicyVersion v : candidates) {
            if (stopping || handler.test(v)) {
                break;
            }
        }
    }

    /** The topic may not exist yet when an actor starts before the learner: wait for it. */
    private List<TopicPartition> awaitPartitions(KafkaConsumer<byte[], byte[]> consumer) {
        while (!stopping) {
            List<PartitionInfo> infos;
            try {
                infos = consumer.partitionsFor(Topics.POLICY_VERSIONS, Duration.ofSeconds(5));
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                infos = null;
            }
            if (infos != null && !infos.isEmpty()) {
                List<TopicPartition> tps = new ArrayList<>();
                for (PartitionInfo p : infos) {
                    tps.add(new TopicPartition(p.topic(), p.partition()));
                }
                return tps;
            }
            sleep(500);
        }
        return List.of();
    }

    private PolicyVersion decode(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            return null; // tombstone: the policy was deleted; keep serving what we have
        }
        try {
            return CODEC.decode(r.value());
        } catch (RuntimeException e) {
            String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
            log.warn("ignoring undecodable policy version {}@{} (key '{}'): {}", r.partition(), r.offset(), key, e.getMessage());
            return null;
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        stopping = true;
        try {
            stopped.await(15, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
