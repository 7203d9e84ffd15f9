package org.rollstream.learner.grpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.learner.optim.Gradients;
import org.rollstream.learner.optim.LossScale;
import org.rollstream.learner.optim.PolicyGradients;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * One GRPO step per batch of groups, with PPO mini-batches and epochs and the decoupled objective
 * (as in AReaL).
 *
 * <p>A step splits its groups into M mini-batches of whole groups (M = {@code miniBatches}, fewer
 * when the step has fewer groups) and, before any update, computes for each the proximal
 * log-probs π_prox (the policy at the start of the step) and the reference log-probs, keeping no
 * graph. It then makes E passes ({@code ppoEpochs}); each pass makes one optimizer update per
 * mini-batch with {@link GrpoLoss}: ratio π/π_prox clipped with ε_low/ε_high, times the truncated
 * weight min(π_prox/μ, c) against the actors' behaviour μ, plus β·k3 to the reference; the gradient
 * is clipped by global norm before each update. With M = E = 1 the ratio is exactly 1 and only the
 * weight corrects for staleness; with more updates the later ones see a moved policy and the clip
 * bounds how far one step can go.
 *
 * <p>Memory: an update may run its mini-batch as several micro-batches of at most
 * {@link #microBatchSize(int)} sequences, each forward and backward in turn with gradients
 * accumulating (PyTorch adds every backward into {@code .grad}; DJL's collector does not zero
 * them), each micro-batch's arrays closed right after its backward. Each micro-batch's loss is
 * normalised by the whole mini-batch's totals ({@link GrpoLoss.Normaliser}), so the accumulated
 * gradient is the mini-batch's gradient, for either aggregation. π_prox and π_ref are computed per
 * micro-batch too, outside any gradient collector (DJL's PyTorch engine records no graph there).
 * The default (0) is one micro-batch per mini-batch.
 *
 * <p>Precision: with fp16 compute the forwards run on fp16 copies of the fp32 master weights, and
 * {@link PolicyGradients} moves each micro-batch's fp16 gradients into fp32 sums that clipping and
 * AdamW then apply to the masters; a {@link LossScale} keeps small gradients from flushing to zero
 * in fp16, and an update whose scaled gradient overflowed is skipped and halves the scale.
 *
 * <p>An update whose loss or gradient is not finite is not applied (its gradients are zeroed) and
 * is counted in {@link #skippedSteps()}; the step goes on with the next mini-batch. The trainer
 * is not thread-safe (DJL allows one gradient collector per JVM). Every array a step creates is
 * closed before {@link #step} returns, on success or exception; on an exception, updates already
 * made stay applied and pending gradients are cleared.
 */
public final class GrpoTrainer {
    private final DjlPolicy policy;
    private final DjlPolicy reference;
    private final AdamW optimizer;
    private final GrpoConfig config;
    private final int padId;
    private long skippedSteps;
    private int microBatchSize;
    private LossScale lossScale = LossScale.none();

    /**
     * What one optimizer update saw.
     *
     * @param epoch        0-based pass over the step's mini-batches
     * @param miniBatch    0-based mini-batch within the pass
     * @param tokens       real completion tokens of the mini-batch
     * @param loss         the mini-batch loss before the update
     * @param kl           mean k3 KL to the reference
     * @param clipFraction share of tokens whose clip was active (see {@link GrpoLoss.Result})
     * @param ratioMin     smallest π/π_prox over the mini-batch's tokens
     * @param ratioMax     largest π/π_prox
     * @param gradNorm     global gradient norm before clipping
     * @param applied      false when the loss or gradient was not finite and the update was skipped
     */
    public record UpdateStats(int epoch, int miniBatch, int tokens, double loss, double kl, double clipFraction,
                              double ratioMin, double ratioMax, double gradNorm, boolean applied) {
    }

    /**
     * Statistics of one step.
     *
     * @param loss                   mean of the updates' losses
     * @param kl                     token-weighted mean k3 KL to the reference over all updates
     * @param clipFraction           token-weighted share of clip-active tokens over all updates
     * @param importanceWeight       mean truncated weight min(π_prox/μ, c) over the step's tokens
     * @param gradNorm               mean global gradient norm (before clipping) over the updates
     * @param sequences              completions trained
     * @param completionTokens       completion tokens trained
     * @param meanReward             mean reward of the trained groups
     * @param applied                true when every update of the step was applied
     * @param importanceWeightMax    largest truncated weight
     * @param cappedWeightFraction   share of tokens whose weight π_prox/μ exceeded c and was truncated
     * @param mismatchKl             behaviour–proximal mismatch: mean over tokens of the k3 estimate of
     *                               KL(μ‖π_prox), {@code exp(prox−μ) − (prox−μ) − 1}
     * @param truncatedTokenFraction share of completion tokens cut off by the context length (not trained)
     * @param ratioMin               smallest π/π_prox seen by any update
     * @param ratioMax               largest π/π_prox seen by any update
     * @param optimizerSteps         updates applied (M·E when none was skipped)
     * @param updates                every update in order, epoch-major
     */
    public record StepStats(double loss, double kl, double clipFraction, double importanceWeight, double gradNorm,
                            int sequences, int completionTokens, double meanReward, boolean applied,
                            double importanceWeightMax, double cappedWeightFraction, double mismatchKl,
                            double truncatedTokenFraction, double ratioMin, double ratioMax, int optimizerSteps,
                            List<UpdateStats> updates) {
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

    /**
     * At most {@code n} sequences per forward/backward pass; 0 (the default) runs each mini-batch
     * in one pass. Returns this.
     */
    public GrpoTrainer microBatchSize(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("micro-batch size must be at least 0 (0 = whole mini-batch), got " + n);
        }
        this.microBatchSize = n;
        return this;
    }

    /** The loss scale to use (fp16 compute: {@link LossScale#dynamic()}); returns this. */
    public GrpoTrainer lossScale(LossScale scale) {
        this.lossScale = scale == null ? LossScale.none() : scale;
        return this;
    }

    /** Optimizer updates whose loss or gradient was not finite; they were not applied. */
    public long skippedSteps() {
        return skippedSteps;
    }

    /** Trains on {@code groups} (at least one) with M·E optimizer updates; see the class comment. */
    public StepStats step(List<TrainingGroup> groups) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("a GRPO step needs at least one group");
        }
        List<List<TrainingGroup>> parts = split(groups, Math.min(config.miniBatches(), groups.size()));
        List<MiniBatch> batches = new ArrayList<>(parts.size());
        try {
            MismatchStats mismatch = MismatchStats.EMPTY;
            int sequences = 0;
            int tokens = 0;
            int truncated = 0;
            for (List<TrainingGroup> part : parts) {
                MiniBatch mb = prepare(part);
                batches.add(mb);
                mismatch = mismatch.plus(mb.mismatch);
                sequences += (int) mb.batch.rows();
                tokens += mb.batch.completionTokens();
                truncated += mb.batch.truncatedTokens();
            }
            List<UpdateStats> updates = new ArrayList<>(config.ppoEpochs() * batches.size());
            for (int epoch = 0; epoch < config.ppoEpochs(); epoch++) {
                for (int i = 0; i < batches.size(); i++) {
                    updates.add(update(batches.get(i), epoch, i));
                }
            }
            return summarise(groups, updates, mismatch, sequences, tokens, truncated);
        } catch (RuntimeException e) {
            // a half-done update must not leave gradients for the next step to accumulate onto
            GradientClipping.zero(policy.block().getParameters());
            throw e;
        } finally {
            batches.forEach(MiniBatch::close);
        }
    }

    /** Contiguous runs of whole groups, sizes differing by at most one. */
    static List<List<TrainingGroup>> split(List<TrainingGroup> groups, int parts) {
        List<List<TrainingGroup>> out = new ArrayList<>(parts);
        int from = 0;
        for (int i = 0; i < parts; i++) {
            int size = groups.size() / parts + (i < groups.size() % parts ? 1 : 0);
            out.add(groups.subList(from, from + size));
            from += size;
        }
        return out;
    }

    /** Rows of a mini-batch run in one forward/backward pass, with their fixed log-probs. */
    private static final class Micro {
        final SequenceBatch batch;
        NDArray prox;
        NDArray ref;

        Micro(SequenceBatch batch) {
            this.batch = batch;
        }
    }

    /** One mini-batch's inputs and its fixed log-probs; owns the manager they live in. */
    private static final class MiniBatch implements AutoCloseable {
        final NDManager nd;
        SequenceBatch batch;
        final List<Micro> micros = new ArrayList<>();
        GrpoLoss.Normaliser whole; // null when one micro-batch is the whole mini-batch
        MismatchStats mismatch = MismatchStats.EMPTY;

        MiniBatch(NDManager nd) {
            this.nd = nd;
        }

        @Override
        public void close() {
            nd.close();
        }
    }

    /** Lays out a mini-batch and computes π_prox and π_ref on it with the policy as it is now, keeping no graph. */
    private MiniBatch prepare(List<TrainingGroup> part) {
        MiniBatch mb = new MiniBatch(policy.manager().newSubManager());
        try {
            mb.batch = SequenceBatch.of(mb.nd, part, padId, policy.spec().contextLength());
            long rows = mb.batch.rows();
            if (microBatchSize == 0 || microBatchSize >= rows) {
                mb.micros.add(new Micro(mb.batch));
            } else {
                for (long from = 0; from < rows; from += microBatchSize) {
                    mb.micros.add(new Micro(mb.batch.rows(from, Math.min(rows, from + microBatchSize))));
                }
                mb.whole = new GrpoLoss.Normaliser(mb.batch.completionTokens(), rows);
            }
            for (Micro m : mb.micros) {
                // outside a gradient collector the engine records no graph; the scope frees the forward's temporaries
                try (NDScope scope = new NDScope()) {
                    m.prox = keep(policy.tokenLogProbs(m.batch.tokens(), false).stopGradient(), mb.nd);
                    if (reference != null) {
                        m.ref = keep(reference.tokenLogProbs(m.batch.tokens(), false).stopGradient(), mb.nd);
                    }
                }
                mb.mismatch = mb.mismatch.plus(MismatchStats.of(m.prox, m.batch.behaviourLogProbs(), m.batch.mask(),
                        config.importanceCap()));
            }
            return mb;
        } catch (RuntimeException e) {
            mb.close();
            throw e;
        }
    }

    private static NDArray keep(NDArray a, NDManager owner) {
        NDScope.unregister(a);
        a.attach(owner);
        return a;
    }

    /**
     * One optimizer update on one mini-batch: forward and backward per micro-batch, gradients
     * accumulating in one collector; each micro-batch's graph and arrays die with its scope.
     */
    private UpdateStats update(MiniBatch mb, int epoch, int index) {
        double loss = 0;
        double klSum = 0;
        double clipSum = 0;
        long tokens = 0;
        double ratioMin = Double.POSITIVE_INFINITY;
        double ratioMax = Double.NEGATIVE_INFINITY;
        float scale = (float) lossScale.factor();
        double norm;
        boolean applied;
        try (PolicyGradients grads = PolicyGradients.open(policy)) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                for (Micro m : mb.micros) {
                    try (NDScope scope = new NDScope()) {
                        NDArray logp = policy.tokenLogProbs(m.batch.tokens(), true);
                        NDArray ref = m.ref == null ? logp.stopGradient() : m.ref;
                        GrpoLoss.Result r = GrpoLoss.compute(logp, m.prox, ref, m.batch.behaviourLogProbs(), m.batch.mask(),
                                m.batch.advantages(), config, mb.whole);
                        gc.backward(scale == 1f ? r.loss() : r.loss().mul(scale));
                        grads.collect();
                        int n = m.batch.completionTokens();
                        loss += r.loss().getFloat();
                        klSum += (double) r.klMean().getFloat() * n;
                        clipSum += (double) r.clipFraction().getFloat() * n;
                        tokens += n;
                        if (n > 0) {
                            ratioMin = Math.min(ratioMin, r.ratioMin().getFloat());
                            ratioMax = Math.max(ratioMax, r.ratioMax().getFloat());
                        }
                    }
                }
            }
            Gradients g = grads.gradients();
            if (scale != 1f) {
                GradientClipping.scale(g, 1.0 / scale);
            }
            norm = GradientClipping.clipByGlobalNorm(g, config.maxGradNorm());
            applied = Double.isFinite(norm) && Double.isFinite(loss);
            lossScale.update(Double.isFinite(norm));
            if (applied) {
                optimizer.step(g, config.learningRate());
            } else { // one poisoned update must not turn every weight into NaN: its gradients are dropped on close
                skippedSteps++;
            }
        }
        if (tokens == 0) {
            ratioMin = 1;
            ratioMax = 1;
        }
        double perToken = Math.max(tokens, 1);
        return new UpdateStats(epoch, index, mb.batch.completionTokens(), (float) loss, klSum / perToken,
                clipSum / perToken, ratioMin, ratioMax, norm, applied);
    }

    private static StepStats summarise(List<TrainingGroup> groups, List<UpdateStats> updates, MismatchStats mismatch,
                                       int sequences, int tokens, int truncated) {
        double loss = 0;
        double norm = 0;
        double klSum = 0;
        double clipSum = 0;
        long tokenSum = 0;
        double ratioMin = Double.POSITIVE_INFINITY;
        double ratioMax = Double.NEGATIVE_INFINITY;
        int applied = 0;
        for (UpdateStats u : updates) {
            loss += u.loss();
            norm += u.gradNorm();
            klSum += u.kl() * u.tokens();
            clipSum += u.clipFraction() * u.tokens();
            tokenSum += u.tokens();
            if (u.tokens() > 0) {
                ratioMin = Math.min(ratioMin, u.ratioMin());
                ratioMax = Math.max(ratioMax, u.ratioMax());
            }
            applied += u.applied() ? 1 : 0;
        }
        int n = updates.size();
        double perToken = Math.max(tokenSum, 1);
        if (tokenSum == 0) {
            ratioMin = 1;
            ratioMax = 1;
        }
        double meanReward = groups.stream().mapToDouble(TrainingGroup::meanReward).average().orElse(0);
        int all = tokens + truncated;
        return new StepStats(loss / n, klSum / perToken, clipSum / perToken, mismatch.weightMean(), norm / n,
                sequences, tokens, meanReward, applied == n, mismatch.weightMax(), mismatch.cappedFraction(),
                mismatch.mismatchKl(), all == 0 ? 0 : (double) truncated / all, ratioMin, ratioMax, applied,
                List.copyOf(updates));
    }
}
