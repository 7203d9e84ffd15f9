package org.rollstream.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.errors.ProcessingTimeoutException;
import org.rollstream.transport.errors.RetriableRecordException;
import org.rollstream.transport.time.ManualTime;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * Records that fail or are never settled, against a real broker: the ack window pauses a partition
 * behind an unsettled record, retriable failures are retried and then dead-lettered, lost records
 * time out and are redelivered, a fatal error ends the Flux. Deadlines and backoffs run on a
 * {@link ManualTime} the tests advance, so nothing waits for minutes.
 */
@Timeout(120)
@ExtendWith(SharedBroker.class)
class RecordFailureTest {
    static final Duration WAIT = Duration.ofSeconds(30);
    static KafkaSettings settings;

    @BeforeAll
    static void connect(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
    }

    @Test
    void aFullAckWindowPausesThePartitionUntilItsHeadIsSettled() {
        int n = 300, window = 20, maxPoll = 5;
        topic("window", n);
        KafkaSettings smallPolls = settings.withProperty("max.poll.records", Integer.toString(maxPoll));
        AtomicReference<Received<Integer>> held = new AtomicReference<>();
        AtomicInteger maxOffsetWhileHeld = new AtomicInteger(-1);
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(smallPolls, "window-group", RecordFailureTest::decode)
                .topics("window").ackWindow(window).commitInterval(Duration.ZERO).build();
        Disposable running = consumer.receive().subscribe(r -> {
            seen.add(r.value());
            if (r.offset() == 0) {
                held.set(r); // the head of the partition stays unsettled
                return;
            }
            if (held.get() != null) {
                maxOffsetWhileHeld.accumulateAndGet((int) r.offset(), Math::max);
            }
            r.ack();
        });
        try {
            Await.until(() -> consumer.stats().windowPauses() > 0 && held.get() != null, consumer.stats()::toString, WAIT);
            int reached = maxOffsetWhileHeld.get();
            assertTrue(reached < window + maxPoll, "handed out offset " + reached + " behind an unsettled head, window "
                    + window + " + one poll of " + maxPoll);
            assertEquals(0, consumer.stats().committed(), "nothing committed past the unsettled head");
            assertTrue(seen.size() < n, "the partition was paused, not drained");

            held.get().ack();
            Await.until(() -> consumer.stats().committed() == n, consumer.stats()::toString, WAIT);
            assertEquals(n, seen.size(), "the partition resumed once its head was settled");
        } finally {
            running.dispose();
            consumer.close();
        }
    }

    @Test
    void aRetriableFailureIsRetriedThenDeadLetteredWithItsReason() {
        int n = 10;
        topic("retry", n);
        ManualTime time = new ManualTime();
        Map<Integer, Integer> deliveries = new ConcurrentHashMap<>();
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(settings, "retry-group", RecordFailureTest::decode)
                .topics("retry").clientId("retry-test").time(time).commitInterval(Duration.ZERO)
                .retry(new RetryPolicy(2, Duration.ofSeconds(1), Duration.ofSeconds(10))).build();
        Disposable running = consumer.receive().subscribe(r -> {
            deliveries.merge(r.value(), 1, Integer::sum);
            if (r.value() == 3) {
                r.nack(new RetriableRecordException("scorer endpoint down for " + r.value()));
            } else {
                r.ack();
            }
        });
        try {
            // the manual clock moves 50 ms per check, through backoffs of 1 s and 2 s
            Await.until(() -> {
                time.advance(50);
                return consumer.stats().committed() == n;
            }, consumer.stats()::toString, WAIT);
        } finally {
            running.dispose();
            consumer.close();
        }
        assertEquals(3, deliveries.get(3), "one delivery and two retries");
        for (int v = 0; v < n; v++) {
            assertEquals(v == 3 ? 3 : 1, deliveries.get(v), "deliveries of " + v);
        }
        assertEquals(2, consumer.stats().retried());
        assertEquals(1, consumer.stats().deadLettered());

        DeadLetter letter = TopicReader.readUntil(settings.bootstrapServers(), Topics.dlq("retry"), List.of("k3"),
                DeadLetterPublisher.codec()::decode, WAIT).get("k3");
        assertEquals(RetriableRecordException.class.getName(), letter.getErrorClass());
        assertEquals("gave up after 3 deliveries: scorer endpoint down for 3", letter.getReason());
        assertEquals(DeadLetterPublisher.STAGE_PROCESS, letter.getStage());
        assertEquals(3, letter.getOffset());
        assertEquals("retry-test", letter.getFailedBy());
    }

    @Test
    void anUnsettledRecordTimesOutIsRedeliveredAndCommitsMovePastIt() {
        int n = 10;
        topic("deadline", n);
        ManualTime time = new ManualTime();
        Map<Integer, Integer> deliveries = new ConcurrentHashMap<>();
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(settings, "deadline-group", RecordFailureTest::decode)
                .topics("deadline").time(time).commitInterval(Duration.ZERO).processingTimeout(Duration.ofMinutes(5))
                .retry(new RetryPolicy(1, Duration.ofSeconds(1), Duration.ofSeconds(1))).build();
        Disposable running = consumer.receive().subscribe(r -> {
            int d = deliveries.merge(r.value(), 1, Integer::sum);
            assertEquals(d, r.delivery());
            // 2 is lost on its first delivery and processed on its second; 5 is never settled
            if ((r.value() != 2 || d > 1) && r.value() != 5) {
                r.ack();
            }
        });
        try {
            Await.until(() -> deliveries.size() == n && consumer.stats().committed() == 2, consumer.stats()::toString, WAIT);
            time.advance(Duration.ofMinutes(5).toMillis());
            Await.until(() -> consumer.stats().timedOut() == 2, consumer.stats()::toString, WAIT);
            time.advance(1000); // the backoff
            Await.until(() -> deliveries.get(2) == 2 && deliveries.get(5) == 2 && consumer.stats().committed() == 5,
                    consumer.stats()::toString, WAIT);
            time.advance(Duration.ofMinutes(5).toMillis()); // 5 times out again: retries used up
            Await.until(() -> consumer.stats().committed() == n, consumer.stats()::toString, WAIT);
        } finally {
            running.dispose();
            consumer.close();
        }
        assertEquals(3, consumer.stats().timedOut());
        assertEquals(2, consumer.stats().retried());
        assertEquals(1, consumer.stats().deadLettered());
        // one partition, read in order: a dead letter of 2 (timed out first) would come before 5's
        Map<String, DeadLetter> letters = TopicReader.readUntil(settings.bootstrapServers(), Topics.dlq("deadline"),
                List.of("k5"), DeadLetterPublisher.codec()::decode, WAIT);
        assertEquals(Set.of("k5"), letters.keySet(), "only the record never settled is dead-lettered");
        DeadLetter letter = letters.get("k5");
        assertEquals(ProcessingTimeoutException.class.getName(), letter.getErrorClass());
        assertTrue(letter.getReason().startsWith("gave up after 2 deliveries: not settled within 300000 ms"), letter.getReason());

        ReactiveConsumer<Integer> again = ReactiveConsumer.builder(settings, "deadline-group", RecordFailureTest::decode)
                .topics("deadline").build();
        produceOne("deadline", 99);
        Integer next = again.receive().doOnNext(Received::ack).map(Received::value).blockFirst(WAIT);
        again.close();
        assertEquals(99, next, "the group's committed position is past every earlier record");
    }

    @Test
    void aFatalErrorEndsTheFluxAndLeavesTheRecordUncommitted() {
        topic("fatal", 5);
        ReactiveConsumer<Integer> consumer = ReactiveConsumer.builder(settings, "fatal-group", RecordFailureTest::decode)
                .topics("fatal").commitInterval(Duration.ZERO).build();
        IllegalStateException bug = new IllegalStateException("a bug, not bad input");
        Throwable error = null;
        try {
            consumer.receive().doOnNext(r -> {
                if (r.value() == 2) {
                    r.nack(bug);
                } else {
                    r.ack();
                }
            }).blockLast(WAIT);
        } catch (RuntimeException e) {
            error = e;
        }
        consumer.close();
        assertInstanceOf(IllegalStateException.class, error);
        assertEquals(bug.getMessage(), error.getMessage());
        assertEquals(0, consumer.stats().deadLettered(), "a bug is not dead-lettered as bad input");
        assertEquals(2, consumer.stats().committed(), "committed up to the failed record: " + consumer.stats());

        ReactiveConsumer<Integer> again = ReactiveConsumer.builder(settings, "fatal-group", RecordFailureTest::decode)
                .topics("fatal").build();
        Integer first = again.receive().doOnNext(Received::ack).map(Received::value).blockFirst(WAIT);
        again.close();
        assertEquals(2, first, "the failed record is redelivered to the next member");
    }

    static void topic(String name, int records) {
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(name, 1, Map.of());
        }
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "failure-test-producer")) {
            producer.sendAll(Flux.range(0, records).map(i -> new ProducerRecord<>(name,
                    ("k" + i).getBytes(StandardCharsets.UTF_8), Integer.toString(i).getBytes(StandardCharsets.UTF_8))))
                    .blockLast(WAIT);
        }
    }

    static void produceOne(String topic, int value) {
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "failure-test-producer")) {
            producer.send(topic, "k" + value, Integer.toString(value).getBytes(StandardCharsets.UTF_8)).block(WAIT);
        }
    }

    static Integer decode(byte[] v) {
        return Integer.valueOf(new String(v, StandardCharsets.UTF_8));
    }
}
