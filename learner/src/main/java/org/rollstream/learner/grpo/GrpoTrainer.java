package org.rollstream.learner.grpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.policy.DjlPolicy;

/**
 * One GRPO optimizer step per batch of groups. π_old is the policy at the start of the step (one
 * update per exploration stage, as in DeepSeekMath), so the ratio starts at 1 and the clip only
 * matters through the truncated importance weight against the actors' behaviour log-probs.
 */
public final class GrpoTrainer {
    private final DjlPolicy policy;
    private final DjlPolicy reference;
    private final AdamW optimizer;
    private final GrpoConfig config;
    private final int padId;
    private long skippedSteps;

    /** Statistics of one step. */
    public record StepStats(double loss, double kl, double clipFraction, double importanceWeight, double gradNorm,
                            int sequences, int completionTokens, double meanReward, boolean applied) {
    }

    /** @param reference frozen reference policy for the KL term; may be null when β = 0 */
    public GrpoTrainer(DjlPolicy policy, DjlPolicy reference, AdamW optimizer, GrpoConfig config, int padId) {
        if (config.klBeta() > 0 && reference == null) {
            throw new IllegalArgumentException("KL beta " + config.klBeta() + " needs a reference policy");
        }
        this.policy = policy;
        this.reference = reference;
        this.optimizer = optimizer;
        this.config = config;
        this.padId = padId;
    }

    /** Steps whose loss or gradient was not finite; they were not applied. */
    public long skippedSteps() {
        return skippedSteps;
    }

    public StepStats step(List<TrainingGroup> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a GRPO step needs at least one group");
        }
        NDManager nd = policy.manager();
        try (NDScope scope = new NDScope()) {
            SequenceBatch batch = SequenceBatch.of(nd, groups, padId, policy.spec().contextLength());
            NDArray refLogp = reference == null ? null : reference.tokenLogProbs(batch.tokens(), false);
            GrpoLoss.Result result;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logp = policy.tokenLogProbs(batch.tokens(), true);
                NDArray ref = refLogp == null ? logp.stopGradient() : refLogp;
                result = GrpoLoss.compute(logp, logp.stopGradient(), ref, batch.behaviourLogProbs(), batch.mask(),
                        batch.advantages(), config);
                gc.backward(result.loss());
            }
            double norm = GradientClipping.clipByGlobalNorm(policy.block().getParameters(), config.maxGradNorm());
            float loss = result.loss().getFloat();
            boolean applied = Double.isFinite(norm) && Float.isFinite(loss);
            if (applied) {
                optimizer.step(policy.block().getParameters(), config.learningRate());
            } else { // one poisoned step must not turn every weight into NaN
                GradientClipping.zero(policy.block().getParameters());
                skippedSteps++;
            }
            double meanReward = groups.stream().mapToDouble(TrainingGroup::meanReward).average().orElse(0);
            return new StepStats(loss, result.klMean().getFloat(), result.clipFraction().getFloat(),
                    result.importanceWeightMean().getFloat(), norm, (int) batch.rows(), batch.completionTokens(),
                    meanReward, applied);
        }
    }
}
