package org.rollstream.policy.ort;

import org.rollstream.policy.SamplingParams;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws one token from a row of logits the way {@link SamplingParams} says, and reports both
 * log-probabilities the learner needs: under the distribution that drew it (behaviour) and under
 * the raw policy (temperature 1, no cut). Pure host arithmetic in double precision.
 */
final class TokenDraw {
    /** Token ids fit the low bits of a sort key; larger vocabularies sort boxed indices instead. */
    private static final int ID_BITS = 20;
    private static final long ID_MASK = (1L << ID_BITS) - 1;

    /** Reused per sampler call: the probability buffer, sort keys and the sort order of one row. */
    private final double[] prob;
    private final long[] keys;
    private final int[] order;

    TokenDraw(int vocab) {
        prob = new double[vocab];
        keys = new long[vocab];
        order = new int[vocab];
    }

    /** A drawn token with its behaviour and raw policy log-probabilities. */
    record Draw(int token, float logProb, float policyLogProb) {
    }

    /**
     * @param l   logits of many rows; this row is {@code l[off .. off+v)}
     * @param rng the row's own random stream (advanced by one draw unless greedy)
     */
    Draw draw(float[] l, int off, int v, SamplingParams p, SplittableRandom rng) {
        if (p.greedy()) {
            int tok = argmax(l, off, v);
            return new Draw(tok, 0f, logSoftmaxAt(l, off, v, tok)); // a point mass: log 1
        }
        double inv = 1.0 / p.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, l[off + i] * inv);
        double total = 0;
        for (int i = 0; i < v; i++) total += prob[i] = Math.exp(l[off + i] * inv - max);
        double u = rng.nextDouble();
        int tok;
        double kept;
        if (p.topP() >= 1f && (p.topK() == 0 || p.topK() >= v)) {
            kept = total;
            tok = pickInOrder(u * total, v);
        } else {
            int n = nucleus(v, p.topK(), p.topP());
            kept = 0;
            for (int i = 0; i < n; i++) kept += prob[order[i]];
            double target = u * kept, acc = 0;
            tok = order[n - 1];
            for (int i = 0; i < n; i++) {
                acc += prob[order[i]];
                if (acc >= target) {
                    tok = order[i];
                    break;
                }
            }
        }
        float behaviour = (float) Math.log(prob[tok] / kept);
        return new Draw(tok, behaviour, logSoftmaxAt(l, off, v, tok));
    }

    /**
     * Sorts the row by probability (ties by token id) and returns how many of the most likely
     * tokens are kept: the top {@code k} (0 = all), then the smallest prefix of those whose mass
     * reaches {@code topP} of their total.
     */
    private int nucleus(int v, int k, float topP) {
        sortByProbability(v);
        int limit = k == 0 ? v : Math.min(k, v);
        if (topP >= 1f) return limit;
        double massK = 0;
        for (int i = 0; i < limit; i++) massK += prob[order[i]];
        double cut = topP * massK, acc = 0;
        int n = 0;
        while (n < limit && acc < cut) acc += prob[order[n++]];
        return Math.max(n, 1);
    }

    /**
     * Fills {@code order} with token ids by falling probability, ties by id. A primitive sort of
     * packed keys (the probability's top bits, then the complemented id): no boxing per token. The
     * dropped low mantissa bits only reorder probabilities equal to 1 part in 4e9.
     */
    private void sortByProbability(int v) {
        if (v > ID_MASK) {
            Integer[] boxed = new Integer[v];
            for (int i = 0; i < v; i++) boxed[i] = i;
            Arrays.sort(boxed, (a, b) -> {
                int c = Double.compare(prob[b], prob[a]);
                return c != 0 ? c : Integer.compare(a, b);
            });
            for (int i = 0; i < v; i++) order[i] = boxed[i];
            return;
        }
        for (int i = 0; i < v; i++) {
            // probabilities are positive: their bit patterns order like the values
            keys[i] = (Double.doubleToRawLongBits(prob[i]) & ~ID_MASK) | (ID_MASK - i);
        }
        Arrays.sort(keys, 0, v);
        for (int i = 0; i < v; i++) order[i] = (int) (ID_MASK - (keys[v - 1 - i] & ID_MASK));
    }

    private int pickInOrder(double target, int v) {
        double acc = 0;
        for (int i = 0; i < v; i++) {
            acc += prob[i];
            if (acc >= target) return i;
        }
        int best = 0; // rounding left the target just above the sum: the likeliest token
        for (int i = 1; i < v; i++) if (prob[i] > prob[best]) best = i;
        return best;
    }

    /** log-softmax of the raw (temperature-1) logits at {@code tok}. */
    static float logSoftmaxAt(float[] l, int off, int v, int tok) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, l[off + i]);
        double s = 0;
        for (int i = 0; i < v; i++) s += Math.exp(l[off + i] - max);
        return (float) (l[off + tok] - max - Math.log(s));
    }

    static int argmax(float[] l, int off, int v) {
        int best = 0;
        for (int i = 1; i < v; i++) if (l[off + i] > l[off + best]) best = i;
        return best;
    }
}
