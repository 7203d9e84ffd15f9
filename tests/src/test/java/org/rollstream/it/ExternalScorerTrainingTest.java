package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerService;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.service.ScoreBridge;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.TopicAdmin;

/**
 * GRPO trains on rewards computed by an external process: examples/topic_scorer.py, run behind the
 * score bridge, scores every sampled group over the topic protocol; the scorer joins its component
 * and the learner completes its steps on those groups. The policy starts untrained (no cold start)
 * and dynamic sampling is off, so every group counts; the test is about the plumbing, not accuracy.
 */
@ExtendWith(KafkaBrokerExtension.class)
class ExternalScorerTrainingTest {
    static final int STEPS = 3;
    static final int GROUPS_PER_STEP = 4;
    static final Path SCRIPT = Path.of("..", "examples", "topic_scorer.py").toAbsolutePath().normalize();
    static final Pattern ANSWER = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
    void grpoStepsRunOnGroupsScoredByAnExternalProcess(KafkaSettings kafka) throws Exception {
        try (TopicAdmin admin = new TopicAdmin(kafka)) {
            admin.ensureTopics(Topics.all(4));
        }
        String runId = "external";
        GrpoConfig grpo = new GrpoConfig(GROUPS_PER_STEP, 1, 0.2, 0.28, 0.005, 2.0, Aggregation.TOKEN_MEAN, false, 1e-4, 0.0, 1.0, 1);
        LearnerConfig cfg = new LearnerConfig(dir.resolve(runId), runId, "policy-" + runId, ModelSpec.preset("tiny"), "arithmetic", 7,
                ColdStart.none(), grpo, STEPS, 1000, 20, 1000, 24, 60_000, null, null);
        ActorConfig actor = ActorConfig.defaults("ext-actor").withPolicyName(cfg.policyName())
                .withSampling(4, 1.0f, 1.0f, 24).withPromptsPerBatch(4).withSeed(5);
        String rewards = "accuracy=1.0,judge=0.5,judge.type=topic,judge.deadline=60s";
        ScorerConfig scorer = ScorerConfig.defaults("ext-scorer").withRewards(rewards)
                .withAdvantageMode(GroupAdvantages.Mode.GRPO).withMaxNewTokens(24);
        LearnerService.Summary s;
        try (ScoreBridge bridge = ScoreBridge.start(kafka, "ext-bridge", "judge", List.of("python3", SCRIPT.toString()),
                32, Duration.ofSeconds(60))) {
            s = LocalRun.run(kafka, cfg, actor, 1, scorer, 4, System.out, Duration.ofSeconds(15), false).learner();
            assertTrue(bridge.failure().isEmpty(), () -> "bridge: " + bridge.failure().get());
            System.out.println("bridge: " + bridge.status());
        }
        assertEquals(STEPS, s.steps());

        List<ScoredGroup> judged = scoredWith(kafka, "judge=0.5");
        assertTrue(judged.size() >= STEPS * GROUPS_PER_STEP, "groups scored with the external component: " + judged.size());
        for (ScoredGroup g : judged) {
            String answer = g.getGroup().getPrompt().getAnswer();
            for (int i = 0; i < g.getScores().size(); i++) {
                CompletionScore c = g.getScores().get(i);
                String text = g.getGroup().getCompletions().get(i).getText();
                assertEquals(judged(text, answer), c.getComponents().get("judge"), 0.0, "judge of " + g.getGroup().getGroupId() + " #" + i);
                // a part only the Python process computes: the completion's length in code points
                assertEquals(text.codePointCount(0, text.length()), c.getComponents().get("judge.chars"), 0.0,
                        "chars of " + g.getGroup().getGroupId() + " #" + i + ": " + escape(text));
                assertEquals(c.getComponents().get("accuracy") + 0.5 * c.getComponents().get("judge"), c.getTotal(), 1e-12);
            }
        }
        // the learner logs each component per step: its mean and the share of completions it credited;
        // judge is 0 or 1, so the two must agree, and accuracy is logged beside it
        Map<String, Map<Long, Double>> logged = new HashMap<>();
        Map<Long, Long> stepTime = new HashMap<>(); // when each step's train row was written, ms
        for (String line : Files.readAllLines(cfg.metricsCsv())) {
            String[] f = line.split(",");
            if (f.length >= 4 && (f[2].startsWith("reward_") || f[2].endsWith("_seconds"))) {
                logged.computeIfAbsent(f[2], k -> new HashMap<>()).put(Long.parseLong(f[0]), Double.parseDouble(f[3]));
            }
            if (f.length >= 5 && f[1].equals("train") && f[2].equals("loss")) {
                stepTime.put(Long.parseLong(f[0]), Long.parseLong(f[4]));
            }
        }
        // the learner's time split: every step trains and publishes (publish-every 1), and from step 2 on the
        // three parts add up to the wall time between the steps' rows
        double between = 0;
        for (long step = 1; step <= STEPS; step++) {
            double train = logged.get("train_seconds").get(step), publish = logged.get("publish_seconds").get(step);
            double wait = logged.get("wait_seconds").get(step);
            assertTrue(train > 0 && publish > 0 && wait >= 0, "step " + step + ": train " + train + ", publish " + publish + ", wait " + wait);
            if (step > 1) {
                between += train + publish + wait;
            }
        }
        double wall = (stepTime.get((long) STEPS) - stepTime.get(1L)) / 1e3;
        assertEquals(wall, between, 0.25 + 0.05 * wall, "train + publish + wait of steps 2.." + STEPS + " against their wall time");
        for (String name : List.of("reward_judge", "reward_judge_share", "reward_accuracy", "reward_accuracy_share")) {
            // a step logs them only when groups arrived since the step before (buffered groups can feed two steps)
            assertTrue(logged.containsKey(name) && !logged.get(name).isEmpty(), name + " logged: " + logged.keySet());
        }
        logged.get("reward_judge").forEach((step, mean) -> {
            assertTrue(mean >= 0 && mean <= 1, "reward_judge at step " + step + ": " + mean);
            assertEquals(mean, logged.get("reward_judge_share").get(step), 1e-9, "0/1 judge: mean = share at step " + step);
        });
        System.out.printf(Locale.ROOT, "%d GRPO steps on %d externally scored groups%n", s.steps(), judged.size());
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(cp -> b.append(cp < 32 || cp > 126 ? String.format("\\u%04x", cp) : Character.toString(cp)));
        return b.toString();
    }

    static double judged(String completion, String answer) {
        Matcher m = ANSWER.matcher(completion);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return last != null && last.strip().equals(answer.strip()) ? 1.0 : 0.0;
    }

    static List<ScoredGroup> scoredWith(KafkaSettings kafka, String configPart) {
        AvroCodec<ScoredGroup> codec = AvroCodec.of(ScoredGroup.class);
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        kafka.clientProperties().forEach(p::put);
        List<ScoredGroup> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> tps = c.partitionsFor(Topics.ROLLOUTS_SCORED, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(Topics.ROLLOUTS_SCORED, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            var end = c.endOffsets(tps);
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    ScoredGroup g = codec.decode(r.value());
                    if (g.getScorer().getConfig().contains(configPart)) {
                        out.add(g);
                    }
                }
            }
        }
        return out;
    }
}
