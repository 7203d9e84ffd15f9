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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.errors.BadRecordException;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** The bridge against a real in-process broker: demand, pausing, commits of acked prefixes. */
@ExtendWith(SharedBroker.class)
class ReactiveConsumerTest {
    static KafkaSettings settings;

    @BeforeAll
    static void connect(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
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

    @Test
    void badRecordsGoStraightToTheDlqAndCountAsDone() {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic("failing", 1, Map.of());
        }
        produce("failing", 20);
        Map<Integer, Integer> deliveries = new ConcurrentHashMap<>();
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(settings, "failing-group", ReactiveConsumerTest::decode)
                .topics("failing").clientId("failing-test").retry(new RetryPolicy(3, Duration.ZERO, Duration.ZERO)).build();
        consumer.receive().doOnNext(r -> {
            deliveries.merge(r.value(), 1, Integer::sum);
            if (r.value() % 5 == 0) {
                r.nack(new BadRecordException("cannot score " + r.value()));
            } else {
                r.ack();
            }
        }).take(20).blockLast(Duration.ofSeconds(30));
        Await.until(() -> consumer.stats().deadLettered() == 4, consumer.stats()::toString, Duration.ofSeconds(30));
        consumer.close();
        assertEquals(20, consumer.stats().committed(), "dead-lettered records count as done: " + consumer.stats());
        assertEquals(0, consumer.stats().retried(), "a bad record is never retried");
        assertEquals(20, deliveries.size());
        deliveries.forEach((v, n) -> assertEquals(1, n, "deliveries of " + v));

        var codec = DeadLetterPublisher.codec();
        ReactiveConsumer<org.rollstream.schemas.records.DeadLetter> dlq = ReactiveConsumer
                .builder(settings, "failing-dlq", codec::decode).topics("failing.dlq").build();
        var letters = dlq.receive().doOnNext(Received::ack).map(Received::value).take(4)
                .collectList().block(Duration.ofSeconds(30));
        dlq.close();
        assertEquals(4, letters.size());
        for (var letter : letters) {
            assertEquals(DeadLetterPublisher.STAGE_PROCESS, letter.getStage());
            assertEquals(BadRecordException.class.getName(), letter.getErrorClass());
            assertTrue(letter.getReason().startsWith("cannot score "), letter.getReason());
            assertEquals("failing-test", letter.getFailedBy());
        }
    }

    @Test
    void aSecondMemberJoiningMidStreamLosesNothing() throws InterruptedException {
        int n = 4000;
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic("shared", 4, Map.of());
        }
        produce("shared", n);
        java.util.concurrent.atomic.AtomicIntegerArray seen = new java.util.concurrent.atomic.AtomicIntegerArray(n);
        AtomicInteger distinct = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        java.util.function.Function<ReactiveConsumer<Integer>, reactor.core.Disposable> run = c -> c.receive()
                .delayElements(Duration.ofMillis(1), Schedulers.parallel())
                .doOnNext(r -> {
                    if (seen.getAndIncrement(r.value()) == 0) {
                        distinct.incrementAndGet();
                    }
                    total.incrementAndGet();
                    r.ack();
                }).subscribe();
        ReactiveConsumer<Integer> a = ReactiveConsumer.builder(settings, "shared-group", ReactiveConsumerTest::decode)
                .topics("shared").maxBuffered(32).build();
        ReactiveConsumer<Integer> b = ReactiveConsumer.builder(settings, "shared-group", ReactiveConsumerTest::decode)
                .topics("shared").maxBuffered(32).build();
        reactor.core.Disposable runA = run.apply(a);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (total.get() < n / 4 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        reactor.core.Disposable runB = run.apply(b); // triggers a rebalance while A is busy
        while (distinct.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        runA.dispose();
        runB.dispose();
        a.close();
        b.close();
        int duplicates = total.get() - distinct.get();
        System.out.printf("rebalance: distinct %d, duplicates %d%n  a: %s%n  b: %s%n", distinct.get(), duplicates, a.stats(), b.stats());
        assertEquals(n, distinct.get());
        assertTrue(a.stats().rebalances() > 0, "A saw its partitions revoked");
        assertTrue(b.stats().emitted() > 0, "B got partitions");
        assertTrue(duplicates <= a.stats().uncommittedAtClose() + b.stats().uncommittedAtClose(),
                "duplicates bounded by what was uncommitted at revoke/close");
    }
}
