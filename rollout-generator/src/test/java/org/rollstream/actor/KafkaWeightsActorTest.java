package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.WeightChunk;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.transport.weights.AnnouncementSigner;
import org.rollstream.transport.weights.KafkaWeightStore;
import org.rollstream.transport.weights.KafkaWeightsLocation;
import org.rollstream.transport.weights.WeightBlob;
import org.rollstream.transport.weights.WeightChunks;
import org.rollstream.transport.weights.WeightsSettings;

/**
 * An actor with signing on, fed weights over the {@code policy.weights} topic: it serves signed
 * versions, refuses unsigned, wrongly signed, partial and corrupt ones while the old version keeps
 * serving, and an actor joining late loads the latest version directly.
 */
@Timeout(180)
@ExtendWith(SharedBroker.class)
class KafkaWeightsActorTest {
    static final String POLICY = "kafka-weights";
    static final String RUN = "run-kw";
    static final AvroCodec<PolicyVersion> VERSIONS = AvroCodec.of(PolicyVersion.class);
    static final AvroCodec<WeightChunk> CHUNKS = AvroCodec.of(WeightChunk.class);
    static final Tokenizer TOKENIZER = CharTokenizer.builtin();
    static final ModelSpec SPEC = new ModelSpec(TOKENIZER.vocabSize(), 32, 1, 2, 96, ModelSpec.Positional.LEARNED, 2);
    static final AnnouncementSigner KEY = AnnouncementSigner.of("the learner's and actors' secret".getBytes(StandardCharsets.UTF_8));
    static final AnnouncementSigner OTHER_KEY = AnnouncementSigner.of("somebody else's secret key here".getBytes(StandardCharsets.UTF_8));

    static KafkaSettings settings;
    static ReactiveProducer producer;
    static KafkaWeightStore store;

    @BeforeAll
    static void connect(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
        producer = ReactiveProducer.create(settings, "kafka-weights-test");
        store = new KafkaWeightStore(settings, "kafka-weights-test");
    }

    @AfterAll
    static void close() {
        store.close();
        producer.close();
    }

    @Test
    void servesSignedVersionsFromKafkaAndRefusesEverythingElse() throws Exception {
        announce(KEY.sign(version(1, store.put(blob(1)))));
        ActorConfig config = ActorConfig.defaults("kw-actor").withPolicyName(POLICY).withConsumerGroup("kw-actors");
        WeightsSettings signed = new WeightsSettings(WeightsSettings.Store.DIR, false, Optional.of(KEY));
        try (ActorService actor = ActorService.start(settings, config, TOKENIZER, signed)) {
            await(() -> actor.stats().currentVersion() == 1, actor);

            announce(version(2, store.put(blob(2)))); // unsigned
            await(() -> actor.stats().versionsUnsigned() == 1, actor);
            announce(OTHER_KEY.sign(version(3, store.put(blob(3))))); // another key
            await(() -> actor.stats().versionsBadSignature() == 1, actor);
            announce(KEY.sign(version(4, partial(blob(4))))); // signed, but a chunk never reached the topic
            announce(KEY.sign(version(5, corrupt(blob(5))))); // signed, but a chunk was altered on the way
            await(() -> actor.stats().versionsRefused() == 4, actor);
            assertEquals(1, actor.stats().currentVersion(), actor.stats().toString());
            assertEquals(1, actor.stats().versionsLoaded());

            announce(KEY.sign(version(6, store.put(blob(6)))));
            await(() -> actor.stats().currentVersion() == 6, actor);
            assertEquals(2, actor.stats().versionsLoaded());
            assertEquals(4, actor.stats().versionsRefused());

            // a late actor reads the log to its end first and loads only the latest version
            try (ActorService late = ActorService.start(settings, config.withActorId("kw-late"), TOKENIZER, signed)) {
                await(() -> late.stats().currentVersion() == 6, late);
                assertEquals(1, late.stats().versionsLoaded(), late.stats().toString());
                assertEquals(0, late.stats().versionsRefused(), late.stats().toString());
            }
        }
    }

    static WeightBlob blob(long version) {
        byte[] bytes = WeightSnapshot.toBytes(DjlPolicy.initialWeights(SPEC, version), SPEC, version, version, true);
        return new WeightBlob(POLICY, RUN, 0, version, bytes, WeightChunks.sha256(bytes), true);
    }

    static PolicyVersion version(long v, String location) {
        return PolicyVersion.newBuilder().setPolicy(POLICY).setRunId(RUN).setVersion(v).setStep(v)
                .setWeightsLocation(location).setSha256(WeightChunks.sha256(blob(v).bytes()))
                .setCreatedAtMs(System.currentTimeMillis()).setSpec(SPEC.toJson()).build();
    }

    static void announce(PolicyVersion v) {
        producer.send(Topics.POLICY_VERSIONS, POLICY, VERSIONS.encode(v)).block(Duration.ofSeconds(30));
    }

    /** All chunks but the last go out; the location claims them all. */
    static String partial(WeightBlob b) throws Exception {
        List<WeightChunk> chunks = WeightChunks.split(b, 4096);
        return send(b, chunks.subList(0, chunks.size() - 1), chunks.size());
    }

    /** Every chunk goes out, one with a byte flipped after its checksum was taken. */
    static String corrupt(WeightBlob b) throws Exception {
        List<WeightChunk> chunks = WeightChunks.split(b, 4096);
        WeightChunk c = chunks.get(1);
        byte[] data = new byte[c.getData().remaining()];
        c.getData().duplicate().get(data);
        data[5] ^= 0x10;
        c.setData(ByteBuffer.wrap(data));
        return send(b, chunks, chunks.size());
    }

    static String send(WeightBlob b, List<WeightChunk> chunks, int count) throws Exception {
        long first = -1;
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(settings.producerProps())) {
            for (WeightChunk c : chunks) {
                byte[] key = (POLICY + "/" + b.version() % Topics.WEIGHT_SLOTS + "/" + c.getIndex()).getBytes(StandardCharsets.UTF_8);
                RecordMetadata m = p.send(new ProducerRecord<>(Topics.POLICY_WEIGHTS, 0, key, CHUNKS.encode(c))).get();
                first = first < 0 ? m.offset() : first;
            }
        }
        return new KafkaWeightsLocation(Topics.POLICY_WEIGHTS, RUN, 0, b.version(), 0, first, count).format();
    }

    static void await(java.util.function.BooleanSupplier ok, ActorService a) {
        Await.until(ok, () -> a.stats().toString(), Duration.ofSeconds(60));
    }
}
