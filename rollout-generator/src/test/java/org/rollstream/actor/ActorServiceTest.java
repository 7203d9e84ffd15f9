package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.testsupport.Await;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.testsupport.TopicReader;

/**
 * The actor against a real in-process broker and real ONNX Runtime with a tiny random policy:
 * groups tagged with the serving version, invalid prompts dead-lettered, bad weights refused
 * while the old version keeps serving, a good new version swapped in.
 */
@Timeout(120)
@ExtendWith(SharedBroker.class)
class ActorServiceTest {
    static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    static final AvroCodec<PolicyVersion> VERSIONS = AvroCodec.of(PolicyVersion.class);
    static final Tokenizer TOKENIZER = CharTokenizer.builtin();
    static final ModelSpec SPEC = new ModelSpec(TOKENIZER.vocabSize(), 32, 1, 2, 96, ModelSpec.Positional.LEARNED, 2);
    static final int G = 4;

    static KafkaSettings settings;
    static ReactiveProducer producer;

    @TempDir
    Path weightsDir;

    @BeforeAll
    static void startBroker(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
        producer = ReactiveProducer.create(settings, "actor-test-producer");
    }

    @AfterAll
    static void stopBroker() {
        producer.close();
    }

    @Test
    void samplesGroupsAndSwapsOnlyGoodVersions() throws IOException {
        announce(snapshot(1, 1), "");
        ActorConfig config = ActorConfig.defaults("actor-test").withSampling(G, 1.0f, 1.0f, 12).withPromptsPerBatch(4);
        try (ActorService actor = ActorService.start(settings, config, TOKENIZER)) {
            await(() -> actor.stats().currentVersion() == 1, actor.stats()::toString);

            // 1. first version: groups of G, aligned log-probs, tagged v1; an unknown task is dead-lettered
            List<Prompt> first = List.of(prompt("a-1", 1), prompt("a-2", 2), prompt("a-3", 3),
                    Prompt.newBuilder(prompt("a-bad", 4)).setTask("foo").build());
            first.forEach(ActorServiceTest::sendPrompt);
            Map<String, SampledGroup> groups = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("a-1", "a-2", "a-3"), SAMPLED::decode);
            for (Prompt p : first.subList(0, 3)) {
                assertGroup(groups.get(p.getId()), p, 1);
            }
            DeadLetter bad = readUntil(Topics.dlq(Topics.PROMPTS), List.of("a-bad"), DeadLetterPublisher.codec()::decode).get("a-bad");
            assertTrue(bad.getReason().contains("unknown task 'foo' (known: arithmetic, countdown, jsonl)"), bad.getReason());
            assertEquals("actor-test", bad.getFailedBy());
            await(() -> actor.stats().groupsPublished() == 3 && actor.stats().promptsRejected() == 1, actor.stats()::toString);

            // 2. bad versions are refused: tampered bytes, a missing file, a spec that does not match the tensors
            WeightSnapshot tampered = snapshot(2, 2);
            flipLastByte(tampered.path());
            announce(tampered, "");
            WeightSnapshot missing = snapshot(3, 3);
            Files.delete(missing.path());
            announce(missing, "");
            announce(snapshot(4, 4), SPEC.withContext(64).toJson());
            await(() -> actor.stats().versionsRefused() == 3, actor.stats()::toString);
            sendPrompt(prompt("b-1", 5));
            SampledGroup stillOld = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("b-1"), SAMPLED::decode).get("b-1");
            assertGroup(stillOld, prompt("b-1", 5), 1);
            assertEquals(1, actor.stats().currentVersion());

            // 3. a good new version is swapped in and tags the next groups
            announce(snapshot(5, 5), "");
            await(() -> actor.stats().currentVersion() == 5, actor.stats()::toString);
            sendPrompt(prompt("c-1", 6));
            SampledGroup fresh = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("c-1"), SAMPLED::decode).get("c-1");
            assertGroup(fresh, prompt("c-1", 6), 5);
            assertEquals(2, actor.stats().versionsLoaded());
            assertTrue(actor.stats().tokensGenerated() > 0 && actor.stats().tokensPerSecond() > 0, actor.stats().toString());
        }
    }

    @Test
    void actorsOfOneGroupShareThePrompts() {
        WeightSnapshot s = snapshot(1, 9);
        announce(s, "", "pair");
        ActorConfig base = ActorConfig.defaults("pair-1").withPolicyName("pair").withConsumerGroup("pair-actors")
                .withSampling(2, 1.0f, 1.0f, 4).withPromptsPerBatch(2);
        try (ActorService one = ActorService.start(settings, base, TOKENIZER);
             ActorService two = ActorService.start(settings, new ActorConfig("pair-2", base.consumerGroup(), base.policyName(),
                     base.groupSize(), base.temperature(), base.topP(), base.maxNewTokens(), base.promptsPerBatch(), "cpu", 7L), TOKENIZER)) {
            await(() -> one.stats().currentVersion() == 1 && two.stats().currentVersion() == 1, () -> one.stats() + " / " + two.stats());
            await(() -> membersWithPartitions("pair-actors") == 2, () -> "both actors joined the group");
            List<String> ids = java.util.stream.IntStream.range(0, 12).mapToObj(i -> "pair-" + i).toList();
            // a prompt issued for another policy on the same topic is passed by, not sampled
            sendPrompt(Prompt.newBuilder(prompt("other-0", 1)).setPolicy("other").build());
            ids.forEach(id -> sendPrompt(Prompt.newBuilder(prompt(id, id.hashCode())).setPolicy("pair").build()));
            Map<String, SampledGroup> groups = readUntil(Topics.ROLLOUTS_SAMPLED, ids, SAMPLED::decode);
            java.util.Set<String> actors = new java.util.HashSet<>();
            ids.forEach(id -> actors.add(groups.get(id).getActorId()));
            assertEquals(java.util.Set.of("pair-1", "pair-2"), actors, "both members sampled some of the prompts");
            // (this new group also reads the earlier test's prompts, issued for the default policy)
            await(() -> one.stats().promptsForeign() + two.stats().promptsForeign() >= 1, () -> "the foreign prompt was passed by");
            assertEquals(12, one.stats().groupsPublished() + two.stats().groupsPublished());
        }
    }

    // ---- helpers

    static int membersWithPartitions(String group) {
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(settings.adminProps())) {
            var d = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
            return (int) d.members().stream().filter(m -> !m.assignment().topicPartitions().isEmpty()).count();
        } catch (Exception e) {
            return 0;
        }
    }

    static void assertGroup(SampledGroup g, Prompt p, long version) {
        assertEquals(p.getId(), g.getGroupId(), "group id is the prompt id");
        assertEquals(version, g.getPolicyVersion());
        assertEquals("actor-test", g.getActorId());
        int[] promptTokens = PromptTokens.encode(TOKENIZER, p.getText());
        assertArrayEquals(promptTokens, g.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray());
        assertEquals(G, g.getCompletions().size());
        for (Completion c : g.getCompletions()) {
            int n = c.getTokenIds().size();
            assertTrue(n >= 1 && n <= 12, "tokens: " + n);
            assertEquals(n, c.getLogProbs().size(), "one behaviour log-prob per token");
            c.getLogProbs().forEach(lp -> assertTrue(lp <= 0 && Float.isFinite(lp), "log-prob " + lp));
            assertEquals(version, c.getPolicyVersion());
            assertEquals(promptTokens.length, c.getPromptTokens());
            int[] ids = c.getTokenIds().stream().mapToInt(Integer::intValue).toArray();
            if (c.getFinishReason() == FinishReason.STOP) {
                assertEquals(TOKENIZER.eos(), ids[n - 1], "a stopped completion ends with <eos>");
                assertEquals(TOKENIZER.decode(java.util.Arrays.copyOf(ids, n - 1)), c.getText());
            } else {
                assertEquals(FinishReason.LENGTH, c.getFinishReason());
                assertEquals(12, n);
                assertEquals(TOKENIZER.decode(ids), c.getText());
            }
        }
    }

    WeightSnapshot snapshot(long version, long seed) {
        return WeightSnapshot.write(weightsDir, DjlPolicy.initialWeights(SPEC, seed), SPEC, version, version);
    }

    static void announce(WeightSnapshot s, String specOverride) {
        announce(s, specOverride, "default");
    }

    static void announce(WeightSnapshot s, String specOverride, String policy) {
        PolicyVersion v = PolicyVersion.newBuilder().setPolicy(policy).setVersion(s.version()).setStep(s.step())
                .setWeightsLocation(s.path().toString()).setSha256(s.sha256()).setCreatedAtMs(System.currentTimeMillis())
                .setSpec(specOverride.isEmpty() ? s.spec().toJson() : specOverride).build();
        producer.send(Topics.POLICY_VERSIONS, policy, VERSIONS.encode(v)).block(Duration.ofSeconds(30));
    }

    static Prompt prompt(String id, long seed) {
        TaskInstance t = TaskRegistry.defaults().resolve("arithmetic").sample(new Random(seed));
        return Prompt.newBuilder().setId(id).setTask(t.task()).setText(t.text()).setAnswer(t.answer())
                .setFields(new HashMap<>(t.fields())).build();
    }

    static void sendPrompt(Prompt p) {
        producer.send(Topics.PROMPTS, p.getId(), PROMPTS.encode(p)).block(Duration.ofSeconds(30));
    }

    static void flipLastByte(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.seek(f.length() - 1);
            int b = f.read();
            f.seek(f.length() - 1);
            f.write(b ^ 0x5A);
        }
    }

    /** Reads a topic from the beginning until every key was seen; keyed by record key (last wins). */
    static <V> Map<String, V> readUntil(String topic, List<String> keys, Function<byte[], V> decode) {
        return TopicReader.readUntil(settings.bootstrapServers(), topic, keys, decode, Duration.ofSeconds(60));
    }

    static void await(BooleanSupplier ok, java.util.function.Supplier<String> what) {
        Await.until(ok, what, Duration.ofSeconds(60));
    }
}
