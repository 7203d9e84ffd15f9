package org.rollstream.learner.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.learner.optim.Gradients;
import org.rollstream.learner.optim.LossScale;
import org.rollstream.learner.optim.PolicyGradients;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;

/**
 * Supervised fine-tuning on (prompt, completion) pairs: next-token cross-entropy on the completion
 * and its closing {@code <eos>} only, the prompt being context. Used for the cold start, and later
 * for rejection-sampling SFT and distillation.
 *
 * <p>With {@link #microBatchSize(int)} a step runs its batch in slices of at most that many
 * examples, gradients accumulating; each slice's token-loss sum is divided by the whole batch's
 * token count, so the step's gradient equals the one-pass gradient. With fp16 compute the forward
 * runs on fp16 copies of the fp32 masters and {@link PolicyGradients} brings their gradients back
 * to fp32; a {@link LossScale} keeps small gradients from flushing to zero, and a step whose scaled
 * gradient overflowed is skipped and halves the scale.
 */
public final class SftTrainer {
    private final DjlPolicy policy;
    private final Tokenizer tokenizer;
    private final AdamW optimizer;
    private final double maxGradNorm;
    private long skippedSteps;
    private int microBatchSize;
    private LossScale lossScale = LossScale.none();

    public SftTrainer(DjlPolicy policy, Tokenizer tokenizer, AdamW optimizer, double maxGradNorm) {
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.optimizer = optimizer;
        this.maxGradNorm = maxGradNorm;
    }

    /** At most {@code n} examples per forward/backward pass; 0 (the default) is the whole batch. Returns this. */
    public SftTrainer microBatchSize(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("micro-batch size must be at least 0 (0 = whole batch), got " + n);
        }
        this.microBatchSize = n;
        return this;
    }

    /** The loss scale to use (fp16 compute: {@link LossScale#dynamic()}); returns this. */
    public SftTrainer lossScale(LossScale scale) {
        this.lossScale = scale == null ? LossScale.none() : scale;
        return this;
    }

    /** Steps whose loss or gradient was not finite and were therefore not applied. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** A pair to learn: the completion is what the policy should write after the prompt. */
    public record Pair(String prompt, String completion) {
    }

    /** One optimizer step on {@code batch}; returns the mean token loss before the update. */
    public double step(List<Pair> batch, double learningRate) {
        int context = policy.spec().contextLength();
        int[][] rows = new int[batch.size()][];
        int[] promptLengths = new int[batch.size()];
        int longest = 2;
        for (int i = 0; i < batch.size(); i++) {
            int[] prompt = PromptTokens.encode(tokenizer, batch.get(i).prompt());
            int[] completion = tokenizer.encode(batch.get(i).completion());
            int[] seq = new int[Math.min(context, prompt.length + completion.length + 1)];
            for (int j = 0; j < seq.length; j++) {
                int k = j - prompt.length;
                seq[j] = j < prompt.length ? prompt[j] : k < completion.length ? completion[k] : tokenizer.eos();
            }
            rows[i] = seq;
            promptLengths[i] = prompt.length;
            longest = Math.max(longest, seq.length);
        }
        int[] tokens = new int[batch.size() * longest];
        float[] mask = new float[batch.size() * longest];
        java.util.Arrays.fill(tokens, tokenizer.pad());
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, tokens, i * longest, rows[i].length);
            for (int j = promptLengths[i]; j < rows[i].length; j++) {
                mask[i * longest + j] = 1f;
            }
        }
        NDManager nd = policy.manager();
        int rowsTotal = batch.size();
        int slice = microBatchSize == 0 ? rowsTotal : Math.min(microBatchSize, rowsTotal);
        float scale = (float) lossScale.factor();
        try (NDScope scope = new NDScope(); PolicyGradients grads = PolicyGradients.open(policy)) {
            NDArray tok = nd.create(tokens, new Shape(batch.size(), longest));
            NDArray m = nd.create(mask, new Shape(batch.size(), longest));
            double loss = 0;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                if (slice == rowsTotal) {
                    NDArray l = policy.sftLoss(tok, m);
                    gc.backward(scale == 1f ? l : l.mul(scale));
                    grads.collect();
                    loss = l.getFloat();
                } else {
                    float targets = Math.max(1f, m.get(new NDIndex(":, 1:")).sum().getFloat());
                    for (int from = 0; from < rowsTotal; from += slice) {
                        try (NDScope micro = new NDScope()) {
                            NDIndex part = new NDIndex(from + ":" + Math.min(rowsTotal, from + slice));
                            NDArray mm = m.get(part).get(new NDIndex(":, 1:"));
                            NDArray l = policy.tokenLogProbs(tok.get(part), true).mul(mm).sum().neg().div(targets);
                            gc.backward(scale == 1f ? l : l.mul(scale));
                            grads.collect();
                            loss += l.getFloat();
                        }
                    }
                }
            }
            Gradients g = grads.gradients();
            if (scale != 1f) {
                GradientClipping.scale(g, 1.0 / scale);
            }
            double norm = GradientClipping.clipByGlobalNorm(g, maxGradNorm);
            lossScale.update(Double.isFinite(norm));
            if (!Double.isFinite(norm) || !Double.isFinite(loss)) {
                skippedSteps++; // its gradients are dropped when grads closes
                return loss;
            }
            optimizer.step(g, learningRate);
            return loss;
        }
    }
}
