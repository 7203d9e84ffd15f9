package org.rollstream.launcher.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.learner.sft.SftRun;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.KafkaSettings;

/**
 * The distillation stage's on-policy step as the bench runs it on a finished seed: real weight files for the
 * teacher (stage 4's policy, here a short SFT on reference traces) and a saved distilled student, the stage
 * run through {@link Pipeline} with its saved result reused. The on-policy student is written and evaluated,
 * its reverse KL to the teacher on held-out prompts falls, and the saved figures are kept.
 */
@ExtendWith(SharedBroker.class)
class DistillationOnPolicyStageTest {
    private static final int UPDATES = 100;

    @Test
    void addsAnOnPolicyStudentWhoseReverseKlFalls(EmbeddedKafka broker, @TempDir Path dir) throws Exception {
        ModelSpec spec = ModelSpec.preset("student");
        long seed = 4;
        // the teacher, saved as the alignment stage saves its policy
        Task task = TaskRegistry.defaults().resolve("arithmetic");
        TaskDataset data = TaskDataset.generated(task, seed, 10_000, 16);
        Random rnd = new Random(3);
        List<SftTrainer.Pair> traces = new ArrayList<>();
        for (TaskInstance p : data.epoch(9).subList(0, 200)) {
            traces.add(new SftTrainer.Pair(p.text(), task.trace(p, true, rnd)));
        }
        Path teacher = dir.resolve("alignment/policy.safetensors");
        Files.createDirectories(teacher.getParent());
        WeightSnapshot.write(teacher, new SftRun(40, 16, 3e-3, 1).train(spec, DjlPolicy.initialWeights(spec, 1), traces,
                CharTokenizer.builtin(), null).weights(), spec, 0, 40, false);
        new StageResult(AlignmentStage.NAME, Map.of(StageResult.POLICY, teacher), Map.of(Metrics.ACCURACY, 0.2))
                .save(dir.resolve(AlignmentStage.NAME));
        // a saved distillation result whose distilled student is a fresh initialisation: far from the teacher
        Path student = dir.resolve("distillation/student.safetensors");
        Files.createDirectories(student.getParent());
        WeightSnapshot.write(student, DjlPolicy.initialWeights(spec, 9), spec, 0, UPDATES, false);
        Map<String, Double> saved = new LinkedHashMap<>();
        saved.put("student.accuracy", 0.123);
        saved.put("student.trained-sequences", (double) UPDATES * DistillationStage.SFT_BATCH);
        saved.put("rl-student.accuracy", 0.045);
        saved.put(Metrics.SECONDS, 100.0);
        new StageResult(DistillationStage.NAME, Map.of(DistillationStage.STUDENT, student), saved)
                .save(dir.resolve(DistillationStage.NAME));

        DistillationStage stage = new DistillationStage(new DistillationStage.Settings("arithmetic", "student", UPDATES, 5, 8, 8,
                20, 8, 2e-3, 16, 16), true, TeacherSamples.REJECTION_SAMPLING).reusingSaved();
        List<Stage> stages = List.of(new Saved(AlignmentStage.NAME, List.of()), stage);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Map<String, StageResult> results = new Pipeline(stages, dir).run(
                new Pipeline.Selection(Set.of(DistillationStage.NAME), null, Set.of()),
                () -> KafkaSettings.of(broker.bootstrapServers()), seed, 1.0, out);

        StageResult r = results.get(DistillationStage.NAME);
        Map<String, Double> m = r.metrics();
        Path onPolicy = r.artifact(DistillationStage.ONPOLICY_STUDENT);
        assertEquals(spec, WeightSnapshot.open(onPolicy).spec());
        double before = m.get("onpolicy-student.probe-reverse-kl-before");
        double after = m.get("onpolicy-student.probe-reverse-kl-after");
        assertTrue(before > 0.2, "a random student is far from the teacher: " + before);
        assertTrue(after < 0.8 * before, "probe reverse KL " + before + " -> " + after);
        double acc = m.get("onpolicy-student.accuracy");
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
        assertEquals(UPDATES + 20, m.get("onpolicy-student.updates"));
        assertEquals(160, m.get("onpolicy-student.sampled-completions"));
        // kept, not recomputed: a full run would have sampled the teacher over Kafka and trained a new student
        assertEquals(0.123, m.get("student.accuracy"), "the saved distilled student's figures are kept");
        assertEquals(0.045, m.get("rl-student.accuracy"));
        assertEquals(student.toAbsolutePath(), r.artifact(DistillationStage.STUDENT).toAbsolutePath());
        // saved as the bench reads it next time: complete, with the on-policy student
        assertTrue(StageResult.load(dir.resolve(DistillationStage.NAME)).metrics().containsKey("onpolicy-student.accuracy"));
    }

    /** A stage that already completed (its stage.json is on disk); running it would be a bug here. */
    private record Saved(String name, List<String> needs) implements Stage {
        @Override
        public StageResult run(StageContext context) {
            throw new AssertionError(name + " must not run");
        }
    }
}
