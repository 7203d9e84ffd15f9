package org.rollstream.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.TopicExistsException;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.Topics.TopicSpec;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.time.Timer;

/**
 * Topic administration: create what is missing (every topic together with its dead-letter topic),
 * describe the cluster. Its calls block (each bounded by 30 s): use it at start-up, never on a poll
 * thread or a Reactor worker.
 */
public final class TopicAdmin implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String DLQ_SUFFIX = Topics.dlq("");

    private final Admin admin;
    private final Time time;

    public TopicAdmin(KafkaSettings settings) {
        this(settings, Time.SYSTEM);
    }

    /** @param time the clock of the wait for new partitions' leaders */
    public TopicAdmin(KafkaSettings settings, Time time) {
        this.admin = Admin.create(settings.adminProps());
        this.time = time;
    }

    /**
     * How a dead-letter topic is created: one partition (dead letters are few and read in order),
     * records as large as the largest data record, kept until deleted by hand.
     */
    public static TopicSpec deadLetterSpec(String topic) {
        return new TopicSpec(Topics.dlq(topic), 1, Map.of(
                "max.message.bytes", Integer.toString(Topics.MAX_MESSAGE_BYTES), "retention.ms", "-1"));
    }

    /**
     * Creates every topic that does not exist yet with its partitions and configs, and with each
     * topic its dead-letter topic {@code <topic>.dlq} ({@link #deadLetterSpec} unless {@code specs}
     * names it), so dead letters never need an admin call later. Existing topics are left as they
     * are (a running cluster's settings win). Replication follows the broker default. Returns once
     * every created partition is served by its leader.
     *
     * @return the names that were created now
     */
    public List<String> ensureTopics(Collection<TopicSpec> specs) {
        Map<String, TopicSpec> wanted = new LinkedHashMap<>();
        for (TopicSpec spec : specs) {
            wanted.put(spec.name(), spec);
        }
        for (TopicSpec spec : specs) {
            if (!spec.name().endsWith(DLQ_SUFFIX)) {
                wanted.putIfAbsent(Topics.dlq(spec.name()), deadLetterSpec(spec.name()));
            }
        }
        Set<String> existing = call(admin.listTopics().names());
        List<NewTopic> missing = new ArrayList<>();
        for (TopicSpec spec : wanted.values()) {
            if (!existing.contains(spec.name())) {
                missing.add(new NewTopic(spec.name(), Optional.of(spec.partitions()), Optional.empty())
                        .configs(spec.configs()));
            }
        }
        List<String> created = new ArrayList<>();
        if (missing.isEmpty()) {
            return created;
        }
        try {
            createAndAwaitLeaders(missing, created);
        } finally {
            awaitLeaders(missing.stream().map(NewTopic::name).toList());
        }
        return created;
    }

    private void createAndAwaitLeaders(List<NewTopic> missing, List<String> created) {
        for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> e : admin.createTopics(missing).values().entrySet()) {
            try {
                call(e.getValue());
                created.add(e.getKey());
            } catch (KafkaAdminException ex) {
                if (!(ex.getCause() instanceof TopicExistsException)) { // another role won the race: fine
                    throw ex;
                }
            }
        }
    }

    /**
     * Waits until every partition of {@code topics} is served by its leader. Producing to a partition
     * the broker has not opened yet gets NOT_LEADER_OR_FOLLOWER for the first request while later
     * in-flight requests succeed, and the idempotent producer then retries the first one with
     * OUT_OF_ORDER_SEQUENCE until delivery.timeout.ms (KAFKA-15591 / KAFKA-19880). A latest-offset
     * lookup is answered by the leader only, so its success means the partitions are open.
     */
    private void awaitLeaders(List<String> topics) {
        Timer timer = time.timer(TIMEOUT);
        while (true) {
            try {
                probeLeaders(topics);
                return;
            } catch (KafkaAdminException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.RetriableException) || timer.isExpired()) {
                    throw e;
                }
            }
            try {
                time.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaAdminException("interrupted", e);
            }
        }
    }

    private void probeLeaders(List<String> topics) {
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest = new java.util.HashMap<>();
        call(admin.describeTopics(topics).allTopicNames()).forEach((name, description) ->
                description.partitions().forEach(p -> latest.put(
                        new org.apache.kafka.common.TopicPartition(name, p.partition()),
                        org.apache.kafka.clients.admin.OffsetSpec.latest())));
        call(admin.listOffsets(latest).all());
    }

    /**
     * Creates the dead-letter topic of each of {@code topics} that lacks one; for consumers of
     * topics created by someone else (an operator, an older release).
     *
     * @return the names that were created now
     */
    public List<String> ensureDeadLetterTopics(Collection<String> topics) {
        return ensureTopics(topics.stream().map(TopicAdmin::deadLetterSpec).toList());
    }

    /** Creates one topic (and its dead-letter topic) when missing; see {@link #ensureTopics}. */
    public List<String> ensureTopic(String name, int partitions, Map<String, String> configs) {
        return ensureTopics(List.of(new TopicSpec(name, partitions, configs)));
    }

    /** Partition count of a topic, or empty when it does not exist. */
    public Optional<Integer> partitions(String topic) {
        if (!call(admin.listTopics().names()).contains(topic)) {
            return Optional.empty();
        }
        return Optional.of(call(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size());
    }

    /** Deletes topics that exist; missing ones are ignored. */
    public void deleteTopics(Collection<String> topics) {
        Set<String> existing = call(admin.listTopics().names());
        List<String> present = topics.stream().filter(existing::contains).toList();
        if (!present.isEmpty()) {
            call(admin.deleteTopics(present).all());
        }
    }

    /** One line for logs: cluster id, controller, brokers. */
    public String describeCluster() {
        DescribeClusterResult r = admin.describeCluster();
        String id = call(r.clusterId());
        Node controller = call(r.controller());
        Collection<Node> nodes = call(r.nodes());
        StringBuilder sb = new StringBuilder("cluster ").append(id).append(", controller ")
                .append(controller == null ? "?" : controller.id()).append(", brokers [");
        String sep = "";
        for (Node n : nodes) {
            sb.append(sep).append(n.id()).append('@').append(n.host()).append(':').append(n.port());
            sep = ", ";
        }
        return sb.append(']').toString();
    }

    private static <T> T call(org.apache.kafka.common.KafkaFuture<T> f) {
        try {
            return f.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new KafkaAdminException(KafkaSettings.rootMessage(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            throw new KafkaAdminException("admin call timed out after " + TIMEOUT.toSeconds() + "s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaAdminException("interrupted", e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }

    /** An admin operation failed; the cause is the Kafka error. */
    public static final class KafkaAdminException extends RuntimeException {
        KafkaAdminException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
