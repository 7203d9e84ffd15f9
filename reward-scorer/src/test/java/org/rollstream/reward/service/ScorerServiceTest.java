package org.rollstream.reward.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Function;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.rollstream.reward.RewardConfig;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.Answers;
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

/** The scorer against a real in-process broker: scored groups with hand-computed values, dead letters with reasons. */
@Timeout(90)
@ExtendWith(SharedBroker.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // later tests' new consumer groups re-read earlier groups
class ScorerServiceTest {
    static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    static final double EPS = 1e-9;

    static KafkaSettings settings;

    @BeforeAll
    static void startBroker(EmbeddedKafka kafka) {
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
    }

    @Test
    @Order(1)
    void scoresGoodGroupsAndDeadLettersBadOnes() {
        TaskInstance problem = TaskRegistry.defaults().resolve("arithmetic").sample(new Random(7));
        String right = Answers.format("add", problem.answer());
        String wrong = Answers.format("add", problem.answer() + "1");
        // accuracy=1.0, format=0.1: totals 1.1, 0.1, 0.0, 1.1
        SampledGroup mixed = group("p-mixed", problem, List.of(
                completion(right, FinishReason.STOP), completion(wrong, FinishReason.STOP),
                completion(problem.answer(), FinishReason.LENGTH), completion(right, FinishReason.STOP)));
        // all wrong but well-formed: totals all 0.1, no signal, advantages all zero
        SampledGroup allWrong = group("p-wrong", problem, List.of(
                completion(wrong, FinishReason.STOP), completion(wrong, FinishReason.STOP)));
        SampledGroup empty = group("p-empty", problem, List.of());
        Completion misaligned = completion(right, FinishReason.STOP);
        misaligned.setLogProbs(List.of(-0.5f));
        SampledGroup badLogProbs = group("p-misaligned", problem, List.of(misaligned));
        SampledGroup unknownTask = group("p-unknown",
                new TaskInstance("x", "foo", "what?", "1", Map.of()), List.of(completion(right, FinishReason.STOP)));

        publish(List.of(mixed, allWrong, empty, badLogProbs, unknownTask));
        ScorerConfig config = ScorerConfig.defaults("scorer-test").withMaxNewTokens(64);
        Map<String, ScoredGroup> scored;
        Map<String, DeadLetter> dead;
        try (ScorerService service = ScorerService.start(settings, config)) {
            scored = readUntil(Topics.ROLLOUTS_SCORED, List.of("p-mixed", "p-wrong"), SCORED::decode);
            dead = readUntil(Topics.dlq(Topics.ROLLOUTS_SAMPLED), List.of("p-empty", "p-misaligned", "p-unknown"),
                    DeadLetterPublisher.codec()::decode);
            awaitTrue(() -> service.stats().scored() == 2 && service.stats().deadLettered() == 3, service.stats()::toString);
        }

        ScoredGroup m = scored.get("p-mixed");
        assertEquals("p-mixed", m.getGroup().getGroupId());
        assertEquals(4, m.getScores().size());
        double[] totals = {1.1, 0.1, 0.0, 1.1};
        double mean = (1.1 + 0.1 + 0.0 + 1.1) / 4; // 0.575
        double std = Math.sqrt((0.525 * 0.525 * 2 + 0.475 * 0.475 + 0.575 * 0.575) / 4); // population std
        double[] accuracy = {1, 0, 0, 1};
        double[] format = {1, 1, 0, 1};
        for (int i = 0; i < 4; i++) {
            CompletionScore s = m.getScores().get(i);
            assertEquals(accuracy[i], s.getComponents().get("accuracy"), EPS, "accuracy of " + i);
            assertEquals(format[i], s.getComponents().get("format"), EPS, "format of " + i);
            assertEquals(totals[i], s.getTotal(), EPS, "total of " + i);
            assertEquals((totals[i] - mean) / (std + 1e-6), s.getAdvantage(), 1e-9, "advantage of " + i);
        }
        assertEquals("rollstream-rules", m.getScorer().getName());
        assertTrue(m.getScorer().getConfig().contains("accuracy=1.0,format=0.1"), m.getScorer().getConfig());
        assertTrue(m.getScorer().getConfig().contains("advantage=grpo"), m.getScorer().getConfig());

        ScoredGroup w = scored.get("p-wrong");
        for (CompletionScore s : w.getScores()) {
            assertEquals(0.1, s.getTotal(), EPS);
            assertEquals(0.0, s.getAdvantage(), 0.0);
        }

        assertReason(dead, "p-empty", "has no completions");
        assertReason(dead, "p-misaligned", "has 46 token ids but 1 log-probs".replace("46", Integer.toString(misaligned.getTokenIds().size())));
        assertReason(dead, "p-unknown", "unknown task 'foo'");
        DeadLetter d = dead.get("p-unknown");
        assertEquals(Topics.ROLLOUTS_SAMPLED, d.getTopic());
        assertEquals("scorer-test", d.getFailedBy());
        assertEquals("p-unknown", SAMPLED.decode(bytes(d.getValue())).getGroupId(), "the original bytes are kept");
    }

    @Test
    @Order(2)
    void drGrpoCentresWithoutScaling() {
        TaskInstance problem = TaskRegistry.defaults().resolve("arithmetic").sample(new Random(11));
        String right = Answers.format("", problem.answer());
        String noFormat = problem.answer();
        // totals 1.1 and 0.0: mean 0.55, advantages ±0.55
        SampledGroup g = group("dr-1", problem, List.of(completion(right, FinishReason.STOP), completion(noFormat, FinishReason.STOP)));
        publishTo("dr", List.of(g));
        ScorerConfig config = ScorerConfig.defaults("scorer-dr").withConsumerGroup("dr-scorers")
                .withAdvantageMode(org.rollstream.reward.GroupAdvantages.Mode.DR_GRPO);
        try (ScorerService service = ScorerService.start(settings, config)) {
            Map<String, ScoredGroup> scored = readUntil(Topics.ROLLOUTS_SCORED, List.of("dr-1"), SCORED::decode);
            ScoredGroup s = scored.get("dr-1");
            // a new group reads the topic from the start: the earlier 2 good and 3 bad groups too
            awaitTrue(() -> service.stats().scored() == 3 && service.stats().deadLettered() == 3, service.stats()::toString);
            assertEquals(0.55, s.getScores().get(0).getAdvantage(), EPS);
            assertEquals(-0.55, s.getScores().get(1).getAdvantage(), EPS);
            assertTrue(s.getScorer().getConfig().contains("advantage=dr-grpo"), s.getScorer().getConfig());
        }
    }

    /**
     * Invalid groups never reach the learner and never stop the scorer: a wrong number of completions,
     * a non-finite log-prob, no prompt tokens, policy log-probs of the wrong length and undecodable
     * bytes are dead-lettered with reasons and counted (decode-stage ones too); a good group after them
     * is scored. stop() then drains and commits: the group's offsets reach the end of the topic.
     */
    @Test
    @Order(3)
    void invalidGroupsAreDeadLetteredAndCountedAndStopCommits() {
        TaskInstance problem = TaskRegistry.defaults().resolve("arithmetic").sample(new Random(13));
        String right = Answers.format("add", problem.answer());
        java.util.function.Supplier<List<Completion>> four = () -> new ArrayList<>(List.of(completion(right, FinishReason.STOP),
                completion("x", FinishReason.STOP), completion(right, FinishReason.LENGTH), completion("y", FinishReason.STOP)));
        SampledGroup good = group("v-good", problem, four.get());
        SampledGroup two = group("v-two", problem, four.get().subList(0, 2));
        List<Completion> nan = four.get();
        nan.get(1).getLogProbs().set(0, Float.NaN);
        SampledGroup nonFinite = group("v-nan", problem, nan);
        SampledGroup noPromptTokens = group("v-noprompt", problem, four.get());
        noPromptTokens.setPromptTokenIds(List.of());
        List<Completion> shortPolicy = four.get();
        shortPolicy.get(2).setPolicyLogProbs(List.of(-0.1f));
        SampledGroup badPolicy = group("v-policy", problem, shortPolicy);
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "test-producer-garbage")) {
            producer.send(Topics.ROLLOUTS_SAMPLED, "v-garbage", new byte[]{9, 9, 9}).block(Duration.ofSeconds(30));
        }
        publishTo("valid", List.of(two, nonFinite, noPromptTokens, badPolicy, good));
        ScorerConfig config = ScorerConfig.defaults("scorer-valid").withConsumerGroup("valid-scorers").withGroupSize(4);
        ScorerService service = ScorerService.start(settings, config);
        try {
            Map<String, DeadLetter> dead = readUntil(Topics.dlq(Topics.ROLLOUTS_SAMPLED),
                    List.of("v-two", "v-nan", "v-noprompt", "v-policy", "v-garbage"), DeadLetterPublisher.codec()::decode);
            assertReason(dead, "v-two", "has 2 completions, expected G = 4");
            assertReason(dead, "v-nan", "completion 1 has log-prob NaN at token 0");
            assertReason(dead, "v-noprompt", "has no prompt token ids");
            assertReason(dead, "v-policy", "completion 2 has " + shortPolicy.get(2).getTokenIds().size() + " token ids but 1 policy log-probs");
            assertEquals(DeadLetterPublisher.STAGE_DECODE, dead.get("v-garbage").getStage());
            assertEquals(org.rollstream.transport.errors.BadRecordException.class.getName(), dead.get("v-two").getErrorClass());
            readUntil(Topics.ROLLOUTS_SCORED, List.of("v-good"), SCORED::decode);
            // the group also reads the earlier tests' records: their two-completion groups now fail G = 4
            awaitTrue(() -> service.stats().undecodable() == 1 && service.stats().invalid() >= 4 && service.stats().scored() >= 1,
                    service.stats()::toString);
            assertEquals(service.stats().invalid() + 1, service.stats().deadLettered());
            assertTrue(service.failure().isEmpty(), "input is never fatal");
        } finally {
            assertTrue(service.stop(Duration.ofSeconds(60)), "stopped within its bound");
        }
        assertTrue(service.stop(Duration.ofSeconds(1)), "stop is idempotent");
        assertEquals(endOffsets(Topics.ROLLOUTS_SAMPLED), committedOffsets("valid-scorers"),
                "every group was published or dead-lettered and committed before the scorer left");
    }

    static Map<TopicPartition, Long> committedOffsets(String group) {
        return org.rollstream.testsupport.Offsets.committed(settings.bootstrapServers(), group);
    }

    static Map<TopicPartition, Long> endOffsets(String topic) {
        return org.rollstream.testsupport.Offsets.ends(settings.bootstrapServers(), topic);
    }

    @Test
    void configIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ScorerConfig.defaults(" "));
        assertTrue(e.getMessage().contains("instanceId"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScorerConfig.defaults("s").withGroupSize(-1));
        assertTrue(e.getMessage().contains("groupSize"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScorerConfig.defaults("s").withMaxNewTokens(0));
        assertTrue(e.getMessage().contains("maxNewTokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ScorerConfig.defaults("s").withRewards("accuracy=x"));
        assertTrue(e.getMessage().contains("accuracy"), e.getMessage());
        assertEquals(RewardConfig.parse("accuracy=1.0,format=0.1"), ScorerConfig.defaults("s").rewards());
        e = assertThrows(IllegalArgumentException.class,
                () -> ScorerService.start(settings, ScorerConfig.defaults("s").withRewards("accuracy=1,nosuch=1")));
        assertTrue(e.getMessage().contains("nosuch"), e.getMessage());
    }

    // ---- helpers

    static SampledGroup group(String promptId, TaskInstance problem, List<Completion> completions) {
        Prompt prompt = Prompt.newBuilder().setId(promptId).setTask(problem.task()).setText(problem.text())
                .setAnswer(problem.answer()).setFields(new HashMap<>(problem.fields())).build();
        return SampledGroup.newBuilder().setGroupId(promptId).setPrompt(prompt).setPromptTokenIds(List.of(1, 40, 41))
                .setPolicyVersion(3).setActorId("actor-test").setCompletions(new ArrayList<>(completions)).build();
    }

    static Completion completion(String text, FinishReason reason) {
        List<Integer> ids = new ArrayList<>();
        List<Float> logProbs = new ArrayList<>();
        for (int i = 0; i < text.length(); i++) {
            ids.add(10 + i % 50);
            logProbs.add(-1.0f);
        }
        return Completion.newBuilder().setTokenIds(ids).setText(text).setLogProbs(logProbs).setFinishReason(reason)
                .setPromptTokens(3).setPolicyVersion(3).build();
    }

    static void publish(List<SampledGroup> groups) {
        publishTo("main", groups);
    }

    static void publishTo(String who, List<SampledGroup> groups) {
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "test-producer-" + who)) {
            for (SampledGroup g : groups) {
                producer.send(Topics.ROLLOUTS_SAMPLED, g.getPrompt().getId(), SAMPLED.encode(g)).block(Duration.ofSeconds(30));
            }
        }
    }

    /** Reads a topic from the beginning until every key was seen; keyed by record key (last wins). */
    static <V> Map<String, V> readUntil(String topic, List<String> keys, Function<byte[], V> decode) {
        return TopicReader.readUntil(settings.bootstrapServers(), topic, keys, decode, Duration.ofSeconds(45));
    }

    static void assertReason(Map<String, DeadLetter> dead, String key, String expected) {
        DeadLetter d = dead.get(key);
        assertTrue(d != null, "no dead letter for " + key + " in " + dead.keySet());
        assertEquals(DeadLetterPublisher.STAGE_PROCESS, d.getStage());
        assertTrue(d.getReason().contains(expected), "reason of " + key + ": " + d.getReason());
    }

    static byte[] bytes(java.nio.ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    static void awaitTrue(java.util.function.BooleanSupplier ok, java.util.function.Supplier<String> what) {
        Await.until(ok, what, Duration.ofSeconds(20));
    }
}
