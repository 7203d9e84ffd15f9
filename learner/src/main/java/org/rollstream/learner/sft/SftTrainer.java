package org.rollstream.learner.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;

/**
 * Supervised fine-tuning on (prompt, completion) pairs: next-token cross-entropy on the completion
 * and its closing {@code <eos>} only, the prompt being context. Used for the cold start, and later
 * for rejection-sampling SFT and distillation.
 */
public final class SftTrainer {
    private final DjlPolicy policy;
    private final Tokenizer tokenizer;
    private final AdamW optimizer;
    private final double maxGradNorm;
    private long skippedSteps;

    public SftTrainer(DjlPolicy policy, Tokenizer tokenizer, AdamW optimizer, double maxGradNorm) {
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.optimizer = optimizer;
        this.maxGradNorm = maxGradNorm;
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
        try (NDScope scope = new NDScope()) {
            NDArray tok = nd.create(tokens, new Shape(batch.size(), longest));
            NDArray m = nd.create(mask, new Shape(batch.size(), longest));
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = policy.sftLoss(tok, m);
                gc.backward(l);
                loss = l.getFloat();
            }
            double norm = GradientClipping.clipByGlobalNorm(policy.block().getParameters(), maxGradNorm);
            if (!Double.isFinite(norm) || !Float.isFinite(loss)) {
                GradientClipping.zero(policy.block().getParameters());
                skippedSteps++;
                return loss;
            }
            optimizer.step(policy.block().getParameters(), learningRate);
            return loss;
        }
    }
}
