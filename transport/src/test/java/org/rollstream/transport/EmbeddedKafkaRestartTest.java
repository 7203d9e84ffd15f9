package org.rollstream.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;

/** A broker restarted on the same data directory keeps its topics and records; a temp one is deleted. */
class EmbeddedKafkaRestartTest {

    @Test
    void keepsTopicsAcrossRestartOnTheSameDirectory(@TempDir Path dir) {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
            KafkaSettings settings = KafkaSettings.of(kafka.bootstrapServers());
            try (TopicAdmin admin = new TopicAdmin(settings)) {
                admin.ensureTopic("kept", 2, Map.of());
            }
            try (ReactiveProducer p = ReactiveProducer.create(settings, "restart")) {
                p.send("kept", "k", new byte[] {42}).block(Duration.ofSeconds(30));
            }
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir)) {
            KafkaSettings settings = KafkaSettings.of(kafka.bootstrapServers());
            try (TopicAdmin admin = new TopicAdmin(settings)) {
                assertEquals(Optional.of(2), admin.partitions("kept"));
                assertEquals(Optional.of(1), admin.partitions("kept.dlq"), "every topic is created with its dead-letter topic");
                assertTrue(admin.describeCluster().startsWith("cluster "));
            }
            ReactiveConsumer<byte[]> c = ReactiveConsumer.builder(settings, "restart", b -> b).topics("kept").build();
            byte[] value = c.receive().doOnNext(Received::ack).map(Received::value).blockFirst(Duration.ofSeconds(30));
            c.close();
            assertEquals(42, value[0]);
        }
    }

    @Test
    void temporaryDirectoryIsDeletedOnClose() {
        EmbeddedKafka kafka = EmbeddedKafka.start(null);
        Path dir = kafka.dataDir();
        kafka.close();
        assertTrue(Files.notExists(dir), dir + " left behind");
    }
}
