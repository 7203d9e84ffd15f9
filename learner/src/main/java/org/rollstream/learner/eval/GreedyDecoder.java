package org.rollstream.learner.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * Greedy decoding with the learner's own DJL model, for held-out evaluation: no export, no
 * session, so evaluation measures exactly the weights being trained. Sequences are right-padded;
 * causal attention keeps padding from affecting the positions that are read.
 */
public final class GreedyDecoder {
    private final DjlPolicy policy;
    private final int padId;
    private final int eosId;

    public GreedyDecoder(DjlPolicy policy, int padId, int eosId) {
        this.policy = policy;
        this.padId = padId;
        this.eosId = eosId;
    }

    /** Generated tokens per prompt, {@code <eos>} excluded, at most {@code maxNewTokens} each. */
    public List<int[]> decode(List<int[]> prompts, int maxNewTokens) {
        int n = prompts.size();
        int context = policy.spec().contextLength();
        int[][] seqs = new int[n][];
        int[] lengths = new int[n];
        int[] promptLengths = new int[n];
        boolean[] done = new boolean[n];
        int longestPrompt = 0;
        for (int i = 0; i < n; i++) {
            promptLengths[i] = Math.min(prompts.get(i).length, context - 1);
            longestPrompt = Math.max(longestPrompt, promptLengths[i]);
        }
        int width = Math.min(context, longestPrompt + maxNewTokens);
        for (int i = 0; i < n; i++) {
            seqs[i] = new int[width];
            Arrays.fill(seqs[i], padId);
            System.arraycopy(prompts.get(i), 0, seqs[i], 0, promptLengths[i]);
            lengths[i] = promptLengths[i];
        }
        NDManager nd = policy.manager();
        for (int step = 0; step < maxNewTokens; step++) {
            int live = 0;
            int maxLen = 0;
            for (int i = 0; i < n; i++) {
                if (!done[i] && lengths[i] < width) {
                    live++;
                    maxLen = Math.max(maxLen, lengths[i]);
                }
            }
            if (live == 0) {
                break;
            }
            int[] rows = new int[live];
            int[] flat = new int[live * maxLen];
            for (int i = 0, r = 0; i < n; i++) {
                if (!done[i] && lengths[i] < width) {
                    rows[r] = i;
                    System.arraycopy(seqs[i], 0, flat, r * maxLen, maxLen);
                    r++;
                }
            }
            int[] next;
            try (NDScope scope = new NDScope()) {
                NDArray logits = policy.logits(nd.create(flat, new Shape(live, maxLen)));
                int[] last = new int[live];
                for (int r = 0; r < live; r++) {
                    last[r] = lengths[rows[r]] - 1;
                }
                // logits at each row's last real position: (live, V)
                NDArray idx = nd.create(last).reshape(live, 1, 1).toType(ai.djl.ndarray.types.DataType.INT64, false)
                        .broadcast(new Shape(live, 1, logits.getShape().get(2)));
                NDArray lastLogits = logits.gather(idx, 1).squeeze(1);
                next = lastLogits.argMax(-1).toType(ai.djl.ndarray.types.DataType.INT32, false).toIntArray();
            }
            for (int r = 0; r < live; r++) {
                int i = rows[r];
                if (next[r] == eosId) {
                    done[i] = true;
                } else {
                    seqs[i][lengths[i]++] = next[r];
                }
            }
        }
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(Arrays.copyOfRange(seqs[i], promptLengths[i], lengths[i]));
        }
        return out;
    }

}
