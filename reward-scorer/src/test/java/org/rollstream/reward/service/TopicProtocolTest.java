package org.rollstream.reward.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.rollstream.reward.service.ScorerFixtures.assertReason;
import static org.rollstream.reward.service.ScorerFixtures.keys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;

/**
 * The topic protocol on a real broker: an external Python process scores through the bridge and the
 * scorer joins its component; hand-written partial rewards exercise the deadline policies and bad
 * components. Each test's consumer group re-reads earlier tests' groups; assertions use own keys.
 */
@Timeout(240)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TopicProtocolTest {
    static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    static final Path SCRIPT = Path.of("..", "examples", "topic_scorer.py").toAbsolutePath().normalize();

    static EmbeddedKafka kafka;
    static KafkaSettings settings;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start(null);
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    @Test
    @Order(1)
    void anExternalProcessScoresThroughTheBridgeAndTheScorerJoinsItsComponent() throws Exception {
        List<SampledGroup> groups = ScorerFixtures.groups("topic", 4, "");
        ScorerConfig config = ScorerConfig.defaults("scorer-topic").withConsumerGroup("topic")
                .withRewards("accuracy=1.0,judge=0.5,judge.type=topic,judge.deadline=30s");
        Map<String, ScoredGroup> scored;
        try (ScorerService service = ScorerService.start(settings, config);
             ScoreBridge bridge = ScoreBridge.start(settings, "bridge-judge", "judge", List.of("python3", SCRIPT.toString()),
                     16, Duration.ofSeconds(30))) {
            ScorerFixtures.publish(settings, groups);
            scored = read(Topics.ROLLOUTS_SCORED, keys(groups));
            assertTrue(bridge.failure().isEmpty(), () -> bridge.failure().get().toString());
            assertEquals(0, bridge.badLines());
        }
        for (SampledGroup g : groups) {
            ScoredGroup s = scored.get(g.getPrompt().getId());
            ScorerFixtures.assertJudged(g, s, 0.5);
            for (int i = 0; i < g.getCompletions().size(); i++) {
                String text = g.getCompletions().get(i).getText();
                double think = text.contains("<think>") && text.contains("</think>") ? 1.0 : 0.0;
                assertEquals(think, s.getScores().get(i).getComponents().get("judge.has_think"), 0.0);
            }
        }
    }

    @Test
    @Order(2)
    void deadlinesPoliciesAndBadComponents() throws Exception {
        SampledGroup early = one("early");
        SampledGroup noStyle = one("nostyle");
        SampledGroup failed = one("failed");
        SampledGroup nan = one("nan");
        SampledGroup count = one("count");
        SampledGroup late = one("late");
        SampledGroup never = one("never");
        // components may come before their group is scored
        partial(early, "{\"group_id\": \"%s\", \"component\": \"judge\", \"rewards\": [1, 0, 0, 1]}");
        partial(early, "{\"group_id\": \"%s\", \"component\": \"style\", \"rewards\": [0.5, 0.5, 0.25, 0.25]}");
        partial(noStyle, "{\"group_id\": \"%s\", \"component\": \"judge\", \"rewards\": [0, 1, 0, 1]}");
        partial(failed, "{\"group_id\": \"%s\", \"component\": \"judge\", \"error\": \"model overloaded\"}");
        partial(nan, "{\"group_id\": \"%s\", \"component\": \"judge\", \"rewards\": [1, NaN, 0, 1]}");
        partial(count, "{\"group_id\": \"%s\", \"component\": \"judge\", \"rewards\": [1, 0]}");
        send(Topics.REWARDS_PARTIAL, "garbage", "definitely not a partial reward".getBytes(StandardCharsets.UTF_8));

        ScorerConfig config = ScorerConfig.defaults("scorer-policies").withConsumerGroup("policies")
                .withRewards("accuracy=1.0,judge=1.0,judge.type=topic,judge.deadline=1s,style=2.0,style.type=topic,"
                        + "style.deadline=500ms,style.missing=skip");
        Map<String, ScoredGroup> scored;
        Map<String, DeadLetter> dead;
        try (ScorerService service = ScorerService.start(settings, config)) {
            ScorerFixtures.publish(settings, List.of(early, noStyle, failed, nan, count, late, never));
            Thread.sleep(2500); // "late" misses its first deadline and waits for its redelivery
            partial(late, "{\"group_id\": \"%s\", \"component\": \"judge\", \"rewards\": [0.25, 0.25, 0.25, 0.75]}");
            scored = read(Topics.ROLLOUTS_SCORED, keys(List.of(early, noStyle, late)));
            dead = TopicReader.readUntil(settings.bootstrapServers(), Topics.dlq(Topics.ROLLOUTS_SAMPLED),
                    keys(List.of(failed, nan, count, never)), DeadLetterPublisher.codec()::decode, Duration.ofSeconds(90));
        }
        List<CompletionScore> e = scored.get("early-0").getScores();
        double[] judge = {1, 0, 0, 1};
        double[] style = {0.5, 0.5, 0.25, 0.25};
        for (int i = 0; i < 4; i++) {
            double acc = e.get(i).getComponents().get("accuracy");
            assertEquals(judge[i], e.get(i).getComponents().get("judge"), 0.0);
            assertEquals(style[i], e.get(i).getComponents().get("style"), 0.0);
            assertEquals(acc + judge[i] + 2 * style[i], e.get(i).getTotal(), 1e-12);
        }
        for (CompletionScore s : scored.get("nostyle-0").getScores()) {
            assertFalse(s.getComponents().containsKey("style"), "skipped component has no entry: " + s.getComponents());
            assertEquals(s.getComponents().get("accuracy") + s.getComponents().get("judge"), s.getTotal(), 1e-12);
        }
        assertEquals(0.75, scored.get("late-0").getScores().get(3).getComponents().get("judge"), 0.0);
        assertReason(dead.get("failed-0"), "model overloaded");
        assertReason(dead.get("nan-0"), "NaN");
        assertReason(dead.get("count-0"), "2 rewards for 4 completions");
        assertReason(dead.get("never-0"), "not on rewards.partial within 1000 ms");
        Map<String, DeadLetter> badPartials = TopicReader.readUntil(settings.bootstrapServers(), Topics.dlq(Topics.REWARDS_PARTIAL),
                List.of("garbage"), DeadLetterPublisher.codec()::decode, Duration.ofSeconds(30));
        assertTrue(badPartials.get("garbage").getReason().contains("PartialReward"), badPartials.get("garbage").getReason());
    }

    @Test
    @Order(3)
    void aDeadLetterPolicyDeadLettersAtTheFirstMissedDeadline() throws Exception {
        SampledGroup strict = one("strict");
        ScorerConfig config = ScorerConfig.defaults("scorer-strict").withConsumerGroup("strict")
                .withRewards("accuracy=1.0,judge=1.0,judge.type=topic,judge.deadline=300ms,judge.missing=dead-letter");
        Map<String, DeadLetter> dead;
        try (ScorerService service = ScorerService.start(settings, config)) {
            ScorerFixtures.publish(settings, List.of(strict));
            dead = TopicReader.readUntil(settings.bootstrapServers(), Topics.dlq(Topics.ROLLOUTS_SAMPLED),
                    keys(List.of(strict)), DeadLetterPublisher.codec()::decode, Duration.ofSeconds(60));
        }
        assertReason(dead.get("strict-0"), "not on rewards.partial within 300 ms");
    }

    static SampledGroup one(String prefix) {
        return ScorerFixtures.groups(prefix, 1, "").get(0);
    }

    static void partial(SampledGroup g, String jsonFormat) {
        send(Topics.REWARDS_PARTIAL, g.getGroupId(), String.format(jsonFormat, g.getGroupId()).getBytes(StandardCharsets.UTF_8));
    }

    static void send(String topic, String key, byte[] value) {
        try (ReactiveProducer p = ReactiveProducer.create(settings, "test-partials")) {
            p.send(topic, key, value).block(Duration.ofSeconds(30));
        }
    }

    static Map<String, ScoredGroup> read(String topic, List<String> keys) {
        return TopicReader.readUntil(settings.bootstrapServers(), topic, keys, SCORED::decode, Duration.ofSeconds(90));
    }
}
