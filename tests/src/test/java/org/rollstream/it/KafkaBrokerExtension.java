package org.rollstream.it;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.broker.EmbeddedKafka;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Gives tests a real Kafka broker: one per test JVM, started on first use and stopped when the
 * JUnit root context closes. {@code -Drollstream.test.broker=} picks it:
 * {@code container} (Testcontainers, {@code apache/kafka} image), {@code embedded} (in-process
 * KRaft broker), or a bootstrap address of a running cluster. Unset: the container when a Docker
 * engine answers, the embedded broker otherwise.
 *
 * <p>Use {@code @ExtendWith(KafkaBrokerExtension.class)} and take a {@link KafkaSettings}
 * parameter, or call {@link #settings()} after the extension ran.
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, ParameterResolver {
    public static final String PROPERTY = "rollstream.test.broker";
    public static final String IMAGE = "apache/kafka:4.1.1";

    private static volatile Broker broker;

    @Override
    public void beforeAll(ExtensionContext context) {
        broker(context);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == KafkaSettings.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return broker(context).settings();
    }

    /** The broker of this JVM; fails if no test started it through the extension yet. */
    public static KafkaSettings settings() {
        Broker b = broker;
        if (b == null) {
            throw new IllegalStateException("no broker yet: annotate the test with @ExtendWith(KafkaBrokerExtension.class)");
        }
        return b.settings();
    }

    /** Which kind of broker serves this JVM: embedded, container or external. */
    public static String kind() {
        Broker b = broker;
        return b == null ? "none" : b.kind;
    }

    private static synchronized Broker broker(ExtensionContext context) {
        if (broker == null) {
            // the root store closes AutoCloseable values when the whole test run ends
            broker = context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
                    .getOrComputeIfAbsent(Broker.class, k -> Broker.start(System.getProperty(PROPERTY, "")), Broker.class);
        }
        return broker;
    }

    /** A started broker and how to stop it. */
    static final class Broker implements AutoCloseable {
        final String kind;
        final String bootstrap;
        private final AutoCloseable stopper;

        private Broker(String kind, String bootstrap, AutoCloseable stopper) {
            this.kind = kind;
            this.bootstrap = bootstrap;
            this.stopper = stopper;
        }

        static Broker start(String choice) {
            String c = choice.trim();
            if (c.isEmpty()) {
                c = dockerAvailable() ? "container" : "embedded";
            }
            switch (c) {
                case "embedded": {
                    EmbeddedKafka kafka = EmbeddedKafka.start(null);
                    return new Broker("embedded", kafka.bootstrapServers(), kafka);
                }
                case "container": {
                    KafkaContainer container = new KafkaContainer(DockerImageName.parse(IMAGE));
                    container.start();
                    return new Broker("container", container.getBootstrapServers(), container::stop);
                }
                default:
                    return new Broker("external", c, () -> { });
            }
        }

        private static boolean dockerAvailable() {
            try {
                return DockerClientFactory.instance().isDockerAvailable();
            } catch (Throwable t) { // no engine, no socket, no permissions: all mean "not available"
                return false;
            }
        }

        KafkaSettings settings() {
            return KafkaSettings.of(bootstrap);
        }

        @Override
        public synchronized void close() throws Exception {
            stopper.close();
        }
    }
}
