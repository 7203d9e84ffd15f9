package org.rollstream.learner.sft;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.LongConsumer;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * A whole supervised run on a fixed list of pairs, as the cold start trains: {@code steps} AdamW
 * steps (no weight decay, gradient norm clipped at 1) of {@code batch} pairs drawn with replacement in
 * a seeded order, learning rate cosine-decayed from {@code learningRate} to 0. Used by
 * rejection-sampling SFT and distillation.
 *
 * @param steps        optimizer steps (≥ 1)
 * @param batch        pairs per step (≥ 1)
 * @param learningRate peak learning rate (&gt; 0)
 * @param seed         draws the batches
 */
public record SftRun(int steps, int batch, double learningRate, long seed) {
    public SftRun {
        if (steps < 1 || batch < 1 || !(learningRate > 0)) {
            throw new IllegalArgumentException("SFT needs steps >= 1, batch >= 1 and a positive learning rate; got "
                    + steps + ", " + batch + ", " + learningRate);
        }
    }

    /** What a run did: the final weights and the mean loss of its first and last tenth of steps. */
    public record Result(Weights weights, double firstLoss, double lastLoss, long skippedSteps) {
    }

    /**
     * Trains from {@code init} on {@code data}; {@code progress} (may be null) gets each finished step
     * number every 25 steps and at the end.
     */
    public Result train(ModelSpec spec, Weights init, List<SftTrainer.Pair> data, Tokenizer tokenizer, LongConsumer progress) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("no SFT data: nothing to train on");
        }
        int window = Math.max(1, steps / 10);
        double first = 0;
        double last = 0;
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(spec, nd, init);
            SftTrainer sft = new SftTrainer(policy, tokenizer, AdamW.standard(nd, 0.0), 1.0);
            Random rnd = new Random(seed);
            for (int i = 0; i < steps; i++) {
                List<SftTrainer.Pair> pairs = new ArrayList<>(batch);
                for (int j = 0; j < batch; j++) {
                    pairs.add(data.get(rnd.nextInt(data.size())));
                }
                double lr = learningRate * 0.5 * (1 + Math.cos(Math.PI * i / steps));
                double loss = sft.step(pairs, lr);
                if (i < window) {
                    first += loss / window;
                }
                if (i >= steps - window) {
                    last += loss / window;
                }
                if (progress != null && ((i + 1) % 25 == 0 || i + 1 == steps)) {
                    progress.accept(i + 1);
                }
            }
            return new Result(policy.exportWeights(), first, last, sft.skippedSteps());
        }
    }
}
