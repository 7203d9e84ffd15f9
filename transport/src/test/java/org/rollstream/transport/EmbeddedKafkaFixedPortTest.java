package org.rollstream.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;

/** A broker on a fixed port comes back at the same address with the same log, as a restarted cluster node does. */
class EmbeddedKafkaFixedPortTest {

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void restartsAtTheSameAddressWithItsRecords(@TempDir Path dir) throws IOException {
        int port = freePort();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, port)) {
            assertEquals("127.0.0.1:" + port, kafka.bootstrapServers());
            try (TopicAdmin admin = new TopicAdmin(KafkaSettings.of(kafka.bootstrapServers()))) {
                admin.ensureTopic("kept", 1, Map.of());
            }
            try (ReactiveProducer p = ReactiveProducer.create(KafkaSettings.of(kafka.bootstrapServers()), "fixed-port")) {
                p.send("kept", "k", new byte[] {7}).block(Duration.ofSeconds(30));
            }
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, port)) {
            assertEquals("127.0.0.1:" + port, kafka.bootstrapServers());
            ReactiveConsumer<byte[]> c = ReactiveConsumer.builder(KafkaSettings.of(kafka.bootstrapServers()), "fixed-port", b -> b).topics("kept").build();
            byte[] value = c.receive().doOnNext(Received::ack).map(Received::value).blockFirst(Duration.ofSeconds(30));
            c.close();
            assertEquals(7, value[0]);
        }
    }

    @Test
    void refusesAPortOutOfRange() {
        assertThrows(IllegalArgumentException.class, () -> EmbeddedKafka.start(null, 70_000));
    }
}
