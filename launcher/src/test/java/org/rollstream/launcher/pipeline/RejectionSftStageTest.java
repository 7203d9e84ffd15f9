package org.rollstream.launcher.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.reward.rejection.RejectionSettings;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.FinishReason;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.Answers;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.testsupport.TopicReader;
import org.rollstream.transport.KafkaSettings;

/**
 * Stages 1–2 at a small size (a real cold start and a few GRPO steps over Kafka), then stage 3 on
 * their output; every kept sample is checked against every filter here, independently of the filter
 * role: with the task's verifier, the answer parsing of {@link Answers}, a format pattern of its own,
 * the script of every reasoning letter, and the finish reason and token count of the completion as the
 * actor published it on {@code rollouts.scored}.
 */
@ExtendWith(SharedBroker.class)
class RejectionSftStageTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The whole completion is one think block and one answer, nothing around them (whitespace between allowed). */
    private static final Pattern SHAPE = Pattern.compile("\\s*<think>((?:(?!</?think>|</?answer>).)*)</think>\\s*"
            + "<answer>((?:(?!</?think>|</?answer>).)*\\S(?:(?!</?think>|</?answer>).)*)</answer>\\s*", Pattern.DOTALL);

    @Test
    void keptSamplesPassEveryFilterAndSftFromTheBaseIsEvaluated(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
        KafkaSettings kafka = KafkaSettings.of(broker.bootstrapServers());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(new TeeStream(log, System.out), true, StandardCharsets.UTF_8);
        long seed = 11;
        Map<String, StageResult> done = new LinkedHashMap<>();
        StageContext ctx = new StageContext(dir, kafka, seed, 0.2, done, out);

        ReasoningRlStage rl = new ReasoningRlStage(new ReasoningRlStage.Settings("arithmetic", "tiny", 500, 6, 8, 8, 50,
                48, 1));
        long t0 = System.nanoTime();
        StageResult stage2 = rl.run(ctx);
        stage2.save(ctx.stageDir(rl));
        done.put(rl.name(), stage2);
        double rlSeconds = (System.nanoTime() - t0) / 1e9;

        // base is exactly the learner's initialisation for the seed; policy is a trained, different tensor set
        ModelSpec spec = ModelSpec.preset("tiny");
        Weights base = WeightSnapshot.open(stage2.artifact(StageResult.BASE)).load();
        Weights init = DjlPolicy.initialWeights(spec, seed);
        for (String name : init.tensors().keySet()) {
            assertArrayEquals(init.tensors().get(name).data(), base.tensors().get(name).data(), name);
        }
        WeightSnapshot policy = WeightSnapshot.open(stage2.artifact(StageResult.POLICY));
        assertEquals(spec, policy.spec());
        assertEquals(6, policy.step());

        RejectionSftStage rs = new RejectionSftStage(new RejectionSftStage.Settings("arithmetic", 64, 8, 1.0f, 48,
                RejectionSettings.defaults(), 3.0, 200, 32, 2e-3, 50, 1));
        long t1 = System.nanoTime();
        StageResult stage3 = rs.run(ctx);
        double rsSeconds = (System.nanoTime() - t1) / 1e9;

        // the samples as exported, and as published on sft.samples
        Path jsonl = stage3.artifact(StageResult.SAMPLES);
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            lines.add(JSON.readTree(line));
        }
        assertTrue(lines.size() > 0, "no sample kept; log:\n" + log);
        assertEquals(stage3.metrics().get(Metrics.SAMPLES_KEPT), (double) lines.size());
        String jobRun = lines.get(0).get("runId").asText();
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode l : lines) {
            assertEquals(jobRun, l.get("runId").asText());
            assertTrue(byId.put(l.get("id").asText(), l) == null, "sample id twice in the file: " + l);
        }
        AvroCodec<SftSample> sampleCodec = AvroCodec.of(SftSample.class);
        Map<String, SftSample> topic = TopicReader.readUntil(broker.bootstrapServers(), Topics.SFT_SAMPLES, byId.keySet(),
                sampleCodec::decode, Duration.ofSeconds(60));
        Map<String, SftSample> ours = new HashMap<>();
        topic.forEach((k, v) -> {
            if (jobRun.equals(v.getRunId())) {
                ours.put(k, v);
            }
        });
        assertEquals(byId.keySet(), ours.keySet(), "sft.samples and samples.jsonl hold different samples");
        for (SftSample s : ours.values()) {
            JsonNode l = byId.get(s.getId());
            assertEquals(l.get("completion").asText(), s.getCompletion());
            assertEquals(l.get("prompt").asText(), s.getPrompt());
            assertEquals(l.get("promptId").asText(), s.getPromptId());
            assertEquals(l.get("tokens").asInt(), s.getTokens());
            assertEquals(l.get("reward").asDouble(), s.getReward());
        }

        // every kept sample against every filter, from the groups as the actors and the scorer published them
        Set<String> promptIds = new HashSet<>();
        ours.values().forEach(s -> promptIds.add(s.getPromptId()));
        Map<String, ScoredGroup> groups = TopicReader.readUntil(broker.bootstrapServers(), Topics.ROLLOUTS_SCORED, promptIds,
                AvroCodec.of(ScoredGroup.class)::decode, Duration.ofSeconds(60));
        RejectionSettings rules = RejectionSettings.defaults();
        Map<String, Integer> perPrompt = new HashMap<>();
        Set<String> seenText = new HashSet<>();
        for (SftSample s : ours.values()) {
            ScoredGroup g = groups.get(s.getPromptId());
            Prompt p = g.getGroup().getPrompt();
            assertEquals(jobRun, p.getRunId());
            assertEquals(p.getText(), s.getPrompt());
            Optional<Completion> c = g.getGroup().getCompletions().stream().filter(x -> x.getText().equals(s.getCompletion())).findFirst();
            assertTrue(c.isPresent(), "kept completion not among its group's: " + s);
            assertEquals(FinishReason.STOP, c.get().getFinishReason(), s.getCompletion());
            assertEquals(c.get().getTokenIds().size(), s.getTokens());
            assertTrue(s.getTokens() >= rules.minTokens() && s.getTokens() <= rules.maxTokens(), "length " + s.getTokens());
            Matcher m = SHAPE.matcher(s.getCompletion());
            assertTrue(m.matches(), "not well-formed: " + s.getCompletion());
            Optional<String> answer = Answers.extract(s.getCompletion());
            assertEquals(m.group(2).strip(), answer.orElseThrow());
            TaskInstance inst = TaskInstance.fromFields(p.getTask(), p.getId(), p.getText(), p.getAnswer(), p.getFields());
            assertTrue(TaskRegistry.defaults().resolve(p.getTask()).isCorrect(inst, answer.get()), "wrong: " + s.getCompletion()
                    + " for " + p.getText() + " = " + p.getAnswer());
            m.group(1).codePoints().filter(Character::isLetter).forEach(cp ->
                    assertEquals(Character.UnicodeScript.LATIN, Character.UnicodeScript.of(cp), s.getCompletion()));
            assertTrue(seenText.add(s.getPromptId() + "\n" + s.getCompletion()), "duplicate kept: " + s);
            assertTrue(perPrompt.merge(s.getPromptId(), 1, Integer::sum) <= rules.maxPerPrompt(), "over m for " + s.getPromptId());
        }

        // the funnel adds up, and counts k completions of every prompt judged
        Map<String, Double> mt = stage3.metrics();
        double removed = 0;
        for (Map.Entry<String, Double> e : mt.entrySet()) {
            if (e.getKey().startsWith("funnel.removed.")) {
                removed += e.getValue();
            }
        }
        assertEquals(mt.get("funnel.input"), removed + mt.get("funnel.kept"));
        assertEquals((double) lines.size(), mt.get("funnel.kept"));
        assertEquals(64 * 8.0, mt.get("funnel.input"), "every prompt's group judged once");
        JsonNode funnel = JSON.readTree(ctx.stageDir(rs).resolve("funnel.json").toFile());
        assertEquals(mt.get("funnel.kept"), funnel.get("kept").asDouble());
        assertNotNull(mt.get(Metrics.ACCURACY));
        assertTrue(WeightSnapshot.open(stage3.artifact(StageResult.POLICY)).spec().equals(spec));

        System.out.printf("reasoning-rl %.0f s: accuracy %.1f%% (cold start %.1f%%); rejection-sft %.0f s: accuracy %.1f%%, "
                        + "format %.1f%%, general %.1f%%, %d samples kept of %.0f; funnel %s%n", rlSeconds,
                100 * stage2.metrics().get(Metrics.ACCURACY), 100 * stage2.metrics().get("cold-start-accuracy"), rsSeconds,
                100 * mt.get(Metrics.ACCURACY), 100 * mt.get(Metrics.FORMAT_RATE), 100 * mt.get("general-accuracy"), lines.size(),
                mt.get("funnel.input"), funnel);
    }

    /**
     * Not part of the suite: both stages with their default settings at {@code -Drollstream.stage3.scale=S}
     * (1.0 = the defaults), printing stage-2 and stage-3 figures and the funnel; what the README quotes.
     */
    @Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "rollstream.stage3.scale", matches = "[0-9.]+")
    void measureAtScale(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
        double scale = Double.parseDouble(System.getProperty("rollstream.stage3.scale"));
        Map<String, StageResult> done = new LinkedHashMap<>();
        StageContext ctx = new StageContext(dir, KafkaSettings.of(broker.bootstrapServers()), 7, scale, done, System.out);
        ReasoningRlStage rl = new ReasoningRlStage();
        StageResult stage2 = rl.run(ctx);
        done.put(rl.name(), stage2);
        StageResult stage3 = new RejectionSftStage().run(ctx);
        assertTrue(Files.size(stage3.artifact(StageResult.SAMPLES)) > 0);
        System.out.println("MEASURED scale " + scale + " reasoning-rl " + new java.util.TreeMap<>(stage2.metrics()));
        System.out.println("MEASURED scale " + scale + " rejection-sft " + new java.util.TreeMap<>(stage3.metrics()));
        System.out.println("MEASURED funnel " + Files.readString(ctx.stageDir(new RejectionSftStage()).resolve("funnel.json")));
    }

    @Test
    void withoutStageTwoItNamesTheMissingStage(EmbeddedKafka broker, @TempDir Path dir) {
        StageContext ctx = new StageContext(dir, KafkaSettings.of(broker.bootstrapServers()), 1, 0.3, Map.of(), System.out);
        PipelineException e = org.junit.jupiter.api.Assertions.assertThrows(PipelineException.class,
                () -> new RejectionSftStage().run(ctx));
        assertTrue(e.getMessage().contains("'reasoning-rl'"), e.getMessage());
    }

    /** Copies everything to two streams: the test's log and the console. */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws java.io.IOException {
            a.write(x);
            b.write(x);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
