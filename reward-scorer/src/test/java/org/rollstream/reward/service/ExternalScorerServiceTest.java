package org.rollstream.reward.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
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
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.DeadLetterPublisher;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;

/**
 * The scorer service with an HTTP reward, on its own embedded broker (each test's new consumer
 * group re-reads the groups of the tests before it; assertions look at each test's own keys only).
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ExternalScorerServiceTest {
    static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);
    static final AvroCodec<ScoredGroup> SCORED = AvroCodec.of(ScoredGroup.class);
    static final Pattern ANSWER = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);

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
            List<SampledGroup> groups = groups("py", 3, "");
            publish(groups);
            ScorerConfig config = ScorerConfig.defaults("scorer-py").withConsumerGroup("py")
                    .withRewards("accuracy=1.0,judge=0.5,judge.type=http,judge.url=" + server.url());
            Map<String, ScoredGroup> scored;
            try (ScorerService service = ScorerService.start(settings, config)) {
                scored = read(Topics.ROLLOUTS_SCORED, keys(groups), SCORED::decode);
            }
            for (SampledGroup g : groups) {
                assertJudged(g, scored.get(g.getPrompt().getId()), 0.5);
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
        List<SampledGroup> groups = groups("down", 4, "");
        ScorerConfig config = ScorerConfig.defaults("scorer-down").withConsumerGroup("down")
                .withRewards("judge=1.0,judge.type=http,judge.url=http://127.0.0.1:" + port + "/score,judge.retries=5,"
                        + "judge.backoff=100ms,judge.max-backoff=400ms,judge.breaker-open=300ms");
        Map<String, ScoredGroup> scored;
        try (ScorerService service = ScorerService.start(settings, config)) {
            publish(groups);
            Thread.sleep(1500); // nothing listens yet: every request is refused
            try (PythonServer server = PythonServer.start(port)) {
                scored = read(Topics.ROLLOUTS_SCORED, keys(groups), SCORED::decode);
            }
        }
        for (SampledGroup g : groups) {
            assertJudged(g, scored.get(g.getPrompt().getId()), 1.0);
        }
        Map<String, DeadLetter> dead = readAll(Topics.dlq(Topics.ROLLOUTS_SAMPLED), DeadLetterPublisher.codec()::decode);
        for (String k : keys(groups)) {
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
            bad.addAll(groups("nan", 1, " BAD-NAN"));
            bad.addAll(groups("count", 1, " BAD-COUNT"));
            bad.addAll(groups("text", 1, " BAD-TEXT"));
            List<SampledGroup> good = groups("after-bad", 2, "");
            publish(bad);
            publish(good);
            ScorerConfig config = ScorerConfig.defaults("scorer-bad").withConsumerGroup("bad")
                    .withRewards("judge=1.0,judge.type=http,judge.url=" + server.url());
            Map<String, ScoredGroup> scored;
            Map<String, DeadLetter> dead;
            try (ScorerService service = ScorerService.start(settings, config)) {
                dead = read(Topics.dlq(Topics.ROLLOUTS_SAMPLED), keys(bad), DeadLetterPublisher.codec()::decode);
                scored = read(Topics.ROLLOUTS_SCORED, keys(good), SCORED::decode);
            }
            assertReason(dead.get("nan-0"), "rewards[0] is NaN");
            assertReason(dead.get("count-0"), "1 rewards for 4 completions");
            assertReason(dead.get("text-0"), "not JSON");
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
            List<SampledGroup> groups = groups("e500", 2, "");
            publish(groups);
            ScorerConfig config = ScorerConfig.defaults("scorer-500").withConsumerGroup("e500")
                    .withRewards("judge=1.0,judge.type=http,judge.url=" + server.url() + ",judge.retries=1,judge.backoff=10ms,"
                            + "judge.breaker-failures=1000");
            Map<String, DeadLetter> dead;
            try (ScorerService service = ScorerService.start(settings, config)) {
                dead = read(Topics.dlq(Topics.ROLLOUTS_SAMPLED), keys(groups), DeadLetterPublisher.codec()::decode);
            }
            for (SampledGroup g : groups) {
                DeadLetter d = dead.get(g.getPrompt().getId());
                assertReason(d, "HTTP 500");
                assertReason(d, "unavailable");
            }
            // each group: 1 + RetryPolicy.DEFAULT's 3 redeliveries, 2 requests each (judge.retries=1)
            assertTrue(server.requests() >= groups.size() * 8, "requests " + server.requests());
        }
    }

    // ---- helpers

    /** {@code n} groups of 4 arithmetic completions: right, wrong, unformatted, right with spaces. */
    static List<SampledGroup> groups(String prefix, int n, String promptSuffix) {
        List<SampledGroup> out = new ArrayList<>();
        Random rnd = new Random(prefix.hashCode());
        for (int i = 0; i < n; i++) {
            TaskInstance p = TaskRegistry.defaults().resolve("arithmetic").sample(rnd);
            List<Completion> cs = List.of(completion(Answers.format("add", p.answer())), completion(Answers.format("add", p.answer() + "7")),
                    completion(p.answer()), completion("<think>so</think><answer> " + p.answer() + " </answer>"));
            String id = prefix + "-" + i;
            Prompt prompt = Prompt.newBuilder().setId(id).setTask(p.task()).setText(p.text() + promptSuffix)
                    .setAnswer(p.answer()).setFields(new HashMap<>(p.fields())).build();
            out.add(SampledGroup.newBuilder().setGroupId("g-" + id).setPrompt(prompt).setPromptTokenIds(List.of(1, 2, 3))
                    .setPolicyVersion(1).setActorId("test").setCompletions(new ArrayList<>(cs)).build());
        }
        return out;
    }

    static Completion completion(String text) {
        List<Integer> ids = new ArrayList<>();
        List<Float> lp = new ArrayList<>();
        for (int i = 0; i < Math.max(1, text.length() / 3); i++) {
            ids.add(5 + i % 40);
            lp.add(-0.7f);
        }
        return Completion.newBuilder().setTokenIds(ids).setText(text).setLogProbs(lp).setFinishReason(FinishReason.STOP)
                .setPromptTokens(3).setPolicyVersion(1).build();
    }

    /** What the Python example's judge gives: 1 when the last answer tag holds the answer, stripped. */
    static double judged(String completion, String answer) {
        Matcher m = ANSWER.matcher(completion);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last != null && last.strip().equals(answer.strip()) ? 1.0 : 0.0;
    }

    static void assertJudged(SampledGroup g, ScoredGroup s, double weight) {
        assertTrue(s != null, "not scored: " + g.getPrompt().getId());
        assertEquals(g.getGroupId(), s.getGroup().getGroupId());
        List<Completion> cs = g.getCompletions();
        double sum = 0;
        for (int i = 0; i < cs.size(); i++) {
            CompletionScore sc = s.getScores().get(i);
            double expected = judged(cs.get(i).getText(), g.getPrompt().getAnswer());
            sum += expected;
            assertEquals(expected, sc.getComponents().get("judge"), 0.0, g.getGroupId() + " completion " + i);
            double accuracy = sc.getComponents().getOrDefault("accuracy", 0.0);
            assertEquals(accuracy + weight * expected, sc.getTotal(), 1e-12, g.getGroupId() + " total " + i);
        }
        assertEquals(2.0, sum, 0.0, "two completions of each group are right");
    }

    static void assertReason(DeadLetter d, String expected) {
        assertTrue(d != null, "no dead letter");
        assertTrue(d.getReason().contains(expected), "reason: " + d.getReason());
    }

    static List<String> keys(List<SampledGroup> groups) {
        return groups.stream().map(g -> g.getPrompt().getId()).toList();
    }

    static void publish(List<SampledGroup> groups) {
        try (ReactiveProducer producer = ReactiveProducer.create(settings, "test-producer")) {
            for (SampledGroup g : groups) {
                producer.send(Topics.ROLLOUTS_SAMPLED, g.getPrompt().getId(), SAMPLED.encode(g)).block(Duration.ofSeconds(30));
            }
        }
    }

    static <V> Map<String, V> read(String topic, List<String> keys, Function<byte[], V> decode) {
        return TopicReader.readUntil(settings.bootstrapServers(), topic, keys, decode, Duration.ofSeconds(90));
    }

    /** Everything on the topic now, by key (last wins). */
    static <V> Map<String, V> readAll(String topic, Function<byte[], V> decode) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, V> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.put(r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8), decode.apply(r.value()));
                }
            }
        }
        return out;
    }
}
