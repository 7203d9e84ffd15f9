package org.rollstream.launcher.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.transport.KafkaSettings;

/**
 * Consumer-group lag as the broker sees it: for each partition a group has committed, the log end
 * offset minus the committed offset, summed per topic into {@code rollstream.consumer.lag.records}.
 * Polled on its own daemon thread with its own admin client; a failed poll keeps the last values
 * (the role's own health does not depend on it).
 */
final class ConsumerLag implements AutoCloseable {
    private final Admin admin;
    private final MeterRegistry registry;
    private final ScheduledExecutorService poller;
    private final Set<String> groups = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> lags = new ConcurrentHashMap<>();

    ConsumerLag(KafkaSettings settings, MeterRegistry registry, Duration every) {
        this.admin = Admin.create(settings.adminProps());
        this.registry = registry;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "rollstream-consumer-lag");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::poll, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    void watch(String group) {
        groups.add(group);
    }

    private void poll() {
        for (String group : groups) {
            try {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
                committed.keySet().forEach(tp -> latest.put(tp, OffsetSpec.latest()));
                Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all()
                        .get(10, TimeUnit.SECONDS);
                Map<String, Long> perTopic = new HashMap<>();
                committed.forEach((tp, offset) -> {
                    if (offset != null && ends.containsKey(tp)) {
                        perTopic.merge(tp.topic(), Math.max(0, ends.get(tp).offset() - offset.offset()), Long::sum);
                    }
                });
                perTopic.forEach((topic, lag) -> gauge(group, topic).set(lag));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                // the broker is away or the group is new: keep the last values, try again next time
            }
        }
    }

    private AtomicLong gauge(String group, String topic) {
        return lags.computeIfAbsent(group + "\u0000" + topic, k -> {
            AtomicLong v = new AtomicLong();
            Gauge.builder("rollstream.consumer.lag.records", v, AtomicLong::get).tags(Tags.of("group", group, "topic", topic))
                    .description("Records in the topic the group has not committed yet").register(registry);
            return v;
        });
    }

    @Override
    public void close() {
        poller.shutdownNow();
        admin.close(Duration.ofSeconds(2));
    }
}
