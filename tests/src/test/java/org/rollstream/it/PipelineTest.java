package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.launcher.pipeline.AlignmentStage;
import org.rollstream.launcher.pipeline.DistillationStage;
import org.rollstream.launcher.pipeline.Metrics;
import org.rollstream.launcher.pipeline.Pipeline;
import org.rollstream.launcher.pipeline.ReasoningRlStage;
import org.rollstream.launcher.pipeline.RejectionSftStage;
import org.rollstream.launcher.pipeline.StageResult;
import org.rollstream.launcher.pipeline.TeacherSamples;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.reward.rejection.RejectionSettings;
import org.rollstream.tasks.ArithmeticTask;
import org.rollstream.transport.KafkaSettings;

/**
 * The R1 pipeline end to end at a small scale on a real broker: all four stages (R1 stages 1–5) run over
 * Kafka and each leaves its artifacts; every sample rejection sampling kept passes every filter, re-derived
 * here from the text alone (the arithmetic answer recomputed from the prompt, the format and script checked
 * by regular expressions, lengths counted with the tokenizer, duplicates and the per-prompt cap counted);
 * rejection-sampling SFT keeps the stage-2 accuracy (at most 5 points lower); alignment raises the
 * reward-model score while reasoning accuracy drops at most 5 points; the CLI resumes the finished pipeline
 * and writes its report; and a stage started without its input fails naming the missing stage.
 *
 * <p>The accuracy bars must be able to fail, so the reasoning task is the built-in {@code addition}
 * (two-digit addition, {@link ArithmeticTask#addition()}), which the tiny model learns to a clearly non-zero
 * accuracy in a few hundred cold-start steps; the test asserts that stage 2 got there before it compares.
 * (At the default arithmetic and this budget every policy sits near 4%, where a 5-point bar cannot fail.)
 * The stage-3 bar compares stage 2 and stage 3 on the same {@value #PAIRED_EVAL} held-out problems.
 */
@ExtendWith(KafkaBrokerExtension.class)
class PipelineTest {
    static final String TASK = ArithmeticTask.ADDITION;
    static final long SEED = 3;
    /** Stage 2 must reach this held-out accuracy for the 5-point bars to mean anything. */
    static final double STAGE2_FLOOR = 0.30;
    static final double SCALE = 0.1;
    static final int PAIRED_EVAL = 600;
    /** The rejection filter's settings in the pipeline (RejectionSettings.defaults()): m, token bounds. */
    static final int MAX_PER_PROMPT = 2;
    static final int MIN_TOKENS = 1;
    static final int MAX_TOKENS = 40;
    static final int MAX_NEW_TOKENS = 48;

    /**
     * Stages 1–2: 800 cold-start steps, 10 GRPO steps of 8 groups of 8. (400 and 6 left stage 2 anywhere
     * between 53% and 73% from run to run, and a weak stage 2 starves stage 3 of samples.)
     */
    static ReasoningRlStage reasoningRl() {
        return new ReasoningRlStage(new ReasoningRlStage.Settings(TASK, "tiny", 800, 10, 8, 8, 200, MAX_NEW_TOKENS, 1));
    }

    /**
     * Stage 3: 3,000 prompts x 8 (sampling is cheap: 600 took 6 s), SFT from the base for at most 1,000
     * steps (at most 12 epochs of the mix). With 600 prompts the 619 kept samples gave 310 steps and
     * stage 3 fell 16 points below stage 2: from a random base, SFT needs the data.
     */
    static RejectionSftStage rejectionSft() {
        return new RejectionSftStage(new RejectionSftStage.Settings(TASK, 3000, 8, 1.0f, MAX_NEW_TOKENS,
                RejectionSettings.defaults(), 3.0, 1000, 32, 2e-3, 200, 1, 12, PAIRED_EVAL));
    }

    /** Stage 4 at the defaults scaled by 0.1 but 30 GRPO steps at 5e-5, on the test's task. */
    static AlignmentStage alignment() {
        AlignmentStage.Settings d = AlignmentStage.Settings.defaults().scaled(0.1);
        // 30 GRPO steps at 5e-5, not the scaled 10 at the default 2e-5: from this test's strong stage-3 policy the
        // default once left every greedy answer as it was (score 8.189 -> 8.189) and 30 steps of it moved the score
        // by 0.002, too little for the reward-model bar to tell alignment from none; 5e-5 gave 7.39 -> 7.96 with
        // reasoning accuracy 93.0% -> 95.0% (the accuracy bar still binds: 5e-5 once cost 6.5 points from 71%)
        return new AlignmentStage(new AlignmentStage.Settings(TASK, d.pairs(), d.rmSteps(), 30, d.groupsPerStep(),
                d.groupSize(), 5e-5, d.evalSize(), d.generalEval(), d.maxNewTokens(), d.actors()));
    }

    /** Stage 5 at the defaults scaled by 0.1, evaluated on the test's task. */
    static DistillationStage distillation() {
        DistillationStage.Settings d = DistillationStage.Settings.defaults().scaled(0.1);
        return new DistillationStage(new DistillationStage.Settings(TASK, d.studentPreset(), d.updates(), d.rlGrpoSteps(),
                d.groupsPerStep(), d.groupSize(), d.onPolicySteps(), d.onPolicyBatch(), d.onPolicyLearningRate(), d.evalSize(), d.maxNewTokens()),
                false, TeacherSamples.REJECTION_SAMPLING);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ARITHMETIC = Pattern.compile("(\\d+)([+\\-*])(\\d+)=");
    private static final Pattern SHAPE = Pattern.compile("<think>(.*)</think><answer>(.*)</answer>", Pattern.DOTALL);

    @TempDir
    Path tmp;

    @Test
    void theFiveStagesRunOverKafkaAndEachKeepsItsPromise(KafkaSettings kafka) throws Exception {
        Path dir = tmp.resolve("pipeline");
        Pipeline pipeline = new Pipeline(List.of(reasoningRl(), rejectionSft(), alignment(), distillation()), dir);
        // the stages' settings are fixed; the scale reaches only what derives its sizes from defaults (the teacher samples)
        pipeline.run(Pipeline.Selection.all(), () -> kafka, SEED, SCALE, System.out);

        Map<String, StageResult> r = new HashMap<>();
        for (String s : List.of("reasoning-rl", "rejection-sft", "alignment", "distillation")) {
            StageResult res = StageResult.load(dir.resolve(s));
            assertTrue(res != null, "stage " + s + " left no stage.json");
            r.put(s, res);
        }
        // every stage's artifacts exist
        Map<String, List<String>> expected = Map.of(
                "reasoning-rl", List.of(StageResult.BASE, StageResult.POLICY),
                "rejection-sft", List.of(StageResult.SAMPLES, StageResult.POLICY),
                "alignment", List.of(StageResult.REWARD_MODEL, StageResult.POLICY),
                "distillation", List.of("teacher-samples", "student", "rl-student"));
        expected.forEach((stage, names) -> {
            for (String n : names) {
                Path p = r.get(stage).artifact(n);
                assertTrue(Files.isRegularFile(p), stage + " " + n + ": " + p);
                assertTrue(p.toFile().length() > 0, stage + " " + n + " is empty");
            }
        });

        // every kept sample passes every filter, judged here independently
        int kept = checkEverySamplePasses(r.get("rejection-sft").artifact(StageResult.SAMPLES));
        assertEquals(r.get("rejection-sft").metrics().get(Metrics.SAMPLES_KEPT), kept, 0.0);
        int teacherKept = checkEverySamplePasses(r.get("distillation").artifact("teacher-samples"));
        assertTrue(teacherKept > 0, "the alignment policy's samples kept: " + teacherKept);

        // resume through the CLI: everything is complete, so nothing runs again and no broker is needed; it writes the report
        RecordedRun.Outcome again = RecordedRun.cli("pipeline", "--dir", dir.toString(), "--seed", Long.toString(SEED),
                "--scale", Double.toString(SCALE));
        assertEquals(0, again.code(), again.err());
        assertEquals(4, again.out().split("already complete", -1).length - 1, again.out());
        assertFalse(again.out().contains("starting an embedded Kafka broker"), again.out());

        // the report lists every stage and the distillation comparison
        String report = Files.readString(dir.resolve("report/summary.md"));
        for (String s : List.of("reasoning-rl", "rejection-sft", "alignment", "distillation / student", "distillation / rl-student",
                "distillation / teacher")) {
            assertTrue(report.contains("| " + s + " |"), "report row " + s + ":\n" + report);
        }
        assertTrue(Files.size(dir.resolve("report/accuracy.png")) > 0);

        // the accuracy bars last, so a failing bar still leaves every check above run
        // stage 2 learnt the task well enough that the bars below can fail
        double rl = r.get("reasoning-rl").metrics().get(Metrics.ACCURACY);
        assertTrue(rl >= STAGE2_FLOOR, "precondition: stage 2 reaches " + STAGE2_FLOOR + " held-out accuracy, got " + rl);

        // stage 3 keeps stage 2's accuracy (within 5 points below it), both measured on the same larger held-out list
        Map<String, Double> rsm = r.get("rejection-sft").metrics();
        assertEquals(PAIRED_EVAL, rsm.get(RejectionSftStage.PAIRED_PROBLEMS), 0.0);
        double rlPaired = rsm.get(RejectionSftStage.PAIRED_STAGE2_ACCURACY);
        double rsPaired = rsm.get(RejectionSftStage.PAIRED_ACCURACY);
        System.out.printf(java.util.Locale.ROOT, "PipelineTest accuracies: stage 2 %.3f (paired %.3f), stage 3 %.3f (paired %.3f)%n",
                rl, rlPaired, rsm.get(Metrics.ACCURACY), rsPaired);
        assertTrue(rsPaired >= rlPaired - 0.05, "rejection-sampling SFT accuracy " + rsPaired + " vs reasoning RL " + rlPaired
                + " on " + PAIRED_EVAL + " held-out problems");
        double rs = rsm.get(Metrics.ACCURACY);

        // stage 4: the reward model's score rises, reasoning accuracy drops at most 5 points. The score is the policy's
        // expected one, over 16 sampled completions of each of the 15 held-out general prompts: the greedy score moves
        // only when one of 15 greedy answers flips (it once fell 8.38 -> 8.12 in CI)
        Map<String, Double> al = r.get("alignment").metrics();
        double before = al.get(Metrics.RM_SCORE_SAMPLED + ".before");
        double after = al.get(Metrics.RM_SCORE_SAMPLED);
        System.out.printf(java.util.Locale.ROOT, "PipelineTest accuracies: stage 4 %.3f (stage 3 %.3f on the same 200), rm score "
                        + "sampled %.3f -> %.3f, greedy %.3f -> %.3f%n", al.get(Metrics.ACCURACY), rs, before, after,
                al.get(Metrics.RM_SCORE + ".before"), al.get(Metrics.RM_SCORE));
        assertTrue(after > before, "reward-model score (sampled) " + before + " -> " + after);
        assertTrue(al.get(Metrics.ACCURACY) >= rs - 0.05, "alignment accuracy " + al.get(Metrics.ACCURACY) + " vs stage 3 " + rs);
    }

    @Test
    void aStageWithoutItsInputFailsNamingTheMissingStage() {
        Path empty = tmp.resolve("empty");
        RecordedRun.Outcome o = RecordedRun.cli("pipeline", "--dir", empty.toString(), "--only", "alignment");
        assertEquals(2, o.code(), o.out() + o.err());
        assertTrue(o.err().contains("stage 'alignment' needs the output of stage 'rejection-sft'"), o.err());
        assertFalse(Files.exists(empty.resolve("alignment/stage.json")));
    }

    /**
     * Whether {@code given} is the number {@code want} as the arithmetic verifier reads numbers ("00", "0.0",
     * "-0", "1,200", "6/2" all count), written here again rather than calling it.
     */
    static boolean numericallyEqual(String given, long want) {
        String t = given.strip().replace('\u2212', '-');
        java.math.BigInteger w = java.math.BigInteger.valueOf(want);
        Matcher fraction = Pattern.compile("(-?\\d+)/(\\d+)").matcher(t);
        if (fraction.matches()) {
            java.math.BigInteger d = new java.math.BigInteger(fraction.group(2));
            return d.signum() != 0 && new java.math.BigInteger(fraction.group(1)).equals(w.multiply(d));
        }
        if (t.matches("-?\\d{1,3}(,\\d{3})+")) {
            t = t.replace(",", "");
        }
        try {
            return new java.math.BigDecimal(t).compareTo(new java.math.BigDecimal(w)) == 0;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    /**
     * Checks every sample of a samples JSONL file against every filter, from the text alone; returns the count.
     */
    static int checkEverySamplePasses(Path jsonl) throws Exception {
        CharTokenizer tok = CharTokenizer.builtin();
        Map<String, Integer> perPrompt = new HashMap<>();
        Set<String> seen = new HashSet<>();
        List<String> lines = Files.readAllLines(jsonl);
        int n = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String where = jsonl + ":" + (i + 1);
            JsonNode s = JSON.readTree(lines.get(i));
            String prompt = s.path("prompt").asText();
            String completion = s.path("completion").asText();
            String promptId = s.path("promptId").asText();
            // well-formed, exactly one think and one answer, nothing around them
            Matcher m = SHAPE.matcher(completion);
            assertTrue(m.matches(), where + " malformed: " + completion);
            assertFalse(m.group(1).contains("<think>") || m.group(2).contains("<answer>"), where + " nested tags: " + completion);
            // correct: the answer recomputed from the prompt
            Matcher a = ARITHMETIC.matcher(prompt);
            assertTrue(a.matches(), where + " not an arithmetic prompt: " + prompt);
            long x = Long.parseLong(a.group(1));
            long y = Long.parseLong(a.group(3));
            long want = switch (a.group(2)) {
                case "+" -> x + y;
                case "-" -> x - y;
                default -> x * y;
            };
            String given = m.group(2).trim();
            assertTrue(numericallyEqual(given, want), where + " wrong answer for " + prompt + ": " + given + ", want " + want);
            // language: every letter in the Latin script
            completion.codePoints().filter(Character::isLetter).forEach(cp -> assertEquals(Character.UnicodeScript.LATIN,
                    Character.UnicodeScript.of(cp), where + " letter outside the Latin script: " + completion));
            // not truncated: the record counts the sampled tokens, which are the text's plus the <eos> that ended
            // it (a completion cut off by the budget has no <eos>, so it counts only the text's); a sampled special
            // token that decodes to nothing adds one more (seen once in about 5,000 kept samples); length within
            // bounds on the recorded count
            int tokens = s.path("tokens").asInt();
            assertTrue(tokens >= tok.encode(completion).length + 1, where + " sampled tokens " + tokens
                    + ": fewer than the text's and one <eos>");
            assertTrue(tokens >= MIN_TOKENS && tokens <= MAX_TOKENS && tokens <= MAX_NEW_TOKENS, where + " " + tokens + " tokens");
            // not a duplicate, at most m per prompt
            assertTrue(seen.add(promptId + "\u0000" + completion), where + " duplicate of a kept sample: " + completion);
            int count = perPrompt.merge(promptId, 1, Integer::sum);
            assertTrue(count <= MAX_PER_PROMPT, where + " prompt " + promptId + " has " + count + " samples");
            n++;
        }
        return n;
    }
}
