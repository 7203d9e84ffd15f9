package org.rollstream.learner.grpo;

import ai.djl.ndarray.NDArray;

/**
 * The GRPO objective on one batch of completions, as a loss to minimise.
 *
 * <p>All per-token inputs are {@code (N, T)} arrays over completion positions; {@code mask} is 1 on
 * real completion tokens and 0 on padding. Per token:
 * <pre>
 *   r      = exp(logp − oldLogp)
 *   pg     = −min(r·A, clip(r, 1−ε_low, 1+ε_high)·A)          clipped surrogate, clip-higher
 *   w      = min(exp(oldLogp − behaviourLogp), c)              truncated importance weight (no gradient)
 *   kl     = exp(ref − logp) − (ref − logp) − 1                k3 estimator of KL(π‖π_ref)
 *   loss_t = w·pg + β·kl
 * </pre>
 * then aggregated by {@link Aggregation}. {@code w} corrects for actors that sampled with an
 * older policy than π_old (asynchronous rollouts); {@code c ≤ 0} disables it.
 */
public final class GrpoLoss {
    private GrpoLoss() {
    }

    /** The loss and the diagnostics a learner reports. Arrays are scalars owned by the caller's manager. */
    public record Result(NDArray loss, NDArray klMean, NDArray clipFraction, NDArray importanceWeightMean) {
    }

    public static Result compute(NDArray logp, NDArray oldLogp, NDArray refLogp, NDArray behaviourLogp,
                                 NDArray mask, NDArray advantages, GrpoConfig cfg) {
        NDArray adv = advantages.reshape(-1, 1);
        NDArray ratio = logp.sub(oldLogp).exp();
        NDArray unclipped = ratio.mul(adv);
        NDArray clipped = ratio.clip(1.0 - cfg.clipLow(), 1.0 + cfg.clipHigh()).mul(adv);
        NDArray pg = unclipped.minimum(clipped).neg();

        NDArray weight;
        if (cfg.importanceCap() > 0 && behaviourLogp != null) {
            weight = oldLogp.sub(behaviourLogp).exp().minimum(cfg.importanceCap()).stopGradient();
            pg = pg.mul(weight);
        } else {
            weight = ratio.onesLike().stopGradient();
        }

        NDArray kl = k3(logp, refLogp);
        NDArray perToken = cfg.klBeta() != 0 ? pg.add(kl.mul(cfg.klBeta())) : pg;

        NDArray loss = aggregate(perToken, mask, cfg.aggregation());
        NDArray tokens = mask.sum().maximum(1f);
        NDArray klMean = kl.mul(mask).sum().div(tokens).stopGradient();
        NDArray wasClipped = unclipped.sub(clipped).abs().gt(1e-12f).toType(mask.getDataType(), false);
        NDArray clipFraction = wasClipped.mul(mask).sum().div(tokens).stopGradient();
        NDArray weightMean = weight.mul(mask).sum().div(tokens);
        return new Result(loss, klMean, clipFraction, weightMean);
    }

    /** k3 estimator {@code exp(ref − logp) − (ref − logp) − 1}: unbiased for KL(π‖π_ref), never negative. */
    public static NDArray k3(NDArray logp, NDArray refLogp) {
        NDArray d = refLogp.sub(logp);
        return d.exp().sub(d).sub(1f);
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
