package org.rollstream.learner.grpo;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;

/**
 * How far the actors' behaviour policy μ is from the proximal policy π_prox the step starts from,
 * over the real tokens of some completions; sums, so mini-batches add up with {@link #plus}.
 *
 * <p>The mismatch KL is the k3 estimate of KL(μ‖π_prox), {@code exp(prox − μ) − (prox − μ) − 1}
 * per token: the tokens were drawn from μ, so this is unbiased for that direction and never
 * negative. It grows with staleness and with any disagreement between the actors' and the
 * learner's numerics (sampling temperature not accounted for, half precision, a bad weight swap).
 *
 * @param tokens      real (masked-in) completion tokens counted
 * @param weightSum   sum of the truncated weights min(π_prox/μ, c) (1 per token when the weight is off)
 * @param weightMax   largest truncated weight
 * @param capped      tokens whose raw weight π_prox/μ exceeded c and was truncated
 * @param mismatchSum sum of the per-token k3 mismatch
 */
public record MismatchStats(long tokens, double weightSum, double weightMax, long capped, double mismatchSum) {
    public static final MismatchStats EMPTY = new MismatchStats(0, 0, 0, 0, 0);

    /**
     * @param proxLogp      (N, T) proximal log-probs
     * @param behaviourLogp (N, T) behaviour log-probs
     * @param mask          (N, T) 1 on real completion tokens
     * @param cap           c; ≤ 0 means no importance weight (w = 1, nothing capped)
     */
    public static MismatchStats of(NDArray proxLogp, NDArray behaviourLogp, NDArray mask, double cap) {
        try (NDScope scope = new NDScope()) {
            NDArray d = proxLogp.sub(behaviourLogp).mul(mask); // padding gives d = 0: weight 1, k3 0
            NDArray raw = d.exp();
            long tokens = (long) mask.sum().getFloat();
            double mismatch = raw.sub(d).sub(1f).mul(mask).sum().getFloat();
            if (cap <= 0) {
                return new MismatchStats(tokens, tokens, tokens > 0 ? 1 : 0, 0, mismatch);
            }
            NDArray w = raw.minimum(cap).mul(mask);
            long capped = (long) raw.gt(cap).toType(mask.getDataType(), false).mul(mask).sum().getFloat();
            return new MismatchStats(tokens, w.sum().getFloat(), w.max().getFloat(), capped, mismatch);
        }
    }

    public MismatchStats plus(MismatchStats o) {
        return new MismatchStats(tokens + o.tokens, weightSum + o.weightSum, Math.max(weightMax, o.weightMax),
                capped + o.capped, mismatchSum + o.mismatchSum);
    }

    public double weightMean() {
        return tokens == 0 ? 1 : weightSum / tokens;
    }

    public double cappedFraction() {
        return tokens == 0 ? 0 : (double) capped / tokens;
    }

    public double mismatchKl() {
        return tokens == 0 ? 0 : mismatchSum / tokens;
    }
}
