package org.rollstream.learner.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * Temperature sampling with the learner's own DJL model, for on-policy distillation: the student
 * samples with exactly the weights being trained, so every rollout is on-policy. No KV cache: each
 * step runs the whole prefix, which is cheap at the lengths the built-in tasks use.
 */
public final class PolicySampler {
    private final DjlPolicy policy;
    private final int padId;
    private final int eosId;

    public PolicySampler(DjlPolicy policy, int padId, int eosId) {
        this.policy = policy;
        this.padId = padId;
        this.eosId = eosId;
    }

    /**
     * One completion per prompt, at most {@code maxNewTokens} tokens each; a completion that ended
     * by sampling {@code <eos>} keeps it as its last token (the student must learn to stop too).
     *
     * @param temperature positive; 1 samples the policy's own distribution
     */
    public List<int[]> sample(List<int[]> prompts, int maxNewTokens, double temperature, Random random) {
        if (!(temperature > 0)) {
            throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        }
        int n = prompts.size();
        int context = policy.spec().contextLength();
        int[][] seqs = new int[n][];
        int[] lengths = new int[n];
        int[] promptLengths = new int[n];
        boolean[] done = new boolean[n];
        for (int i = 0; i < n; i++) {
            promptLengths[i] = Math.min(prompts.get(i).length, context - 1);
            seqs[i] = new int[Math.min(context, promptLengths[i] + maxNewTokens)];
            Arrays.fill(seqs[i], padId);
            System.arraycopy(prompts.get(i), 0, seqs[i], 0, promptLengths[i]);
            lengths[i] = promptLengths[i];
        }
        NDManager nd = policy.manager();
        for (int step = 0; step < maxNewTokens; step++) {
            List<Integer> live = new ArrayList<>();
            int maxLen = 0;
            for (int i = 0; i < n; i++) {
                if (!done[i] && lengths[i] < seqs[i].length) {
                    live.add(i);
                    maxLen = Math.max(maxLen, lengths[i]);
                }
            }
            if (live.isEmpty()) {
                break;
            }
            int rows = live.size();
            int[] flat = new int[rows * maxLen];
            Arrays.fill(flat, padId);
            int[] last = new int[rows];
            for (int r = 0; r < rows; r++) {
                int i = live.get(r);
                System.arraycopy(seqs[i], 0, flat, r * maxLen, lengths[i]);
                last[r] = lengths[i] - 1;
            }
            float[] probs;
            long vocab;
            try (NDScope scope = new NDScope()) {
                NDArray logits = policy.logits(nd.create(flat, new Shape(rows, maxLen)));
                vocab = logits.getShape().get(2);
                NDArray idx = nd.create(last).reshape(rows, 1, 1).toType(DataType.INT64, false)
                        .broadcast(new Shape(rows, 1, vocab));
                probs = logits.gather(idx, 1).squeeze(1).div((float) temperature).softmax(-1).toFloatArray();
            }
            for (int r = 0; r < rows; r++) {
                int i = live.get(r);
                int token = draw(probs, r * (int) vocab, (int) vocab, random);
                seqs[i][lengths[i]++] = token;
                if (token == eosId) {
                    done[i] = true;
                }
            }
        }
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Arrays.copyOfRange(seqs[i], promptLengths[i], lengths[i]));
        }
        return out;
    }

    private static int draw(float[] probs, int from, int vocab, Random random) {
        double u = random.nextDouble();
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            sum += probs[from + v];
            if (u < sum) {
                return v;
            }
        }
        return vocab - 1; // rounding left u above the total: the last token
    }
}
