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
import org.rollstream.launcher.config.ConfigException;
import org.rollstream.launcher.config.ConfigFile;
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
                String value;
                try {
                    value = ConfigFile.substitute(p.getProperty(k), name -> {
                        String v = Rollstream.env.apply(name);
                        if (v == null) {
                            throw new UsageException("--kafka-config " + configFile + ": " + k + " refers to the environment variable "
                                    + name + ", which is not set");
                        }
                        return v;
                    });
                } catch (ConfigException e) {
                    throw new UsageException(e.getMessage());
                }
                settings = settings.withProperty(k, value);
            }
        }
        for (Map.Entry<String, String> e : properties.entrySet()) {
            settings = settings.withProperty(e.getKey(), e.getValue());
        }
        return withSaslFromEnvironment(settings);
    }

    /** Environment variable with the SASL user name (see {@link #withSaslFromEnvironment}). */
    static final String SASL_USERNAME_ENV = "ROLLSTREAM_SASL_USERNAME";
    /** Environment variable with the SASL password, so it stays out of files and process listings. */
    static final String SASL_PASSWORD_ENV = "ROLLSTREAM_SASL_PASSWORD";

    /**
     * When {@code ROLLSTREAM_SASL_USERNAME} and {@code ROLLSTREAM_SASL_PASSWORD} are set, a
     * {@code sasl.mechanism} of PLAIN or SCRAM-SHA-256/512 is given and no {@code sasl.jaas.config}
     * is, adds the matching login module with those credentials. Otherwise returns {@code settings} as is.
     *
     * @throws UsageException when only one of the two variables is set
     */
    static KafkaSettings withSaslFromEnvironment(KafkaSettings settings) {
        String user = Rollstream.env.apply(SASL_USERNAME_ENV);
        String password = Rollstream.env.apply(SASL_PASSWORD_ENV);
        if (user == null && password == null) {
            return settings;
        }
        if (user == null || password == null) {
            throw new UsageException("set both " + SASL_USERNAME_ENV + " and " + SASL_PASSWORD_ENV + ", or neither");
        }
        Map<String, String> props = settings.clientProperties();
        if (props.containsKey("sasl.jaas.config")) {
            return settings; // the file or -X said it explicitly
        }
        String mechanism = props.getOrDefault("sasl.mechanism", "");
        String module;
        if (mechanism.equals("PLAIN")) {
            module = "org.apache.kafka.common.security.plain.PlainLoginModule";
        } else if (mechanism.startsWith("SCRAM-SHA-")) {
            module = "org.apache.kafka.common.security.scram.ScramLoginModule";
        } else {
            throw new UsageException(SASL_USERNAME_ENV + " is set but sasl.mechanism is '" + mechanism
                    + "': set sasl.mechanism=PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (--kafka-config or -X)");
        }
        return settings.withProperty("sasl.jaas.config", module + " required username=\"" + jaasEscape(user)
                + "\" password=\"" + jaasEscape(password) + "\";");
    }

    private static String jaasEscape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
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
