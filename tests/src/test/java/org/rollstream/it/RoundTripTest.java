package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.TopicAdmin;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * 100,000 records through producer, topic and consumer Flux while the consumer is stopped and
 * restarted half-way: nothing is lost, and what is seen twice is no more than what the first
 * consumer had polled but not committed when it stopped.
 */
@ExtendWith(KafkaBrokerExtension.class)
class RoundTripTest {
    static final int RECORDS = 100_000;
    static final int PARTITIONS = 4;
    static final int CONCURRENCY = 32;
    static final int MAX_BUFFERED = 256;
    static final int MAX_POLL_RECORDS = 500; // the consumer default

    final AtomicIntegerArray timesSeen = new AtomicIntegerArray(RECORDS);
    final AtomicInteger distinct = new AtomicInteger();
    final AtomicLong processed = new AtomicLong();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void everyRecordAtLeastOnceAcrossARestart(KafkaSettings settings) throws Exception {
        String topic = "roundtrip";
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(topic, PARTITIONS, java.util.Map.of());
        }
        CompletableFuture<Void> produced = CompletableFuture.runAsync(() -> produce(settings, topic));

        ReactiveConsumer<Integer> first = consumer(settings);
        Disposable running = process(first).subscribe();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (processed.get() < RECORDS / 2 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        running.dispose(); // stop mid-stream: records in flight are neither acked nor committed
        first.close();
        long inFlightAtStop = first.stats().uncommittedAtClose();
        long seenByFirst = processed.get();

        ReactiveConsumer<Integer> second = consumer(settings);
        Disposable resumed = process(second).subscribe();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (distinct.get() < RECORDS && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        resumed.dispose();
        second.close();
        produced.get(10, TimeUnit.SECONDS);

        long duplicates = processed.get() - distinct.get();
        System.out.printf("round trip: %d distinct of %d, first consumer processed %d, duplicates %d, "
                        + "uncommitted at stop %d (bound %d)%nfirst:  %s%nsecond: %s%n",
                distinct.get(), RECORDS, seenByFirst, duplicates, inFlightAtStop,
                MAX_BUFFERED + CONCURRENCY + MAX_POLL_RECORDS, first.stats(), second.stats());
        assertEquals(RECORDS, distinct.get(), "every record processed at least once");
        assertTrue(seenByFirst >= RECORDS / 2 && seenByFirst < RECORDS, "the restart happened mid-stream");
        assertTrue(duplicates <= inFlightAtStop, "duplicates " + duplicates + " > uncommitted at stop " + inFlightAtStop);
        assertTrue(inFlightAtStop <= MAX_BUFFERED + CONCURRENCY + MAX_POLL_RECORDS,
                "in flight at stop " + inFlightAtStop + " exceeds buffer + concurrency + one poll");
        assertEquals(RECORDS, second.stats().committed() + first.stats().committed(), "all offsets committed once");
    }

    private ReactiveConsumer<Integer> consumer(KafkaSettings settings) {
        return ReactiveConsumer.builder(settings, "roundtrip-group", RoundTripTest::decode)
                .topics("roundtrip").maxBuffered(MAX_BUFFERED).closeTimeout(Duration.ZERO).build();
    }

    /** Processes on parallel workers and acks out of order, like a real role does. */
    private Flux<Received<Integer>> process(ReactiveConsumer<Integer> consumer) {
        return consumer.receive().flatMap(r -> Mono.fromCallable(() -> {
            if (timesSeen.getAndIncrement(r.value()) == 0) {
                distinct.incrementAndGet();
            }
            processed.incrementAndGet();
            return r;
        }).subscribeOn(Schedulers.parallel()), CONCURRENCY).doOnNext(Received::ack);
    }

    private static void produce(KafkaSettings settings, String topic) {
        byte[] padding = new byte[96];
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "roundtrip-producer")) {
            producer.sendAll(Flux.range(0, RECORDS).map(i -> {
                ByteBuffer value = ByteBuffer.allocate(4 + padding.length).putInt(i).put(padding);
                return new ProducerRecord<>(topic, ("id-" + i).getBytes(StandardCharsets.UTF_8), value.array());
            })).blockLast(Duration.ofSeconds(90));
        }
    }

    private static Integer decode(byte[] value) {
        return ByteBuffer.wrap(value).getInt();
    }
}
