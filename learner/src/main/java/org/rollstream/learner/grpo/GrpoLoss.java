package org.rollstream.learner.grpo;

import ai.djl.ndarray.NDArray;

/**
 * The decoupled GRPO/PPO objective on one mini-batch of completions, as a loss to minimise.
 *
 * <p>All per-token inputs are {@code (N, T)} arrays over completion positions ({@code N}
 * completions, {@code T} positions); {@code mask} is 1 on real completion tokens and 0 on padding;
 * {@code advantages} is {@code (N)}. Three policies meet here: the one being trained ({@code logp},
 * the only input that carries a gradient), the proximal one ({@code proxLogp}: the policy at the
 * start of the step, so the ratio measures how far this step's earlier mini-batches and epochs
 * have moved it) and the behaviour one ({@code behaviourLogp}: what the actor sampled with, maybe
 * several versions older). Per token:
 * <pre>
 *   r      = exp(logp − proxLogp)
 *   pg     = −min(r·A, clip(r, 1−ε_low, 1+ε_high)·A)          clipped surrogate, clip-higher
 *   w      = min(exp(proxLogp − behaviourLogp), c)             truncated importance weight (no gradient)
 *   kl     = exp(ref − logp) − (ref − logp) − 1                k3 estimator of KL(π‖π_ref)
 *   loss_t = w·pg + β·kl
 * </pre>
 * then aggregated by {@link Aggregation}. {@code w} corrects for actors that sampled with an older
 * policy than the proximal one (asynchronous rollouts); {@code c ≤ 0} or a null
 * {@code behaviourLogp} disables it (w = 1).
 */
public final class GrpoLoss {
    private GrpoLoss() {
    }

    /**
     * The loss and its diagnostics. Every array is a scalar attached to the inputs' manager; only
     * {@code loss} carries a graph.
     *
     * @param loss                 the aggregated loss
     * @param klMean               mean k3 KL to the reference over real tokens
     * @param clipFraction         share of real tokens where the clip is active: the clipped term is the
     *                             smaller one, so the token passes no policy gradient (r &gt; 1+ε_high with
     *                             A &gt; 0, or r &lt; 1−ε_low with A &lt; 0)
     * @param importanceWeightMean mean of w over real tokens
     * @param ratioMin             smallest r over real tokens
     * @param ratioMax             largest r over real tokens
     */
    public record Result(NDArray loss, NDArray klMean, NDArray clipFraction, NDArray importanceWeightMean,
                         NDArray ratioMin, NDArray ratioMax) {
    }

    /**
     * Totals of the whole mini-batch that a micro-batch's loss is divided by, so that the losses
     * (and so the gradients) of its micro-batches add up to the mini-batch's: token-mean divides
     * the micro-batch's token sum by the mini-batch's token count, sequence-mean its sum of
     * per-sequence means by the mini-batch's sequence count.
     *
     * @param tokens    real completion tokens of the mini-batch
     * @param sequences completions of the mini-batch
     */
    public record Normaliser(long tokens, long sequences) {
        public Normaliser {
            if (tokens < 0 || sequences < 1) {
                throw new IllegalArgumentException("a mini-batch has at least one sequence and no negative token count: "
                        + tokens + " tokens, " + sequences + " sequences");
            }
        }
    }

    /** The loss of a whole mini-batch; see {@link #compute(NDArray, NDArray, NDArray, NDArray, NDArray, NDArray, GrpoConfig, Normaliser)}. */
    public static Result compute(NDArray logp, NDArray proxLogp, NDArray refLogp, NDArray behaviourLogp,
                                 NDArray mask, NDArray advantages, GrpoConfig cfg) {
        return compute(logp, proxLogp, refLogp, behaviourLogp, mask, advantages, cfg, null);
    }

    /**
     * @param logp          (N, T) log-probs of the policy being trained, with gradient
     * @param proxLogp      (N, T) proximal log-probs, no gradient
     * @param refLogp       (N, T) reference log-probs, no gradient
     * @param behaviourLogp (N, T) behaviour log-probs, or null for no importance weight
     * @param mask          (N, T) 1 on completion tokens
     * @param advantages    (N) one advantage per completion
     * @param whole         the mini-batch these rows are a micro-batch of, or null when they are the
     *                      whole mini-batch; the diagnostics are always means over these rows' tokens
     */
    public static Result compute(NDArray logp, NDArray proxLogp, NDArray refLogp, NDArray behaviourLogp,
                                 NDArray mask, NDArray advantages, GrpoConfig cfg, Normaliser whole) {
        NDArray adv = advantages.reshape(-1, 1);
        NDArray ratio = logp.sub(proxLogp).exp();
        NDArray unclipped = ratio.mul(adv);
        NDArray clipped = ratio.clip(1.0 - cfg.clipLow(), 1.0 + cfg.clipHigh()).mul(adv);
        NDArray pg = unclipped.minimum(clipped).neg();

        NDArray weight;
        if (cfg.importanceCap() > 0 && behaviourLogp != null) {
            weight = truncatedWeight(proxLogp, behaviourLogp, cfg.importanceCap());
            pg = pg.mul(weight);
        } else {
            weight = ratio.onesLike().stopGradient();
        }

        NDArray kl = k3(logp, refLogp);
        NDArray perToken = cfg.klBeta() != 0 ? pg.add(kl.mul(cfg.klBeta())) : pg;

        NDArray loss = whole == null ? aggregate(perToken, mask, cfg.aggregation())
                : aggregate(perToken, mask, cfg.aggregation(), whole);
        NDArray tokens = mask.sum().maximum(1f);
        NDArray klMean = kl.mul(mask).sum().div(tokens).stopGradient();
        // inside the clip range clip(r) is r bit for bit, so "strictly smaller" is exact
        NDArray active = clipped.lt(unclipped).toType(mask.getDataType(), false);
        NDArray clipFraction = active.mul(mask).sum().div(tokens).stopGradient();
        NDArray weightMean = weight.mul(mask).sum().div(tokens).stopGradient();
        NDArray r = ratio.stopGradient();
        NDArray padding = mask.neg().add(1f).mul(1e30f);
        NDArray ratioMin = r.add(padding).min();
        NDArray ratioMax = r.sub(padding).max();
        return new Result(loss, klMean, clipFraction, weightMean, ratioMin, ratioMax);
    }

    /** (N, T) {@code min(exp(prox − behaviour), c)} without gradient. */
    public static NDArray truncatedWeight(NDArray proxLogp, NDArray behaviourLogp, double cap) {
        return proxLogp.sub(behaviourLogp).exp().minimum(cap).stopGradient();
    }

    /** k3 estimator {@code exp(ref − logp) − (ref − logp) − 1}: unbiased for KL(π‖π_ref), never negative. */
    public static NDArray k3(NDArray logp, NDArray refLogp) {
        NDArray d = refLogp.sub(logp);
        return d.exp().sub(d).sub(1f);
    }

    /** A micro-batch's share of the mini-batch loss: see {@link Normaliser}. */
    static NDArray aggregate(NDArray perToken, NDArray mask, Aggregation aggregation, Normaliser whole) {
        NDArray masked = perToken.mul(mask);
        if (aggregation == Aggregation.TOKEN_MEAN) {
            return masked.sum().div((float) Math.max(whole.tokens(), 1));
        }
        NDArray perSequence = masked.sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(1f));
        return perSequence.sum().div((float) whole.sequences());
    }

    static NDArray aggregate(NDArray perToken, NDArray mask, Aggregation aggregation) {
        NDArray masked = perToken.mul(mask);
        if (aggregation == Aggregation.TOKEN_MEAN) {
            return masked.sum().div(mask.sum().maximum(1f));
        }
        NDArray perSequence = masked.sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(1f));
        return perSequence.mean();
    }
}
