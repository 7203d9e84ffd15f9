package org.rollstream.transport;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Where Kafka is and how to talk to it. Every client (consumer, producer, admin) gets the
 * bootstrap address plus the pass-through properties, so {@code security.protocol}, {@code sasl.*}
 * and {@code ssl.*} set once reach all of them. Immutable.
 */
public final class KafkaSettings {
    private final String bootstrapServers;
    private final Map<String, String> clientProperties;

    private KafkaSettings(String bootstrapServers, Map<String, String> clientProperties) {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("bootstrap servers must not be blank");
        }
        this.bootstrapServers = bootstrapServers.trim();
        this.clientProperties = Map.copyOf(clientProperties);
    }

    public static KafkaSettings of(String bootstrapServers) {
        return new KafkaSettings(bootstrapServers, Map.of());
    }

    /** A client property for every client, e.g. {@code security.protocol=SASL_SSL}. */
    public KafkaSettings withProperty(String key, String value) {
        Map<String, String> copy = new LinkedHashMap<>(clientProperties);
        copy.put(key, value);
        return new KafkaSettings(bootstrapServers, copy);
    }

    public KafkaSettings withProperties(Map<String, String> properties) {
        Map<String, String> copy = new LinkedHashMap<>(clientProperties);
        copy.putAll(properties);
        return new KafkaSettings(bootstrapServers, copy);
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Map<String, String> clientProperties() {
        return clientProperties;
    }

    /**
     * Consumer defaults: manual commits (offsets move only after downstream acks), earliest
     * reset, the classic group protocol (the default of Kafka 4 consumers, and what every
     * broker version we target serves). The session timeout is 10 s rather than Kafka's 45 s: a
     * crashed actor or scorer never leaves its group, and its partitions wait that long for a
     * restarted or surviving member (both overridable with {@code -X}).
     */
    public Properties consumerProps(String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "3000");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.putAll(clientProperties);
        return p;
    }

    /**
     * Producer defaults: idempotent with {@code acks=all}, so retries never duplicate or reorder
     * within a partition; a short linger and large batches because our records are big.
     * {@code max.block.ms} bounds how long a send may wait for metadata of an unreachable cluster.
     */
    public Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(17 * 1024 * 1024));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putAll(clientProperties);
        return p;
    }

    public Properties adminProps() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.putAll(clientProperties);
        return p;
    }

    /**
     * Fails fast when the cluster cannot be reached: the Kafka clients themselves retry for a
     * minute or more, which looks like a hang to whoever started a role with a wrong address.
     *
     * A broker that answers but rejects the client's credentials (SASL) or whose certificate the
     * client does not trust (TLS) is reported as such, as soon as the broker says so: the clients
     * treat authentication failures as fatal rather than retrying them.
     *
     * @throws BrokerUnreachableException with the address and the cause, after at most {@code timeout}
     */
    public void verifyReachable(Duration timeout) {
        Properties p = adminProps();
        int ms = (int) Math.max(1, timeout.toMillis());
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(ms));
        String prefix = "cannot reach Kafka at " + bootstrapServers + " within " + describe(timeout) + ": ";
        Admin admin;
        try {
            admin = Admin.create(p);
        } catch (RuntimeException e) { // e.g. no resolvable bootstrap address
            throw new BrokerUnreachableException(prefix + rootMessage(e), e);
        }
        try {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms))
                    .clusterId().get(ms + 1000L, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new BrokerUnreachableException(prefix + "no broker answered (is the address right, and is the broker up?)", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw new BrokerUnreachableException(prefix + "no broker answered (is the address right, and is the broker up?)",
                        e.getCause());
            }
            if (e.getCause() instanceof AuthenticationException auth) {
                throw new BrokerUnreachableException(authenticationFailure(auth), auth);
            }
            throw new BrokerUnreachableException(prefix + rootMessage(e.getCause()), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BrokerUnreachableException(prefix + "interrupted", e);
        } finally {
            admin.close(Duration.ZERO);
        }
    }

    private String authenticationFailure(AuthenticationException e) {
        if (e instanceof SslAuthenticationException) {
            return "TLS handshake with Kafka at " + bootstrapServers + " failed: " + rootMessage(e)
                    + " (check security.protocol and ssl.truststore.location/password: the truststore must hold the CA that signed the broker's certificate)";
        }
        return "Kafka at " + bootstrapServers + " rejected authentication: " + e.getMessage()
                + " (check sasl.mechanism and the user name and password in sasl.jaas.config)";
    }

    private static String describe(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String msg = root.getMessage();
        return root.getClass().getSimpleName() + (msg == null ? "" : ": " + msg);
    }

    @Override
    public String toString() {
        return "KafkaSettings[" + bootstrapServers + ", properties=" + clientProperties.keySet() + "]";
    }
}
