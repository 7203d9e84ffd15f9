package org.rollstream.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.rollstream.transport.broker.EmbeddedKafka;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** The bridge against a real in-process broker: demand, pausing, commits of acked prefixes. */
class ReactiveConsumerTest {
    static EmbeddedKafka kafka;
    static KafkaSettings settings;

    @BeforeAll
    static void startBroker() {
        long t0 = System.nanoTime();
        kafka = EmbeddedKafka.start(null);
        System.out.printf("embedded broker at %s ready in %d ms%n", kafka.bootstrapServers(), (System.nanoTime() - t0) / 1_000_000);
        settings = kafka.settings();
    }

    @AfterAll
    static void stopBroker() {
        kafka.close();
    }

    static void produce(String topic, int n) {
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "test-producer")) {
            producer.sendAll(Flux.range(0, n).map(i -> new ProducerRecord<>(topic,
                    ("k" + i).getBytes(StandardCharsets.UTF_8), Integer.toString(i).getBytes(StandardCharsets.UTF_8))))
                    .blockLast(Duration.ofSeconds(60));
        }
    }

    static Integer decode(byte[] v) {
        return Integer.valueOf(new String(v, StandardCharsets.UTF_8));
    }

    @Test
    void slowConsumerPausesAndStillGetsEverythingOnce() {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic("slow", 3, Map.of());
        }
        produce("slow", 3000);
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger dup = new AtomicInteger();
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(settings, "slow-group", ReactiveConsumerTest::decode)
                .topics("slow").maxBuffered(16).build();
        consumer.receive()
                .delayElements(Duration.ofMillis(1), Schedulers.parallel()) // slower than the broker
                .doOnNext(r -> {
                    if (!seen.add(r.value())) {
                        dup.incrementAndGet();
                    }
                    r.ack();
                })
                .take(3000)
                .blockLast(Duration.ofSeconds(60));
        consumer.close();
        assertEquals(3000, seen.size());
        assertEquals(0, dup.get());
        assertTrue(consumer.stats().pauses() > 0, "a slow downstream pauses the partitions: " + consumer.stats());
        assertEquals(3000, consumer.stats().committed(), consumer.stats().toString());
    }

    @Test
    void unackedRecordsAreNotCommitted() {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic("gaps", 1, Map.of());
        }
        produce("gaps", 100);
        // ack all but offset 50: only 0..49 may be committed
        ReactiveConsumer<Integer> first = ReactiveConsumer.builder(settings, "gaps-group", ReactiveConsumerTest::decode)
                .topics("gaps").closeTimeout(Duration.ZERO).build();
        first.receive().doOnNext(r -> {
            if (r.value() != 50) {
                r.ack();
            }
        }).take(100).blockLast(Duration.ofSeconds(30));
        first.close();
        assertEquals(50, first.stats().committed(), first.stats().toString());
        ReactiveConsumer<Integer> second = ReactiveConsumer.builder(settings, "gaps-group", ReactiveConsumerTest::decode)
                .topics("gaps").build();
        Integer firstSeen = second.receive().doOnNext(Received::ack).map(Received::value)
                .blockFirst(Duration.ofSeconds(30));
        second.close();
        assertEquals(50, firstSeen);
    }
}
