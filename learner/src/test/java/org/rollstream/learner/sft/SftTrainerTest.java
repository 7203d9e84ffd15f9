package org.rollstream.learner.sft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.eval.Evaluator;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.tasks.ColdStartData;
import org.rollstream.tasks.SftExample;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskRegistry;

/** A short cold start teaches the tiny model the reasoning format; the loss falls as it does. */
class SftTrainerTest {
    @Test
    void coldStartLearnsTheFormat() {
        CharTokenizer tok = CharTokenizer.builtin();
        TaskRegistry tasks = TaskRegistry.defaults();
        TaskDataset data = TaskDataset.generated(tasks.resolve("arithmetic"), 1, 10_000, 50);
        int steps = 150;
        List<SftExample> examples = new ColdStartData(tasks, 0.1, 0.0, 1).generate(data, steps * 16);
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(ModelSpec.preset("tiny"), nd, 1);
            SftTrainer sft = new SftTrainer(policy, tok, AdamW.standard(nd, 0), 1.0);
            Evaluator eval = new Evaluator(tok, tasks, 40);
            double before = eval.evaluate(policy, data.heldOut()).formatRate();
            Random rnd = new Random(1);
            double first = Double.NaN;
            double last = Double.NaN;
            for (int i = 0; i < steps; i++) {
                List<SftTrainer.Pair> batch = new ArrayList<>();
                for (int j = 0; j < 16; j++) {
                    SftExample e = examples.get(rnd.nextInt(examples.size()));
                    batch.add(new SftTrainer.Pair(e.prompt(), e.completion()));
                }
                last = sft.step(batch, 2e-3);
                if (i == 0) {
                    first = last;
                }
            }
            Evaluator.Result after = eval.evaluate(policy, data.heldOut());
            assertTrue(last < first / 2, "loss " + first + " -> " + last);
            assertTrue(before < 0.1, "an untrained model does not write the format: " + before);
            assertTrue(after.formatRate() > 0.9, "format rate after the cold start: " + after.formatRate());
        }
    }
}
