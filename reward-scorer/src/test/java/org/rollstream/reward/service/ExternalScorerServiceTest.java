package org.rollstream.reward.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.util.ArrayList;
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
import org.rollstream.reward.http.FaultServer;
import org.rollstream.reward.http.PythonServer;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.DeadLetter;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;

/**
 * The scorer service with an HTTP reward, on its own embedded broker (each test's new consumer
 * group re-reads the groups of the tests before it; assertions look at each test's own keys only).
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExternalScorerServiceTest {

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
    void groupsAreScoredByThePythonServer() throws Exception {
        try (PythonServer server = PythonServer.start(0)) {
            List<SampledGroup> groups = ScorerFixtures.groups("py", 3, "");
            ScorerFixtures.publish(settings, groups);
            ScorerConfig config = ScorerConfig.defaults("scorer-py").withConsumerGroup("py")
                    .withRewards("accuracy=1.0,judge=0.5,judge.type=http,judge.url=" + server.url());
            Map<String, ScoredGroup> scored;
            try (ScorerService service = ScorerService.start(settings, config)) {
                scored = ScorerFixtures.read(settings, Topics.ROLLOUTS_SCORED, ScorerFixtures.keys(groups), ScorerFixtures.SCORED::decode);
            }
            for (SampledGroup g : groups) {
                ScorerFixtures.assertJudged(g, scored.get(g.getPrompt().getId()), 0.5);
            }
        }
    }

    @Test
    @Order(2)
    void aServerDownAtStartScoresEveryGroupOnceItIsUpNoneLostNoneZero() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<SampledGroup> groups = ScorerFixtures.groups("down", 4, "");
        ScorerConfig config = ScorerConfig.defaults("scorer-down").withConsumerGroup("down")
                .withRewards("judge=1.0,judge.type=http,judge.url=http://127.0.0.1:" + port + "/score"); // default retries, breaker, patience
        Map<String, ScoredGroup> scored;
        try (ScorerService service = ScorerService.start(settings, config)) {
            ScorerFixtures.publish(settings, groups);
            // nothing listens for longer than the consumer's redelivery budget (1 + 2 + 4 s): every request is
            // refused, the circuit opens and the groups wait for its probe instead of being handed back
            Thread.sleep(9000);
            try (PythonServer server = PythonServer.start(port)) {
                scored = ScorerFixtures.read(settings, Topics.ROLLOUTS_SCORED, ScorerFixtures.keys(groups), ScorerFixtures.SCORED::decode);
            }
        }
        for (SampledGroup g : groups) {
            ScorerFixtures.assertJudged(g, scored.get(g.getPrompt().getId()), 1.0);
        }
        Map<String, DeadLetter> dead = ScorerFixtures.readAll(settings, Topics.dlq(Topics.ROLLOUTS_SAMPLED), DeadLetterPublisher.codec()::decode);
        for (String k : ScorerFixtures.keys(groups)) {
            assertFalse(dead.containsKey(k), "dead-lettered: " + k + " " + dead.get(k));
        }
    }

    @Test
    @Order(3)
    void unusableAnswersAreDeadLetteredWithTheReasonAndTheScorerKeepsGoing() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> {
            int items = body.split("\"index\"", -1).length - 1;
            if (body.contains("BAD-NAN")) {
                return FaultServer.Answer.ok("{\"rewards\": [" + "NaN, ".repeat(items - 1) + "NaN]}");
            }
            if (body.contains("BAD-COUNT")) {
                return FaultServer.Answer.ok("{\"rewards\": [1.0]}");
            }
            if (body.contains("BAD-TEXT")) {
                return FaultServer.Answer.ok("internal error, sorry");
            }
            return FaultServer.Answer.ok("{\"rewards\": [" + "0.25, ".repeat(items - 1) + "0.25]}");
        })) {
            List<SampledGroup> bad = new ArrayList<>();
            bad.addAll(ScorerFixtures.groups("nan", 1, " BAD-NAN"));
            bad.addAll(ScorerFixtures.groups("count", 1, " BAD-COUNT"));
            bad.addAll(ScorerFixtures.groups("text", 1, " BAD-TEXT"));
            List<SampledGroup> good = ScorerFixtures.groups("after-bad", 2, "");
            ScorerFixtures.publish(settings, bad);
            ScorerFixtures.publish(settings, good);
            ScorerConfig config = ScorerConfig.defaults("scorer-bad").withConsumerGroup("bad")
                    .withRewards("judge=1.0,judge.type=http,judge.url=" + server.url());
            Map<String, ScoredGroup> scored;
            Map<String, DeadLetter> dead;
            try (ScorerService service = ScorerService.start(settings, config)) {
                dead = ScorerFixtures.read(settings, Topics.dlq(Topics.ROLLOUTS_SAMPLED), ScorerFixtures.keys(bad), DeadLetterPublisher.codec()::decode);
                scored = ScorerFixtures.read(settings, Topics.ROLLOUTS_SCORED, ScorerFixtures.keys(good), ScorerFixtures.SCORED::decode);
            }
            ScorerFixtures.assertReason(dead.get("nan-0"), "rewards[0] is NaN");
            ScorerFixtures.assertReason(dead.get("count-0"), "1 rewards for 4 completions");
            ScorerFixtures.assertReason(dead.get("text-0"), "not JSON");
            for (SampledGroup g : good) {
                for (CompletionScore s : scored.get(g.getPrompt().getId()).getScores()) {
                    assertEquals(0.25, s.getComponents().get("judge"), 0.0);
                }
            }
        }
    }

    @Test
    @Order(4)
    void persistentServerErrorsDeadLetterTheGroupWithTheReasonAfterRetries() throws Exception {
        try (FaultServer server = new FaultServer((n, body) -> body.contains("\"group_id\":\"g-e500-")
                ? FaultServer.Answer.status(500) : FaultServer.Answer.ok("{\"rewards\": [0, 0, 0, 0]}"))) {
            List<SampledGroup> groups = ScorerFixtures.groups("e500", 2, "");
            ScorerFixtures.publish(settings, groups);
            ScorerConfig config = ScorerConfig.defaults("scorer-500").withConsumerGroup("e500")
                    .withRewards("judge=1.0,judge.type=http,judge.url=" + server.url() + ",judge.retries=1,judge.backoff=10ms,"
                            + "judge.breaker-failures=1000");
            Map<String, DeadLetter> dead;
            try (ScorerService service = ScorerService.start(settings, config)) {
                dead = ScorerFixtures.read(settings, Topics.dlq(Topics.ROLLOUTS_SAMPLED), ScorerFixtures.keys(groups), DeadLetterPublisher.codec()::decode);
            }
            for (SampledGroup g : groups) {
                DeadLetter d = dead.get(g.getPrompt().getId());
                ScorerFixtures.assertReason(d, "HTTP 500");
                ScorerFixtures.assertReason(d, "unavailable");
            }
            // each group: 1 + RetryPolicy.DEFAULT's 3 redeliveries, 2 requests each (judge.retries=1)
            assertTrue(server.requests() >= groups.size() * 8, "requests " + server.requests());
        }
    }
}
