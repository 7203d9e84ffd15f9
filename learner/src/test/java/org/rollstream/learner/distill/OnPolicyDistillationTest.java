package org.rollstream.learner.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.sft.SftRun;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/**
 * A whole on-policy run from a random student toward a briefly trained teacher: the student's reverse KL
 * to the teacher, measured with fresh student samples on held-out prompts it never trains on, falls.
 */
class OnPolicyDistillationTest {
    private final CharTokenizer tok = CharTokenizer.builtin();

    @Test
    void theProbeReverseKlFallsOverARun() {
        TaskDataset data = TaskDataset.generated(TaskRegistry.defaults().resolve("arithmetic"), 5, 10_000, 24);
        Iterator<TaskInstance> train = data.train(0);
        Iterator<int[]> prompts = OnPolicyDistillation.promptTokens(train, tok);
        List<int[]> probe = new ArrayList<>();
        data.heldOut().forEach(p -> probe.add(PromptTokens.encode(tok, p.text())));
        // the teacher: a short SFT on the task's reference traces, so it is sharp where a random student is not
        Task task = TaskRegistry.defaults().resolve("arithmetic");
        Random rnd = new Random(3);
        List<SftTrainer.Pair> traces = new ArrayList<>();
        for (TaskInstance p : data.epoch(7).subList(0, 200)) {
            traces.add(new SftTrainer.Pair(p.text(), task.trace(p, true, rnd)));
        }
        ModelSpec spec = ModelSpec.preset("student");
        Weights teacher = new SftRun(40, 16, 3e-3, 1).train(spec, DjlPolicy.initialWeights(spec, 1), traces, tok, null).weights();
        List<Double> kls = new ArrayList<>();
        OnPolicyDistillation run = new OnPolicyDistillation(20, 8, 16, 2e-3, 1.0, 7,
                OnPolicyDistillTrainer.Estimator.FULL_VOCABULARY);
        OnPolicyDistillation.Result r = run.run(spec, DjlPolicy.initialWeights(spec, 9), spec, teacher, prompts, probe,
                tok.pad(), tok.eos(), (step, s) -> kls.add(s.contextKl()));

        System.out.printf("on-policy run: probe KL %.4f -> %.4f, training %.4f -> %.4f%n", r.probeKlBefore(), r.probeKlAfter(),
                r.firstKl(), r.lastKl());
        assertEquals(20, kls.size(), "progress after every update");
        assertEquals(160, r.sampledCompletions());
        assertTrue(r.sampledTokens() > 0 && r.sampledTokens() <= 160 * 16, "sampled tokens " + r.sampledTokens());
        assertEquals(0, r.skippedSteps());
        // a random student is far from a trained teacher; the run must close a good part of the gap on prompts it never saw
        assertTrue(r.probeKlBefore() > 0.5, "probe reverse KL before " + r.probeKlBefore());
        assertTrue(r.probeKlAfter() < 0.7 * r.probeKlBefore(),
                "probe reverse KL " + r.probeKlBefore() + " -> " + r.probeKlAfter() + " (training rollouts " + kls + ")");
        assertTrue(r.lastKl() < r.firstKl(), "training rollouts' KL " + r.firstKl() + " -> " + r.lastKl());
    }
}
