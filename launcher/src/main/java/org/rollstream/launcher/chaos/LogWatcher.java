package org.rollstream.launcher.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;

/**
 * Follows the cluster's topics in a background thread and notes when each role did useful work,
 * by the records' own timestamps (set by the producing process when it sent them):
 * <ul>
 *   <li>{@value #LEARNER}: a training step, a {@code train} event on {@code metrics} or a STEP on {@code learner.audit};</li>
 *   <li>{@value #SCORER}: a group on {@code rollouts.scored} (there is one scorer);</li>
 *   <li>{@code actor:<actorId>}: a group on {@code rollouts.sampled} from that actor process.</li>
 * </ul>
 * A killed process cannot produce after its death, so the first such record stamped after a kill
 * is the restarted process at work: that is how resume times are measured. Survives broker
 * restarts (the consumer reconnects); never commits anything.
 */
final class LogWatcher implements AutoCloseable {
    static final String LEARNER = "learner";
    static final String SCORER = "scorer";
    private static final AvroCodec<MetricEvent> METRIC = AvroCodec.of(MetricEvent.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    private static final AvroCodec<StepAudit> AUDIT = AvroCodec.of(StepAudit.class);

    private final KafkaSettings kafka;
    private final Map<String, List<Long>> work = new HashMap<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread thread;
    private volatile Throwable failure;

    LogWatcher(KafkaSettings kafka) {
        this.kafka = kafka;
        this.thread = new Thread(this::follow, "chaos-log-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    static String actor(String actorId) {
        return "actor:" + actorId;
    }

    /**
     * The timestamp of the first work of {@code role} stamped after {@code afterMs}, waiting up to
     * {@code timeout}; empty if none came.
     */
    OptionalLong awaitWorkAfter(String role, long afterMs, Duration timeout) throws InterruptedException {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        synchronized (work) {
            while (true) {
                for (long t : work.getOrDefault(role, List.of())) {
                    if (t > afterMs) {
                        return OptionalLong.of(t);
                    }
                }
                long left = deadline - System.currentTimeMillis();
                if (left <= 0 || closed.get()) {
                    return OptionalLong.empty();
                }
                work.wait(Math.min(left, 500));
            }
        }
    }

    /** Work records of {@code role} seen so far. */
    int count(String role) {
        synchronized (work) {
            return work.getOrDefault(role, List.of()).size();
        }
    }

    private void note(String role, long timestampMs) {
        synchronized (work) {
            List<Long> ts = work.computeIfAbsent(role, k -> new ArrayList<>());
            // keep ascending so awaitWorkAfter finds the first one after a kill
            int i = ts.size();
            while (i > 0 && ts.get(i - 1) > timestampMs) {
                i--;
            }
            ts.add(i, timestampMs);
            work.notifyAll();
        }
    }

    private void follow() {
        List<String> topics = List.of(Topics.METRICS, Topics.ROLLOUTS_SAMPLED, Topics.ROLLOUTS_SCORED, Topics.LEARNER_AUDIT);
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(kafka.consumerProps("rollstream-chaos-watcher"))) {
            List<TopicPartition> parts = new ArrayList<>();
            for (String t : topics) {
                List<PartitionInfo> infos = consumer.partitionsFor(t, Duration.ofSeconds(30));
                infos.forEach(i -> parts.add(new TopicPartition(t, i.partition())));
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            while (!closed.get()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        handle(r);
                    } catch (RuntimeException e) {
                        // an undecodable record is not work of anyone: the accounting counts what it reads
                    }
                }
            }
        } catch (Throwable t) {
            if (!closed.get()) {
                failure = t;
            }
        } finally {
            synchronized (work) {
                work.notifyAll();
            }
        }
    }

    private void handle(ConsumerRecord<byte[], byte[]> r) {
        switch (r.topic()) {
            case Topics.METRICS -> {
                MetricEvent e = METRIC.decode(r.value());
                if ("learner".equals(e.getRole()) && "train".equals(e.getKind())) {
                    note(LEARNER, r.timestamp());
                }
            }
            case Topics.LEARNER_AUDIT -> {
                if (AUDIT.decode(r.value()).getKind() == AuditKind.STEP) {
                    note(LEARNER, r.timestamp());
                }
            }
            case Topics.ROLLOUTS_SAMPLED -> note(actor(SAMPLED.decode(r.value()).getActorId().toString()), r.timestamp());
            case Topics.ROLLOUTS_SCORED -> note(SCORER, r.timestamp());
            default -> { }
        }
    }

    /** Why the watcher stopped following, if it failed; null while it runs. */
    Throwable failure() {
        return failure;
    }

    @Override
    public void close() throws InterruptedException {
        closed.set(true);
        thread.join(10_000);
    }
}
