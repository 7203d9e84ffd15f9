package org.rollstream.launcher;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.broker.EmbeddedKafka;
import picocli.CommandLine.Option;

/** Options every role shares to reach an external Kafka cluster (security settings pass straight through). */
final class KafkaOptions {
    @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
            description = "Kafka cluster to use. Without it, commands that can start an embedded broker do so; roles require it.")
    String bootstrapServers;

    @Option(names = {"-X", "--kafka-property"}, paramLabel = "KEY=VALUE",
            description = "Kafka client property passed through to every client, e.g. security.protocol=SASL_SSL, sasl.mechanism=PLAIN, ssl.truststore.location=... Repeatable.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(names = "--kafka-config", paramLabel = "FILE",
            description = "Properties file of Kafka client settings (security.protocol, sasl.*, ssl.*); -X wins over it.")
    Path configFile;

    boolean hasBootstrap() {
        return bootstrapServers != null && !bootstrapServers.isBlank();
    }

    /** Settings for {@code bootstrap} (the given cluster, or an embedded broker's address). */
    KafkaSettings settings(String bootstrap) {
        KafkaSettings settings = KafkaSettings.of(bootstrap);
        if (configFile != null) {
            if (!Files.isReadable(configFile)) {
                throw new UsageException("--kafka-config " + configFile + " is not a readable file");
            }
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(configFile)) {
                p.load(r);
            } catch (IOException e) {
                throw new UsageException("--kafka-config " + configFile + " cannot be read: " + e.getMessage());
            }
            for (String k : p.stringPropertyNames()) {
                settings = settings.withProperty(k, p.getProperty(k));
            }
        }
        for (Map.Entry<String, String> e : properties.entrySet()) {
            settings = settings.withProperty(e.getKey(), e.getValue());
        }
        return settings;
    }

    /** The cluster a command works against: the given one, or an embedded broker it started and must stop. */
    record Cluster(KafkaSettings settings, EmbeddedKafka embedded) implements AutoCloseable {
        @Override
        public void close() {
            if (embedded != null) {
                embedded.close();
            }
        }
    }

    /** {@code --bootstrap-servers} when given, else a fresh embedded broker with its log in {@code dataDir} (null: temporary). */
    Cluster clusterOrEmbedded(Path dataDir, boolean announce) {
        if (hasBootstrap()) {
            return new Cluster(settings(bootstrapServers), null);
        }
        if (announce) {
            System.out.println("starting an embedded Kafka broker ...");
        }
        EmbeddedKafka broker = EmbeddedKafka.start(dataDir);
        if (announce) {
            System.out.println("embedded Kafka broker at " + broker.bootstrapServers());
        }
        return new Cluster(settings(broker.bootstrapServers()), broker);
    }

    /** Settings for the required {@code --bootstrap-servers}. */
    KafkaSettings requiredSettings(String command) {
        if (!hasBootstrap()) {
            throw new UsageException(command + " needs --bootstrap-servers HOST:PORT (start one with: rollstream broker)");
        }
        return settings(bootstrapServers);
    }
}
