package org.rollstream.learner.grpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.List;

/**
 * Prompt+completion sequences laid out for one forward pass.
 *
 * <p>{@code tokens} is {@code (N, T)} right-padded. The per-token arrays are {@code (N, T−1)} and
 * aligned with {@code DjlPolicy.tokenLogProbs}: column {@code t} scores token {@code t+1}, so the
 * j-th completion token of a sequence whose prompt has P tokens sits in column {@code P−1+j}.
 * {@code mask} is 1 exactly on completion tokens; {@code advantages} is {@code (N)}.
 *
 * @param completionTokens completion tokens laid out (the ones in {@code mask})
 * @param truncatedTokens  completion tokens that did not fit in the context and are not trained
 */
public record SequenceBatch(NDArray tokens, NDArray mask, NDArray behaviourLogProbs, NDArray advantages,
                            int completionTokens, int truncatedTokens) {

    /** Lays out every completion of {@code groups}; rows beyond {@code maxLength} tokens are truncated. */
    public static SequenceBatch of(NDManager nd, List<TrainingGroup> groups, int padId, int maxLength) {
        int n = 0;
        int longest = 2;
        for (TrainingGroup g : groups) {
            for (int[] c : g.completions()) {
                n++;
                longest = Math.max(longest, Math.min(maxLength, g.promptTokens().length + c.length));
            }
        }
        int t = longest;
        int[] tokens = new int[n * t];
        java.util.Arrays.fill(tokens, padId);
        float[] mask = new float[n * (t - 1)];
        float[] behaviour = new float[n * (t - 1)];
        float[] adv = new float[n];
        int row = 0;
        int counted = 0;
        int total = 0;
        for (TrainingGroup g : groups) {
            int[] prompt = g.promptTokens();
            for (int i = 0; i < g.size(); i++, row++) {
                int[] completion = g.completions().get(i);
                float[] lp = g.behaviourLogProbs().get(i);
                int p = Math.min(prompt.length, t);
                total += completion.length;
                System.arraycopy(prompt, 0, tokens, row * t, p);
                for (int j = 0; j < completion.length && p + j < t; j++) {
                    tokens[row * t + p + j] = completion[j];
                    int col = p - 1 + j;
                    mask[row * (t - 1) + col] = 1f;
                    behaviour[row * (t - 1) + col] = lp[j];
                    counted++;
                }
                adv[row] = (float) g.advantages()[i];
            }
        }
        return new SequenceBatch(nd.create(tokens, new Shape(n, t)), nd.create(mask, new Shape(n, t - 1)),
                nd.create(behaviour, new Shape(n, t - 1)), nd.create(adv), counted, total - counted);
    }

    public long rows() {
        return tokens.getShape().get(0);
    }

    /**
     * Rows {@code [from, to)} as a batch of their own (same columns), for micro-batching; the
     * arrays are new ones attached to this batch's manager. Its truncated count is 0: truncation is
     * a property of the whole batch.
     */
    public SequenceBatch rows(long from, long to) {
        if (from < 0 || to > rows() || from >= to) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + rows());
        }
        NDIndex r = new NDIndex(from + ":" + to);
        NDArray m = mask.get(r);
        return new SequenceBatch(tokens.get(r), m, behaviourLogProbs.get(r), advantages.get(r),
                Math.round(m.sum().getFloat()), 0);
    }
}
