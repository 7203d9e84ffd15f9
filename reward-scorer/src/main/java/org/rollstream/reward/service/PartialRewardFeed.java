package org.rollstream.reward.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.rollstream.reward.topic.ComponentJoin;
import org.rollstream.reward.topic.PartialRewardCodec;
import org.rollstream.reward.topic.PartialScore;
import org.rollstream.schemas.Topics;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.transport.errors.BadRecordException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds {@code rewards.partial} into a {@link ComponentJoin}: every scorer instance reads every
 * partition (components are keyed by group id, groups by prompt id, so no partitioning lines them
 * up), without a consumer group or commits, starting {@code lookback} back in time so a group
 * delivered again after a restart still finds its components. A value that is neither a
 * {@code PartialReward} nor its JSON variant goes to {@code rewards.partial.dlq} with the reason and
 * is counted; the feed keeps going. One daemon thread owns the consumer.
 */
final class PartialRewardFeed implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PartialRewardFeed.class);
    private static final Duration REFRESH = Duration.ofSeconds(10);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ComponentJoin join;
    private final DeadLetterPublisher deadLetters;
    private final long lookbackMs;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();

    private PartialRewardFeed(KafkaSettings settings, String clientId, ComponentJoin join, DeadLetterPublisher deadLetters, Duration lookback) {
        Properties p = settings.consumerProps("unused");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG); // assigned partitions, nothing committed
        p.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId + "-partials");
        this.consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        this.join = join;
        this.deadLetters = deadLetters;
        this.lookbackMs = lookback.toMillis();
        this.thread = new Thread(this::loop, "rollstream-partials-" + clientId);
        this.thread.setDaemon(true);
    }

    /** Creates {@code rewards.partial} when missing and starts reading it. */
    static PartialRewardFeed start(KafkaSettings settings, String clientId, ComponentJoin join, DeadLetterPublisher deadLetters, Duration lookback) {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(1).stream()
                    .filter(s -> s.name().equals(Topics.REWARDS_PARTIAL) || s.name().equals(Topics.dlq(Topics.REWARDS_PARTIAL))).toList());
        }
        PartialRewardFeed f = new PartialRewardFeed(settings, clientId, join, deadLetters, lookback);
        f.thread.start();
        return f;
    }

    private void loop() {
        Set<TopicPartition> assigned = Set.of();
        long nextRefresh = 0;
        try {
            while (running.get()) {
                long now = System.currentTimeMillis();
                if (now >= nextRefresh) {
                    assigned = refresh(assigned, now);
                    nextRefresh = now + REFRESH.toMillis();
                }
                if (assigned.isEmpty()) {
                    Thread.sleep(200);
                    continue;
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    received.incrementAndGet();
                    PartialScore p;
                    try {
                        p = PartialRewardCodec.decode(r.value());
                    } catch (BadRecordException e) {
                        rejected.incrementAndGet();
                        log.warn("rejecting partial reward {}-{}@{}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
                        deadLetters.publish(r, DeadLetterPublisher.STAGE_DECODE, e).subscribe(m -> { },
                                err -> log.error("could not dead-letter partial reward {}@{}: {}", r.partition(), r.offset(), err.toString()));
                        continue;
                    }
                    join.offer(p);
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            log.error("partial-reward feed stopped: {}", e.toString(), e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Assigns new partitions of the topic, each starting {@code lookback} ago (or at its end). */
    private Set<TopicPartition> refresh(Set<TopicPartition> assigned, long now) {
        List<PartitionInfo> infos = consumer.partitionsFor(Topics.REWARDS_PARTIAL, Duration.ofSeconds(5));
        if (infos == null || infos.size() == assigned.size()) {
            return assigned;
        }
        List<TopicPartition> all = new ArrayList<>();
        for (PartitionInfo i : infos) {
            all.add(new TopicPartition(i.topic(), i.partition()));
        }
        consumer.assign(all);
        Map<TopicPartition, Long> since = new HashMap<>();
        for (TopicPartition tp : all) {
            if (!assigned.contains(tp)) {
                since.put(tp, now - lookbackMs);
            }
        }
        Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(since, Duration.ofSeconds(5));
        Map<TopicPartition, Long> ends = consumer.endOffsets(since.keySet(), Duration.ofSeconds(5));
        for (TopicPartition tp : since.keySet()) {
            OffsetAndTimestamp o = offsets.get(tp);
            consumer.seek(tp, o != null ? o.offset() : ends.get(tp));
        }
        return Set.copyOf(all);
    }

    long received() {
        return received.get();
    }

    long rejected() {
        return rejected.get();
    }

    @Override
    public void close() {
        if (running.compareAndSet(true, false)) {
            consumer.wakeup();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
