package org.rollstream.transport.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.WeightChunk;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;

/** Weights through a real broker: what is put comes back whole, and a version with a bad or missing chunk is refused at once. */
@Timeout(120)
@ExtendWith(SharedBroker.class)
class KafkaWeightStoreTest {
    private static final int CHUNK = 64 * 1024;
    private static final AvroCodec<WeightChunk> CODEC = AvroCodec.of(WeightChunk.class);
    static KafkaSettings settings;

    @BeforeAll
    static void connect(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
    }

    private static String topic(String name) {
        Map<String, String> configs = Topics.all(1).stream().filter(s -> s.name().equals(Topics.POLICY_WEIGHTS)).findFirst()
                .orElseThrow().configs();
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(name, 1, configs);
        }
        return name;
    }

    private static WeightBlob blob(String run, long version, int size) {
        byte[] b = new byte[size];
        new Random(version).nextBytes(b);
        return new WeightBlob("default", run, 0, version, b, WeightChunks.sha256(b), false);
    }

    @Test
    void versionsComeBackWholeAlsoToAReaderThatStartsLater() {
        String topic = topic("weights-roundtrip");
        WeightBlob v1 = blob("run-a", 1, 5 * CHUNK + 123), v2 = blob("run-a", 2, 3 * CHUNK);
        String loc1, loc2;
        try (KafkaWeightStore writer = new KafkaWeightStore(settings, topic, "writer", CHUNK)) {
            loc1 = writer.put(v1);
            loc2 = writer.put(v2);
        }
        assertEquals(6, KafkaWeightsLocation.parse(loc1).chunks());
        assertTrue(KafkaWeightsLocation.parse(loc2).offset() > KafkaWeightsLocation.parse(loc1).offset());
        try (KafkaWeightStore reader = new KafkaWeightStore(settings, topic, "reader", CHUNK)) {
            assertArrayEquals(v2.bytes(), reader.fetch(loc2, v2.sha256()).bytes());
            assertArrayEquals(v1.bytes(), reader.fetch(loc1, v1.sha256()).bytes()); // seeking back works too
            WeightStoreException e = assertThrows(WeightStoreException.class, () -> reader.fetch(loc1, v2.sha256()));
            assertTrue(e.getMessage().contains("sha-256"), e.getMessage());
        }
    }

    @Test
    void aCorruptChunkOnTheTopicIsRefused() throws Exception {
        String topic = topic("weights-corrupt");
        WeightBlob v = blob("run-c", 7, 4 * CHUNK);
        List<WeightChunk> chunks = WeightChunks.split(v, CHUNK);
        byte[] data = new byte[CHUNK];
        chunks.get(2).getData().duplicate().get(data);
        data[100] ^= 0x01; // flipped on the way: the chunk keeps its original checksum
        chunks.get(2).setData(ByteBuffer.wrap(data));
        String loc = produce(topic, v, chunks);
        try (KafkaWeightStore reader = new KafkaWeightStore(settings, topic, "reader", CHUNK)) {
            WeightStoreException e = assertThrows(WeightStoreException.class, () -> reader.fetch(loc, v.sha256()));
            assertTrue(e.getMessage().contains("CRC-32C"), e.getMessage());
        }
    }

    @Test
    void aVersionMissingAChunkIsRefusedAsPartialWithoutWaiting() throws Exception {
        String topic = topic("weights-partial");
        WeightBlob v = blob("run-p", 3, 4 * CHUNK);
        List<WeightChunk> chunks = new java.util.ArrayList<>(WeightChunks.split(v, CHUNK));
        chunks.remove(3); // the learner died before the last chunk
        String loc = produce(topic, v, chunks);
        try (KafkaWeightStore reader = new KafkaWeightStore(settings, topic, "reader", CHUNK)) {
            WeightStoreException e = assertThrows(WeightStoreException.class, () -> reader.fetch(loc, v.sha256()));
            assertTrue(e.getMessage().contains("partial: 3 of 4 chunks"), e.getMessage());
            WeightStoreException beyond = assertThrows(WeightStoreException.class,
                    () -> reader.fetch(new KafkaWeightsLocation(topic, "run-p", 0, 3, 0, 1_000_000, 4).format(), v.sha256()));
            assertTrue(beyond.getMessage().contains("not on the broker"), beyond.getMessage());
        }
    }

    @Test
    void aPrefetchingReaderHasLaterVersionsReadWhenTheyAreAnnouncedAndChecksThemAlike() throws Exception {
        String topic = topic("weights-prefetch");
        WeightBlob v1 = blob("run-f", 1, 3 * CHUNK), v2 = blob("run-f", 2, 5 * CHUNK + 7), v3 = blob("run-f", 3, 4 * CHUNK);
        try (KafkaWeightStore writer = new KafkaWeightStore(settings, topic, "writer", CHUNK);
             KafkaWeightStore reader = KafkaWeightStore.prefetching(settings, topic, "reader")) {
            String loc1 = writer.put(v1);
            assertArrayEquals(v1.bytes(), reader.fetch(loc1, v1.sha256()).bytes()); // put before the reader's first fetch: read from its offset
            assertEquals(0, reader.prefetchedFetches());

            String loc2 = writer.put(v2), loc3 = writer.put(v3);
            assertArrayEquals(v3.bytes(), reader.fetch(loc3, v3.sha256()).bytes());
            assertArrayEquals(v2.bytes(), reader.fetch(loc2, v2.sha256()).bytes());
            assertEquals(2, reader.prefetchedFetches(), "both put after the first fetch came from the prefetcher");

            // three more versions: the prefetcher keeps the newest two; the oldest is read from its offset, whole
            WeightBlob v4 = blob("run-f", 4, 2 * CHUNK), v5 = blob("run-f", 5, 2 * CHUNK), v6 = blob("run-f", 6, 2 * CHUNK);
            String loc4 = writer.put(v4), loc5 = writer.put(v5), loc6 = writer.put(v6);
            assertArrayEquals(v6.bytes(), reader.fetch(loc6, v6.sha256()).bytes());
            assertArrayEquals(v4.bytes(), reader.fetch(loc4, v4.sha256()).bytes());
            assertEquals(3, reader.prefetchedFetches(), "v6 prefetched, v4 evicted and read from its offset");
            WeightStoreException wrongSha = assertThrows(WeightStoreException.class, () -> reader.fetch(loc5, v6.sha256()));
            assertTrue(wrongSha.getMessage().contains("sha-256"), wrongSha.getMessage());

            // a corrupt chunk is refused as the offset reader refuses it, with its reason
            WeightBlob bad = blob("run-f", 7, 3 * CHUNK);
            List<WeightChunk> chunks = WeightChunks.split(bad, CHUNK);
            byte[] data = new byte[CHUNK];
            chunks.get(1).getData().duplicate().get(data);
            data[5] ^= 0x10;
            chunks.get(1).setData(ByteBuffer.wrap(data));
            String badLoc = produce(topic, bad, chunks);
            WeightStoreException e = assertThrows(WeightStoreException.class, () -> reader.fetch(badLoc, bad.sha256()));
            assertTrue(e.getMessage().contains("CRC-32C"), e.getMessage());
            assertEquals(3, reader.prefetchedFetches());

            // chunks sent before the checksum was known carry none: checked whole against the announced one, both ways
            WeightBlob known = blob("run-f", 8, 3 * CHUNK);
            WeightBlob streamed = new WeightBlob(known.policy(), known.runId(), 0, 8, known.bytes(), null, false);
            String loc8 = writer.put(streamed);
            WeightStoreException altered = assertThrows(WeightStoreException.class, () -> reader.fetch(loc8, v6.sha256()));
            assertTrue(altered.getMessage().contains("assembled to sha-256"), altered.getMessage());
            assertArrayEquals(known.bytes(), reader.fetch(loc8, known.sha256()).bytes()); // from its offset now
            String loc9 = writer.put(new WeightBlob(known.policy(), known.runId(), 0, 9, known.bytes(), null, false));
            assertArrayEquals(known.bytes(), reader.fetch(loc9, known.sha256()).bytes());
            assertEquals(4, reader.prefetchedFetches(), "v9 prefetched without a checksum on its chunks");
        }
    }

    /** Sends chunks as the store would (keys, one partition) and returns the location of the first. */
    private static String produce(String topic, WeightBlob v, List<WeightChunk> chunks) throws Exception {
        long first = -1;
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(settings.producerProps())) {
            for (WeightChunk c : chunks) {
                byte[] key = ("default/" + v.version() % Topics.WEIGHT_SLOTS + "/" + c.getIndex()).getBytes(StandardCharsets.UTF_8);
                RecordMetadata m = p.send(new ProducerRecord<>(topic, 0, key, CODEC.encode(c))).get();
                first = first < 0 ? m.offset() : first;
            }
        }
        return new KafkaWeightsLocation(topic, v.runId(), v.incarnation(), v.version(), 0, first,
                (int) ((v.bytes().length + CHUNK - 1) / CHUNK)).format();
    }
}
