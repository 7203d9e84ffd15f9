package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.broker.SaslSslListener;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;

/**
 * Clients configured by a {@code --kafka-config} file reach a broker that only serves SASL_SSL
 * (SCRAM-SHA-512 over TLS, certificates from a CA made for this test), and a wrong password ends
 * the command with a message about authentication instead of a hang.
 */
@Timeout(120) // a hang guard, not a speed claim: the timings are printed
class SaslSslClusterTest {
    private static final String USER = "trainer";
    private static final String PASSWORD = "right-horse-battery";

    @TempDir
    static Path dir;
    static TestCa ca;
    static EmbeddedKafka broker;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        long t0 = System.nanoTime();
        ca = TestCa.create(dir);
        long t1 = System.nanoTime();
        broker = EmbeddedKafka.start(null, SaslSslListener.of(ca.brokerKeystore(), ca.password(), Map.of(USER, PASSWORD)));
        System.out.printf("SASL_SSL test: CA and broker certificate made in %d ms, broker up in %d ms at %s%n",
                (t1 - t0) / 1_000_000, (System.nanoTime() - t1) / 1_000_000, broker.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void restoreEnvironment() {
        Rollstream.env = System::getenv;
    }

    /** The client file a user writes for a secured cluster; {@code extra} adds lines. */
    private static Path clientConfig(String name, String extra) throws Exception {
        return Files.writeString(dir.resolve(name), String.join("\n",
                "security.protocol=SASL_SSL",
                "sasl.mechanism=SCRAM-SHA-512",
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + ca.truststore(),
                "ssl.truststore.password=${TRUSTSTORE_PASSWORD}",
                extra, ""));
    }

    private static KafkaOptions options(Path file) {
        KafkaOptions options = new KafkaOptions();
        options.bootstrapServers = broker.bootstrapServers();
        options.configFile = file;
        return options;
    }

    @Test
    void clientsConfiguredByFileAndEnvironmentMoveRecords() throws Exception {
        // the password comes from ROLLSTREAM_SASL_*, the file names no credentials at all
        Rollstream.env = Map.of("TRUSTSTORE_PASSWORD", ca.password(),
                KafkaOptions.SASL_USERNAME_ENV, USER, KafkaOptions.SASL_PASSWORD_ENV, PASSWORD)::get;
        Path file = clientConfig("client.properties", "");
        KafkaSettings settings = options(file).settings(broker.bootstrapServers());
        assertEquals("SASL_SSL", settings.clientProperties().get("security.protocol"));

        long t0 = System.nanoTime();
        settings.verifyReachable(Duration.ofSeconds(15));
        long verified = System.nanoTime();
        Prompt prompt = Prompt.newBuilder().setId("sasl-ssl-prompt-1").setTask("arithmetic").setText("2+3=")
                .setAnswer("5").setRunId("sasl").build();
        try (TopicAdmin admin = new TopicAdmin(settings);
             ReactiveProducer producer = ReactiveProducer.create(settings, "sasl-test")) {
            admin.ensureTopic(Topics.PROMPTS, 1, Map.of());
            producer.send(Topics.PROMPTS, prompt.getId().toString(), AvroCodec.of(Prompt.class).encode(prompt))
                    .block(Duration.ofSeconds(30));
        }
        long produced = System.nanoTime();

        // a role's command line reads it back through the same file
        CliOutcome inspect = CliOutcome.run("inspect", Topics.PROMPTS, "--limit", "1",
                "--bootstrap-servers", broker.bootstrapServers(), "--kafka-config", file.toString());
        long inspected = System.nanoTime();
        System.out.printf("SASL_SSL round trip: verifyReachable %d ms, topic + produce %d ms, rollstream inspect %d ms%n",
                (verified - t0) / 1_000_000, (produced - verified) / 1_000_000, (inspected - produced) / 1_000_000);
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("sasl-ssl-prompt-1") && inspect.out().contains("2+3="), inspect.out());
    }

    @Test
    void wrongPasswordFailsFastNamingAuthentication() throws Exception {
        // here the password is written into sasl.jaas.config through ${KAFKA_PASSWORD}
        Rollstream.env = Map.of("TRUSTSTORE_PASSWORD", ca.password(), "KAFKA_PASSWORD", "wrong-horse")::get;
        Path file = clientConfig("wrong.properties", "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule"
                + " required username=\"" + USER + "\" password=\"${KAFKA_PASSWORD}\";");
        long t0 = System.nanoTime();
        CliOutcome inspect = CliOutcome.run("inspect", Topics.PROMPTS, "--limit", "1",
                "--bootstrap-servers", broker.bootstrapServers(), "--kafka-config", file.toString());
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("SASL_SSL wrong password: exit %d after %d ms: %s%n", inspect.code(), ms, inspect.err().strip());
        assertEquals(1, inspect.code(), inspect.out() + inspect.err());
        assertTrue(inspect.err().contains("rejected authentication") && inspect.err().contains("invalid credentials"), inspect.err());
        assertTrue(inspect.err().contains(broker.bootstrapServers()), inspect.err());
        assertFalse(inspect.err().contains("wrong-horse"), "the password must not be echoed: " + inspect.err());

        // the same check without the command's start-up: what a role pays before it gives up
        KafkaSettings settings = options(file).settings(broker.bootstrapServers());
        long t1 = System.nanoTime();
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.rollstream.transport.BrokerUnreachableException.class,
                () -> settings.verifyReachable(Duration.ofSeconds(15)));
        System.out.printf("SASL_SSL wrong password: verifyReachable alone reported after %d ms%n", (System.nanoTime() - t1) / 1_000_000);
        assertTrue(e.getMessage().contains("rejected authentication"), e.getMessage());
    }

    @Test
    void untrustedBrokerCertificateIsNamedAsATlsFailure() throws Exception {
        // right credentials, but the JDK's default trust store, which does not know the test CA
        Rollstream.env = Map.of(KafkaOptions.SASL_USERNAME_ENV, USER, KafkaOptions.SASL_PASSWORD_ENV, PASSWORD)::get;
        KafkaSettings settings = KafkaSettings.of(broker.bootstrapServers())
                .withProperties(Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512"));
        settings = KafkaOptions.withSaslFromEnvironment(settings);
        long t0 = System.nanoTime();
        KafkaSettings finalSettings = settings;
        var e = org.junit.jupiter.api.Assertions.assertThrows(org.rollstream.transport.BrokerUnreachableException.class,
                () -> finalSettings.verifyReachable(Duration.ofSeconds(15)));
        System.out.printf("SASL_SSL untrusted certificate: reported after %d ms: %s%n", (System.nanoTime() - t0) / 1_000_000, e.getMessage());
        assertTrue(e.getMessage().startsWith("TLS handshake with Kafka at " + broker.bootstrapServers() + " failed"), e.getMessage());
        assertTrue(e.getMessage().contains("ssl.truststore"), e.getMessage());
    }
}
