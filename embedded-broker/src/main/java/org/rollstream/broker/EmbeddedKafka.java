package org.rollstream.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A single-node Apache Kafka KRaft cluster (broker and controller in one node) on free loopback
 * ports, with its own data directory, ready in a few seconds.
 *
 * <p>It runs in-process ({@link KafkaRaftServer} after formatting storage with the same
 * {@link Formatter} that {@code kafka-storage.sh format} uses) rather than as a child JVM: startup
 * costs no second JVM warm-up (2 cores), failures surface as exceptions with stack traces instead of a
 * child's log file, and the broker can never outlive its owner as an orphan process when a test JVM
 * is killed. The price is sharing heap and threads with the caller, which is fine for tests, benchmarks
 * and {@code rollstream run}; production uses an external cluster.
 *
 * <p>By default clients connect over PLAINTEXT. {@link #start(Path, SaslSslListener)} instead serves
 * clients on a SASL_SSL listener (TLS plus SCRAM-SHA-512 users created at start-up), the way a secured
 * production cluster does; the broker then keeps a PLAINTEXT listener on loopback for its own
 * inter-broker traffic only, which {@link #bootstrapServers()} never names.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final int NODE_ID = 1;

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final boolean deleteOnClose;
    private final String bootstrapServers;
    private boolean closed;

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, boolean deleteOnClose, String bootstrapServers) {
        this.server = server;
        this.dataDir = dataDir;
        this.deleteOnClose = deleteOnClose;
        this.bootstrapServers = bootstrapServers;
    }

    /**
     * Starts a broker and returns once it answers clients.
     *
     * @param dataDir where the log lives (kept on close, reused if already formatted); null = a
     *                temporary directory deleted on close
     */
    public static EmbeddedKafka start(Path dataDir) {
        return start(dataDir, 0);
    }

    /**
     * Starts a broker listening for clients on {@code port} (0 = a free port) and returns once it
     * answers clients. A fixed port and a kept {@code dataDir} let a killed broker come back at the
     * same address with the same log, which is what clients of a real cluster see after a restart.
     *
     * @throws IllegalStateException if it cannot start, e.g. the fixed port is taken
     */
    public static EmbeddedKafka start(Path dataDir, int port) {
        return start(dataDir, port, null);
    }

    /**
     * Starts a broker whose client listener is SASL_SSL as {@code saslSsl} describes, on a free
     * port, and returns once it answers; {@link #bootstrapServers()} is that listener's address,
     * which clients reach with {@code security.protocol=SASL_SSL}, {@code sasl.mechanism=SCRAM-SHA-512},
     * one of the users' credentials and a truststore holding the CA that signed the keystore's certificate.
     *
     * @param dataDir as in {@link #start(Path)}; when it was already formatted, its SCRAM users stay as they were
     * @throws IllegalStateException if it cannot start, e.g. the keystore cannot be read with its password
     */
    public static EmbeddedKafka start(Path dataDir, SaslSslListener saslSsl) {
        if (saslSsl == null) {
            throw new IllegalArgumentException("saslSsl must not be null: use start(dataDir) for a PLAINTEXT broker");
        }
        return start(dataDir, 0, saslSsl);
    }

    private static EmbeddedKafka start(Path dataDir, int port, SaslSslListener saslSsl) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0 (any free port) or 1-65535, got " + port);
        }
        RuntimeException last = null;
        for (int attempt = 0; attempt < 3; attempt++) { // a "free" port can be taken before we bind it
            try {
                return startOnce(dataDir, port, saslSsl);
            } catch (RuntimeException e) {
                last = e;
            }
        }
        throw last;
    }

    private static EmbeddedKafka startOnce(Path requestedDir, int port, SaslSslListener saslSsl) {
        boolean temp = requestedDir == null;
        Path dir;
        try {
            dir = temp ? Files.createTempDirectory("rollstream-kafka-") : Files.createDirectories(requestedDir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot create broker data directory: " + e.getMessage(), e);
        }
        int brokerPort = port > 0 ? port : freePort();
        int controllerPort = freePort();
        // with SASL_SSL for clients, the broker's own traffic (and our readiness probe) stays on plain loopback
        int internalPort = saslSsl == null ? brokerPort : freePort();
        Properties props = serverProperties(dir, brokerPort, controllerPort);
        if (saslSsl != null) {
            secureClientListener(props, saslSsl, brokerPort, internalPort, controllerPort);
        }
        KafkaConfig config = new KafkaConfig(props, false);
        KafkaRaftServer server = null;
        try {
            formatIfNeeded(dir, saslSsl);
            server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
            String bootstrap = "127.0.0.1:" + brokerPort;
            awaitAnswering("127.0.0.1:" + internalPort, Duration.ofSeconds(30));
            return new EmbeddedKafka(server, dir, temp, bootstrap);
        } catch (Exception e) {
            if (server != null) {
                shutdown(server);
            }
            if (temp) {
                deleteRecursively(dir);
            }
            throw new IllegalStateException("embedded Kafka failed to start: " + e.getMessage(), e);
        }
    }

    private static Properties serverProperties(Path dir, int brokerPort, int controllerPort) {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", dir.toAbsolutePath().toString());
        // one node: every internal topic has one replica
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // tests and a single-machine run want joins to settle at once
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("num.partitions", "1");
        // topics come from TopicAdmin, which waits until their leaders serve them: an auto-created
        // topic can lose the first in-flight batch of an idempotent producer (KAFKA-15591)
        p.put("auto.create.topics.enable", "false");
        p.put("message.max.bytes", Integer.toString(17 * 1024 * 1024));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("log.retention.check.interval.ms", "60000");
        return p;
    }

    /**
     * Replaces the PLAINTEXT client listener by SASL_SSL (SCRAM-SHA-512 with the keystore's
     * certificate) and adds an INTERNAL PLAINTEXT one for inter-broker traffic: a broker must
     * advertise its inter-broker listener, and SASL there would need broker credentials for nothing
     * on a single node. Clients bootstrapping on SASL_SSL are only ever told of SASL_SSL endpoints.
     */
    private static void secureClientListener(Properties p, SaslSslListener s, int clientPort, int internalPort,
                                             int controllerPort) {
        p.put("listeners", "SASL_SSL://127.0.0.1:" + clientPort + ",INTERNAL://127.0.0.1:" + internalPort
                + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "SASL_SSL://127.0.0.1:" + clientPort + ",INTERNAL://127.0.0.1:" + internalPort);
        p.put("listener.security.protocol.map", "SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "INTERNAL");
        String prefix = "listener.name.sasl_ssl.";
        p.put(prefix + "sasl.enabled.mechanisms", SaslSslListener.MECHANISM);
        // server side of SCRAM: credentials are looked up in the cluster metadata, so no user here
        p.put(prefix + "scram-sha-512.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        p.put(prefix + "ssl.keystore.type", "PKCS12");
        p.put(prefix + "ssl.keystore.location", s.keystore().toString());
        p.put(prefix + "ssl.keystore.password", s.keystorePassword());
        p.put(prefix + "ssl.key.password", s.keystorePassword());
        p.put(prefix + "ssl.client.auth", "none"); // clients prove who they are with SCRAM, not certificates
    }

    private static void formatIfNeeded(Path dir, SaslSslListener saslSsl) throws Exception {
        if (Files.exists(dir.resolve("meta.properties"))) {
            return; // a reused data directory keeps its cluster id and topics
        }
        List<String> scram = saslSsl == null ? List.of() : saslSsl.scramUsers().entrySet().stream()
                .map(u -> SaslSslListener.MECHANISM + "=[name=\"" + u.getKey() + "\",password=\"" + u.getValue() + "\"]")
                .toList();
        new Formatter()
                .setScramArguments(scram)
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(NODE_ID)
                .setClusterId(Uuid.randomUuid().toString())
                .setDirectories(List.of(dir.toAbsolutePath().toString()))
                .setMetadataLogDirectory(dir.toAbsolutePath().toString())
                .setControllerListenerName("CONTROLLER")
                .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                .setUnstableFeatureVersionsEnabled(false)
                .run();
    }

    /** Returns once the broker answers a cluster description; kafka-clients only, so roles' transport stays out. */
    private static void awaitAnswering(String bootstrap, Duration timeout) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        int ms = (int) timeout.toMillis();
        try (Admin admin = Admin.create(p)) {
            admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms)).clusterId().get(ms + 1000L, TimeUnit.MILLISECONDS);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("no free port: " + e.getMessage(), e);
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Stops the broker; deletes the data directory if it was a temporary one. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        shutdown(server);
        if (deleteOnClose) {
            deleteRecursively(dataDir);
        }
    }

    private static void shutdown(KafkaRaftServer server) {
        server.shutdown();
        server.awaitShutdown();
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a temp directory left behind is harmless
        }
    }

    /** Runs a standalone broker: prints its bootstrap address, stops on Ctrl-C. Arg: optional data dir. */
    public static void main(String[] args) throws InterruptedException {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel",
                System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
        EmbeddedKafka kafka = start(args.length > 0 ? Path.of(args[0]) : null);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            kafka.close();
            stopped.countDown();
        }, "rollstream-broker-shutdown"));
        System.out.println(kafka.bootstrapServers());
        System.out.flush();
        stopped.await();
    }
}
