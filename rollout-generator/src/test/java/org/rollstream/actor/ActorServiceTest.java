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
import java.util.Properties;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
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
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class) // the last test's bad prompts are everyone's
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
    @org.junit.jupiter.api.Order(1)
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
            assertTrue(bad.getReason().contains("unknown task 'foo' (known: arithmetic, countdown, logic, general, jsonl, addition)"), bad.getReason());
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
    @org.junit.jupiter.api.Order(2)
    void actorsOfOneGroupShareThePrompts() {
        WeightSnapshot s = snapshot(1, 9);
        announce(s, "", "pair");
        ActorConfig base = ActorConfig.defaults("pair-1").withPolicyName("pair").withConsumerGroup("pair-actors")
                .withSampling(2, 1.0f, 1.0f, 4).withPromptsPerBatch(2);
        try (ActorService one = ActorService.start(settings, base, TOKENIZER);
             ActorService two = ActorService.start(settings, new ActorConfig("pair-2", base.consumerGroup(), base.policyName(),
                     base.groupSize(), base.temperature(), base.topP(), base.maxNewTokens(), base.promptsPerBatch(), "cpu", 7L, 0), TOKENIZER)) {
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

    /**
     * A new run on a shared cluster: the actor serves run A at v5; run B then starts at v0. A prompt
     * of run B sent before B announces waits for B's weights (it is not sampled with A's v5), prompts
     * of B are stamped B/v0, and a late prompt of the superseded run A is dead-lettered.
     */
    @Test
    @org.junit.jupiter.api.Order(3)
    void aNewRunIsServedItsOwnWeightsEvenAtLowerVersions() throws IOException {
        String policy = "runs";
        Path a = Files.createDirectories(weightsDir.resolve("run-a"));
        Path b = Files.createDirectories(weightsDir.resolve("run-b"));
        announce(WeightSnapshot.write(a, DjlPolicy.initialWeights(SPEC, 51), SPEC, 5, 5), "", policy, "run-a");
        ActorConfig config = ActorConfig.defaults("actor-runs").withPolicyName(policy).withConsumerGroup("runs-actors")
                .withSampling(G, 0.8f, 0.9f, 12).withPromptsPerBatch(2);
        try (ActorService actor = ActorService.start(settings, config, TOKENIZER)) {
            await(() -> actor.stats().currentVersion() == 5 && actor.stats().currentRunId().equals("run-a"), actor.stats()::toString);
            Prompt ofA = run(prompt("runs-a-1", 61), policy, "run-a", 5);
            sendPrompt(ofA);
            assertGroup(readUntil(Topics.ROLLOUTS_SAMPLED, List.of("runs-a-1"), SAMPLED::decode).get("runs-a-1"), ofA, 5, "run-a", "actor-runs");

            Prompt early = run(prompt("runs-b-early", 62), policy, "run-b", 0);
            sendPrompt(early); // B has not announced yet: this prompt must wait, not be sampled with A's v5
            await(() -> actor.stats().promptsConsumed() >= 2, actor.stats()::toString);
            announce(WeightSnapshot.write(b, DjlPolicy.initialWeights(SPEC, 52), SPEC, 0, 0), "", policy, "run-b");
            Prompt later = run(prompt("runs-b-1", 63), policy, "run-b", 0);
            sendPrompt(later);
            Map<String, SampledGroup> groups = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("runs-b-early", "runs-b-1"), SAMPLED::decode);
            assertGroup(groups.get("runs-b-early"), early, 0, "run-b", "actor-runs");
            assertGroup(groups.get("runs-b-1"), later, 0, "run-b", "actor-runs");
            assertEquals("run-b", actor.stats().currentRunId());

            sendPrompt(run(prompt("runs-a-late", 64), policy, "run-a", 5));
            DeadLetter late = readUntil(Topics.dlq(Topics.PROMPTS), List.of("runs-a-late"), DeadLetterPublisher.codec()::decode).get("runs-a-late");
            assertTrue(late.getReason().contains("superseded on policy.versions by run 'run-b'"), late.getReason());
            await(() -> actor.stats().promptsOfOtherRuns() == 1 && actor.stats().groupsPublished() == 3, actor.stats()::toString);
        }
    }

    /**
     * Input never stops the actor: undecodable bytes, a prompt naming no policy and one too long for
     * the context are dead-lettered with their reasons and counted, and a good prompt after them is
     * still sampled. Then stop() drains and commits: the group's committed offsets reach the end of
     * every partition.
     */
    @Test
    @org.junit.jupiter.api.Order(5)
    void badPromptsAreDeadLetteredAndStopCommitsWhatWasDone() {
        String policy = "checks";
        announce(snapshot(2, 71), "", policy);
        ActorConfig config = ActorConfig.defaults("actor-checks").withPolicyName(policy).withConsumerGroup("checks-actors")
                .withSampling(2, 1.0f, 1.0f, 6).withPromptsPerBatch(3);
        ActorService actor = ActorService.start(settings, config, TOKENIZER);
        try {
            await(() -> actor.stats().currentVersion() == 2, actor.stats()::toString);
            producer.send(Topics.PROMPTS, "checks-garbage", new byte[]{1, 2, 3, 4}).block(Duration.ofSeconds(30));
            sendPrompt(Prompt.newBuilder(prompt("checks-nopolicy", 72)).setPolicy("").build());
            sendPrompt(Prompt.newBuilder(prompt("checks-long", 73)).setPolicy(policy).setText("1+2=".repeat(40)).build());
            Prompt good = Prompt.newBuilder(prompt("checks-good", 74)).setPolicy(policy).build();
            sendPrompt(good);
            Map<String, DeadLetter> dead = readUntil(Topics.dlq(Topics.PROMPTS), List.of("checks-garbage", "checks-nopolicy", "checks-long"),
                    DeadLetterPublisher.codec()::decode);
            assertEquals(DeadLetterPublisher.STAGE_DECODE, dead.get("checks-garbage").getStage());
            assertTrue(dead.get("checks-nopolicy").getReason().contains("names no policy"), dead.get("checks-nopolicy").getReason());
            assertTrue(dead.get("checks-long").getReason().contains("161 tokens, which leaves no room in the context of 96"),
                    dead.get("checks-long").getReason());
            assertEquals(org.rollstream.transport.errors.BadRecordException.class.getName(), dead.get("checks-long").getErrorClass());
            SampledGroup g = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("checks-good"), SAMPLED::decode).get("checks-good");
            assertEquals(2, g.getCompletions().size());
            // this group reads every earlier prompt too: others' are foreign, and the garbage record is the only undecodable one
            await(() -> actor.stats().promptsUndecodable() == 1 && actor.stats().promptsRejected() >= 2 && actor.stats().groupsPublished() == 1,
                    actor.stats()::toString);
        } finally {
            assertTrue(actor.stop(Duration.ofSeconds(60)), "stopped within its bound");
        }
        assertTrue(actor.stop(Duration.ofSeconds(1)), "stop is idempotent");
        Map<TopicPartition, Long> committed = committedOffsets("checks-actors");
        Map<TopicPartition, Long> end = endOffsets(Topics.PROMPTS);
        assertEquals(end, committed, "every prompt was processed and committed before the actor left");
    }

    static Prompt run(Prompt p, String policy, String runId, long minVersion) {
        return Prompt.newBuilder(p).setPolicy(policy).setRunId(runId).setMinPolicyVersion(minVersion).build();
    }

    static Map<TopicPartition, Long> committedOffsets(String group) {
        return org.rollstream.testsupport.Offsets.committed(settings.bootstrapServers(), group);
    }

    static Map<TopicPartition, Long> endOffsets(String topic) {
        return org.rollstream.testsupport.Offsets.ends(settings.bootstrapServers(), topic);
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

    @Test
    @org.junit.jupiter.api.Order(4)
    void weightsFedAsInputsServeEachVersionsOwnWeights() {
        org.rollstream.policy.Weights w1 = DjlPolicy.initialWeights(SPEC, 31), w2 = DjlPolicy.initialWeights(SPEC, 32);
        announce(WeightSnapshot.write(weightsDir, w1, SPEC, 1, 1), "", "fed");
        ActorConfig config = ActorConfig.defaults("fed-actor").withPolicyName("fed").withConsumerGroup("fed-actors")
                .withSampling(G, 1.0f, 1.0f, 12).withPromptsPerBatch(1).withSamplerWeights(SamplerWeights.INPUTS);
        assertTrue(config.weightsAsInputs());
        try (ActorService actor = ActorService.start(settings, config, TOKENIZER)) {
            await(() -> actor.stats().currentVersion() == 1, actor.stats()::toString);
            Prompt p1 = Prompt.newBuilder(prompt("fed-1", 41)).setPolicy("fed").build();
            sendPrompt(p1);
            SampledGroup g1 = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("fed-1"), SAMPLED::decode).get("fed-1");
            assertGroup(g1, p1, 1, "", "fed-actor");

            announce(WeightSnapshot.write(weightsDir, w2, SPEC, 2, 2), "", "fed");
            await(() -> actor.stats().currentVersion() == 2, actor.stats()::toString);
            Prompt p2 = Prompt.newBuilder(prompt("fed-2", 42)).setPolicy("fed").build();
            sendPrompt(p2);
            SampledGroup g2 = readUntil(Topics.ROLLOUTS_SAMPLED, List.of("fed-2"), SAMPLED::decode).get("fed-2");
            assertGroup(g2, p2, 2, "", "fed-actor");

            // each group's policy log-probs are its own version's (recomputed with a session of those weights), not the other's
            assertTrue(logProbError(g1, w1) < 1e-4, "v1 group against v1 weights: " + logProbError(g1, w1));
            assertTrue(logProbError(g2, w2) < 1e-4, "v2 group against v2 weights: " + logProbError(g2, w2));
            assertTrue(logProbError(g2, w1) > 1e-2, "v2 group against v1 weights must differ: " + logProbError(g2, w1));
        }
    }

    /** Largest difference between a group's policy log-probs and those of {@code w} on the same tokens. */
    static double logProbError(SampledGroup g, org.rollstream.policy.Weights w) {
        double worst = 0;
        int[] prompt = g.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
        try (org.rollstream.policy.ort.OrtPolicy ref = org.rollstream.policy.ort.OrtPolicy.create(SPEC, w, org.rollstream.policy.ort.Device.CPU)) {
            for (Completion c : g.getCompletions()) {
                int n = c.getTokenIds().size();
                int[] row = new int[prompt.length + n - 1];
                System.arraycopy(prompt, 0, row, 0, prompt.length);
                for (int k = 0; k < n - 1; k++) row[prompt.length + k] = c.getTokenIds().get(k);
                float[][] logits = ref.logits(new int[][]{row})[0];
                for (int k = 0; k < n; k++) {
                    float[] l = logits[prompt.length - 1 + k];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (float x : l) max = Math.max(max, x);
                    for (float x : l) sum += Math.exp(x - max);
                    double lp = l[c.getTokenIds().get(k)] - max - Math.log(sum);
                    worst = Math.max(worst, Math.abs(lp - c.getPolicyLogProbs().get(k)));
                }
            }
        }
        return worst;
    }

    static void assertGroup(SampledGroup g, Prompt p, long version) {
        assertGroup(g, p, version, "", "actor-test");
    }

    static void assertGroup(SampledGroup g, Prompt p, long version, String runId, String actorId) {
        assertTrue(g.getGroupId().startsWith(p.getId() + "@" + actorId + "#"), "group id names the prompt, the actor and this sampling: " + g.getGroupId());
        assertEquals(version, g.getPolicyVersion());
        assertEquals(runId, g.getPolicyRunId(), "stamped with the run of the weights that sampled it");
        assertEquals(actorId, g.getActorId());
        int[] promptTokens = PromptTokens.encode(TOKENIZER, p.getText());
        assertArrayEquals(promptTokens, g.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray());
        assertEquals(G, g.getCompletions().size());
        for (Completion c : g.getCompletions()) {
            int n = c.getTokenIds().size();
            assertTrue(n >= 1 && n <= 12, "tokens: " + n);
            assertEquals(n, c.getLogProbs().size(), "one behaviour log-prob per token");
            assertEquals(n, c.getPolicyLogProbs().size(), "one raw policy log-prob per token");
            c.getLogProbs().forEach(lp -> assertTrue(lp <= 0 && Float.isFinite(lp), "log-prob " + lp));
            c.getPolicyLogProbs().forEach(lp -> assertTrue(lp <= 0 && Float.isFinite(lp), "policy log-prob " + lp));
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
        announce(s, specOverride, policy, "");
    }

    static void announce(WeightSnapshot s, String specOverride, String policy, String runId) {
        PolicyVersion v = PolicyVersion.newBuilder().setPolicy(policy).setRunId(runId).setVersion(s.version()).setStep(s.step())
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
