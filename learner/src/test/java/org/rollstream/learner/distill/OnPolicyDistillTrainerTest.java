package org.rollstream.learner.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/** On-policy distillation: no signal when student and teacher agree, and each step moves the student toward the teacher. */
class OnPolicyDistillTrainerTest {
    private final CharTokenizer tok = CharTokenizer.builtin();
    private final TaskRegistry tasks = TaskRegistry.defaults();
    private final TaskDataset data = TaskDataset.generated(tasks.resolve("arithmetic"), 3, 10_000, 50);

    @Test
    void aStudentEqualToItsTeacherHasNoAdvantageAndNoKl() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy teacher = new DjlPolicy(ModelSpec.preset("student"), nd, 5);
            DjlPolicy student = new DjlPolicy(ModelSpec.preset("student"), nd, teacher.exportWeights());
            OnPolicyDistillTrainer trainer = new OnPolicyDistillTrainer(student, teacher, AdamW.standard(nd, 0), 1.0, tok.pad());
            List<OnPolicyDistillTrainer.Rollout> rollouts = sample(student, 8, new Random(2));
            OnPolicyDistillTrainer.StepStats s = trainer.step(rollouts, 1e-3);
            assertTrue(s.tokens() > 0);
            assertEquals(0.0, s.reverseKl(), 1e-5);
            assertEquals(0.0, s.contextKl(), 1e-5);
            assertEquals(0.0, s.loss(), 1e-5);
        }
    }

    @Test
    void onFixedRolloutsEachStepDescendsTheSquaredLogRatioToTheTeacher() {
        // the advantage's sign and the loss's wiring: on fixed rollouts the step's gradient is that of
        // ½(log π_s − log π_t)², so it must fall; with the sign flipped it would grow
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy teacher = new DjlPolicy(ModelSpec.preset("tiny"), nd, 1);
            DjlPolicy student = new DjlPolicy(ModelSpec.preset("student"), nd, 9);
            OnPolicyDistillTrainer trainer = new OnPolicyDistillTrainer(student, teacher, AdamW.standard(nd, 0), 1.0, tok.pad());
            List<OnPolicyDistillTrainer.Rollout> rollouts = sample(student, 16, new Random(4));
            double before = trainer.halfSquaredLogRatio(rollouts);
            double firstKl = Double.NaN;
            for (int i = 0; i < 15; i++) {
                OnPolicyDistillTrainer.StepStats s = trainer.step(rollouts, 1e-3);
                assertTrue(s.applied(), "step " + i + " was skipped");
                if (i == 0) {
                    firstKl = s.reverseKl();
                }
            }
            double after = trainer.halfSquaredLogRatio(rollouts);
            assertTrue(before > 0, "distinct random models disagree: " + before);
            assertTrue(after < before / 2, "½(log π_s − log π_t)² on the rollouts " + before + " -> " + after);
            assertTrue(Math.abs(trainer.reverseKl(rollouts)) < Math.abs(firstKl),
                    "mean log-ratio on the rollouts " + firstKl + " -> " + trainer.reverseKl(rollouts));
        }
    }

    private List<OnPolicyDistillTrainer.Rollout> sample(DjlPolicy policy, int n, Random rnd) {
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TaskInstance inst = data.heldOut().get(rnd.nextInt(data.heldOut().size()));
            prompts.add(PromptTokens.encode(tok, inst.text()));
        }
        List<int[]> completions = new PolicySampler(policy, tok.pad(), tok.eos()).sample(prompts, 32, 1.0, rnd);
        List<OnPolicyDistillTrainer.Rollout> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new OnPolicyDistillTrainer.Rollout(prompts.get(i), completions.get(i)));
        }
        return out;
    }
}
