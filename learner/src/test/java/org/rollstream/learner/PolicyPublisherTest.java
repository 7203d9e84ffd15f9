package org.rollstream.learner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.learner.state.RunIdentity;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.transport.time.Time;
import org.rollstream.transport.weights.WeightsSettings;

/** The background publisher against a real broker and real files, with a learner that changes its weights faster than they go out. */
@ExtendWith(SharedBroker.class)
class PolicyPublisherTest {
    private static final ModelSpec SPEC = ModelSpec.preset("tiny");
    private static final String PROBE = "wte.weight";
    private static final int VERSIONS = 20;

    @Test
    void aBusyPublisherDropsWaitingVersionsForTheNewestAndEachAnnouncedFileHoldsItsVersionsWeights(
            EmbeddedKafka kafka, @TempDir Path dir) throws Exception {
        KafkaSettings settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopic(Topics.POLICY_VERSIONS, 1, Map.of());
        }
        String name = "publisher-test";
        RunIdentity run = new RunIdentity("publisher-test-run", 0);
        Map<Long, float[]> probeAt = new HashMap<>();
        long skipped;
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "publisher-test");
             NDManager nd = NDManager.newBaseManager()) {
            PolicyPublisher publisher = new PolicyPublisher(dir, name, SPEC, run, producer, Time.SYSTEM,
                    WeightsSettings.defaults(), null);
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 1);
            Weights w = policy.exportWeights();
            for (long v = 1; v <= VERSIONS; v++) {
                // a step: every value of the probed tensor moves, so a file from another version cannot match
                float[] probe = w.get(PROBE).data();
                for (int i = 0; i < probe.length; i++) probe[i] += 0.01f;
                policy.loadWeights(w);
                probeAt.put(v, probe.clone());
                publisher.publishInBackground(policy.snapshot(), v, v);
            }
            policy.loadWeights(DjlPolicy.initialWeights(SPEC, 2)); // after the last call: must not reach any file
            publisher.awaitPublished();
            skipped = publisher.skipped();
            publisher.close();
        }

        List<PolicyVersion> announced = readAnnouncements(settings, name);
        System.out.printf("%d versions: %d announced, %d dropped while waiting%n", VERSIONS, announced.size(), skipped);
        assertEquals(VERSIONS, announced.size() + skipped, "every version is either announced or counted as skipped");
        assertTrue(skipped > 0, "twenty versions made back to back outrun the publisher: some wait and are dropped");
        assertEquals(VERSIONS, announced.get(announced.size() - 1).getVersion(), "the newest version always goes out");
        for (int i = 1; i < announced.size(); i++) {
            assertTrue(announced.get(i).getVersion() > announced.get(i - 1).getVersion(), "announced in order");
        }
        for (PolicyVersion pv : announced) {
            Path file = Path.of(pv.getWeightsLocation().toString());
            if (!file.toFile().exists()) continue; // pruned: the store keeps the first and the last few
            float[] got = WeightSnapshot.open(file).load().get(PROBE).data();
            assertArrayEquals(probeAt.get(pv.getVersion()), got, "v" + pv.getVersion() + "'s file holds the weights of its step");
        }
        PolicyVersion last = announced.get(announced.size() - 1);
        assertArrayEquals(probeAt.get((long) VERSIONS), WeightSnapshot.open(Path.of(last.getWeightsLocation().toString())).load().get(PROBE).data());
    }

    private static List<PolicyVersion> readAnnouncements(KafkaSettings settings, String name) {
        Properties props = settings.consumerProps("unused");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        AvroCodec<PolicyVersion> codec = AvroCodec.of(PolicyVersion.class);
        List<PolicyVersion> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(Topics.POLICY_VERSIONS, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (consumer.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    PolicyVersion pv = codec.decode(r.value());
                    if (pv.getPolicy().toString().equals(name)) out.add(pv);
                }
            }
        }
        return out;
    }
}
