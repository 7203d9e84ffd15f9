package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.schemas.serde.RecordDecodeException;
import org.rollstream.schemas.serde.UnknownSchemaException;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.TopicAdmin;
import reactor.core.publisher.Flux;

/**
 * Undecodable records among good ones: the pipeline keeps going, every good record is processed,
 * every bad one lands in {@code <topic>.dlq} with its original bytes, coordinates and the reason.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PoisonRecordTest {
    static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    static final int GOOD = 10_000;
    static final int BAD = 100;
    static final int UNKNOWN_SCHEMA = 10; // of the BAD ones: well-formed header, fingerprint nobody knows

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void poisonGoesToTheDlqAndTheRestIsProcessed(KafkaSettings settings) {
        String topic = "poison";
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(topic, 3, Map.of());
        }
        Map<String, byte[]> badValues = new HashMap<>();
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        int bad = 0;
        for (int i = 0; i < GOOD; i++) {
            String id = "p-" + i;
            records.add(record(topic, id, PROMPTS.encode(prompt(id))));
            if (i % (GOOD / BAD) == GOOD / BAD / 2) {
                String badId = "bad-" + bad;
                byte[] value = bad < UNKNOWN_SCHEMA ? unknownFingerprint(bad) : ("not avro " + bad).getBytes(StandardCharsets.UTF_8);
                badValues.put(badId, value);
                records.add(record(topic, badId, value));
                bad++;
            }
        }
        assertEquals(BAD, bad);
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "poison-producer")) {
            producer.sendAll(Flux.fromIterable(records)).blockLast(Duration.ofSeconds(60));
        }

        Set<String> processed = ConcurrentHashMap.newKeySet();
        ReactiveConsumer<Prompt> consumer = ReactiveConsumer.builder(settings, "poison-group", PROMPTS::decode)
                .topics(topic).clientId("poison-test").build();
        consumer.receive()
                .doOnNext(r -> {
                    processed.add(r.value().getId());
                    r.ack();
                })
                .take(GOOD)
                .blockLast(Duration.ofSeconds(60));
        consumer.close();
        assertEquals(GOOD, processed.size(), "every good record processed");
        assertEquals(BAD, consumer.stats().deadLettered(), consumer.stats().toString());

        Map<String, DeadLetter> letters = readDeadLetters(settings, topic, BAD);
        assertEquals(badValues.keySet(), letters.keySet(), "every bad record, by key, in the DLQ");
        int unknown = 0;
        for (Map.Entry<String, DeadLetter> e : letters.entrySet()) {
            DeadLetter dl = e.getValue();
            assertArrayEquals(badValues.get(e.getKey()), bytes(dl.getValue()), "original bytes kept");
            assertArrayEquals(e.getKey().getBytes(StandardCharsets.UTF_8), bytes(dl.getKey()), "original key kept");
            assertEquals(topic, dl.getTopic());
            assertTrue(dl.getPartition() >= 0 && dl.getPartition() < 3 && dl.getOffset() >= 0, "coordinates");
            assertEquals(DeadLetterPublisher.STAGE_DECODE, dl.getStage());
            assertEquals("poison-test", dl.getFailedBy());
            assertFalse(dl.getReason().isBlank(), "a reason");
            assertTrue(RecordDecodeException.class.isAssignableFrom(classOf(dl.getErrorClass())), dl.getErrorClass());
            if (dl.getErrorClass().equals(UnknownSchemaException.class.getName())) {
                unknown++;
                assertTrue(dl.getReason().contains("unknown writer schema fingerprint"), dl.getReason());
            }
        }
        assertEquals(UNKNOWN_SCHEMA, unknown, "the typed unknown-schema error survives into the DLQ");
    }

    private static Map<String, DeadLetter> readDeadLetters(KafkaSettings settings, String topic, int expected) {
        AvroCodec<DeadLetter> codec = DeadLetterPublisher.codec();
        Map<String, DeadLetter> letters = new ConcurrentHashMap<>();
        ReactiveConsumer<DeadLetter> dlq = ReactiveConsumer.builder(settings, "poison-dlq-reader", codec::decode)
                .topics(Topics.dlq(topic)).build();
        dlq.receive().doOnNext(r -> {
            letters.put(r.key(), r.value());
            r.ack();
        }).take(expected).blockLast(Duration.ofSeconds(30));
        dlq.close();
        return letters;
    }

    private static Prompt prompt(String id) {
        return Prompt.newBuilder().setId(id).setTask("arithmetic").setText("1+1=").setAnswer("2").build();
    }

    /** The single-object header (C3 01) with a fingerprint no schema has, then a body. */
    private static byte[] unknownFingerprint(int i) {
        return ByteBuffer.allocate(2 + 8 + 4).order(ByteOrder.LITTLE_ENDIAN)
                .put((byte) 0xC3).put((byte) 0x01).putLong(0x5EED_0000_0000_0000L + i).putInt(i).array();
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, String key, byte[] value) {
        return new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    private static Class<?> classOf(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            throw new AssertionError("unknown error class " + name, e);
        }
    }
}
