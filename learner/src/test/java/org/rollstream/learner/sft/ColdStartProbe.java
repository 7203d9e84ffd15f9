package org.rollstream.learner.sft;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.eval.Evaluator;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.tasks.ColdStartData;
import org.rollstream.tasks.SftExample;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskRegistry;

class ColdStartProbe {
    @Test
    void probe() {
        int steps = Integer.getInteger("probe.steps", 300);
        int batch = Integer.getInteger("probe.batch", 32);
        double lr = Double.parseDouble(System.getProperty("probe.lr", "3e-3"));
        CharTokenizer tok = CharTokenizer.builtin();
        TaskRegistry reg = TaskRegistry.defaults();
        TaskDataset ds = TaskDataset.generated(reg.resolve("arithmetic"), 1, 10000, 200);
        List<SftExample> ex = new ColdStartData(reg, Double.parseDouble(System.getProperty("probe.flawed", "0.3")), Double.parseDouble(System.getProperty("probe.answerOnly", "0")), 1).generate(ds, steps * batch);
        try (NDManager nd = NDManager.newBaseManager()) {
            ModelSpec spec = ModelSpec.preset(System.getProperty("probe.preset", "tiny"));
            DjlPolicy p = new DjlPolicy(spec, nd, 1);
            SftTrainer t = new SftTrainer(p, tok, AdamW.standard(nd, 0), 1.0);
            Random r = new Random(1);
            Evaluator ev = new Evaluator(tok, reg, 64);
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                List<SftTrainer.Pair> b = new ArrayList<>();
                for (int j = 0; j < batch; j++) {
                    SftExample e = ex.get(r.nextInt(ex.size()));
                    b.add(new SftTrainer.Pair(e.prompt(), e.completion()));
                }
                double cur = lr * 0.5 * (1 + Math.cos(Math.PI * i / steps));
                double loss = t.step(b, cur);
                if (!Double.isFinite(t.lastGradNorm()) || t.lastGradNorm() > 50 || !Double.isFinite(loss)) {
                    System.out.printf("step %d loss %.4f gradnorm %.3f skipped %d%n", i + 1, loss, t.lastGradNorm(), t.skippedSteps());
                }
                if ((i + 1) % 50 == 0) {
                    long t1 = System.nanoTime();
                    var res = ev.evaluate(p, ds.heldOut().subList(0, 200));
                    System.out.printf("step %d loss %.4f  %.1fs  eval acc %.3f fmt %.3f len %.1f (eval %.1fs)%n", i + 1, loss,
                            (t1 - t0) / 1e9, res.accuracy(), res.formatRate(), res.meanResponseTokens(), (System.nanoTime() - t1) / 1e9);
                }
            }
        }
    }
}
