package org.rollstream.learner.distill;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.List;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.policy.djl.DjlPolicy;

/**
 * On-policy distillation: the student samples, the teacher scores every sampled token, and each
 * token's advantage is the negative per-token reverse KL, {@code A_t = log π_teacher(y_t) − log π_student(y_t)}
 * (fixed, no gradient through it). The loss is the policy gradient {@code −Σ A_t · log π_student(y_t) / tokens}:
 * its gradient is the per-token gradient of KL(π_student ‖ π_teacher) on the student's own samples, so
 * tokens the teacher finds likelier than the student are pushed up and the rest down. No reward, no
 * groups, no reference model: the teacher is the only signal. Teacher and student must share the
 * tokenizer (not the architecture).
 *
 * <p>Not thread-safe (one DJL gradient collector per JVM). An update whose loss or gradient is not
 * finite is not applied and counted in {@link #skippedSteps()}.
 */
public final class OnPolicyDistillTrainer {
    /** How a step turns the teacher's judgement of the student's rollouts into a gradient. */
    public enum Estimator {
        /**
         * Policy gradient on the sampled token: {@code A_t = log π_teacher(y_t) − log π_student(y_t)}, loss
         * {@code −Σ A_t · log π_student(y_t)}. Unbiased for the per-context reverse KL's gradient, but it
         * rests on the one token drawn at each position, and a rare token the teacher all but excludes
         * gives a huge advantage that dominates the step.
         */
        SAMPLED_TOKEN,
        /**
         * The same expectation taken over the whole vocabulary at each visited position: loss
         * {@code Σ_t KL(π_student(·|context_t) ‖ π_teacher(·|context_t))}, i.e. every token's advantage
         * weighted by the student's probability of it. The contexts are still the student's own samples,
         * so it is still on-policy; only the token-level sampling noise is gone (a vocabulary of a few
         * dozen characters makes the sum cheap).
         */
        FULL_VOCABULARY
    }

    private final DjlPolicy student;
    private final DjlPolicy teacher;
    private final AdamW optimizer;
    private final double maxGradNorm;
    private final int padId;
    private final Estimator estimator;
    private long skippedSteps;

    /** A student rollout: the prompt's tokens and the sampled completion (its {@code <eos>} included if sampled). */
    public record Rollout(int[] prompt, int[] completion) {
    }

    /**
     * Figures of one step.
     *
     * @param loss       the loss before the update (the policy-gradient surrogate, or the mean per-context KL)
     * @param reverseKl  mean over sampled tokens of log π_student − log π_teacher (the per-token reverse KL estimate)
     * @param contextKl  mean over the same positions of the exact KL(π_student(·|context) ‖ π_teacher(·|context)),
     *                   summed over the vocabulary before the update: the quantity {@code reverseKl} estimates, without
     *                   the noise of the one sampled token
     * @param tokens     completion tokens trained
     * @param gradNorm   global gradient norm before clipping
     * @param applied    false when the update was skipped as non-finite
     */
    public record StepStats(double loss, double reverseKl, double contextKl, int tokens, double gradNorm, boolean applied) {
    }

    /** With the {@link Estimator#SAMPLED_TOKEN} estimator. */
    public OnPolicyDistillTrainer(DjlPolicy student, DjlPolicy teacher, AdamW optimizer, double maxGradNorm, int padId) {
        this(student, teacher, optimizer, maxGradNorm, padId, Estimator.SAMPLED_TOKEN);
    }

    public OnPolicyDistillTrainer(DjlPolicy student, DjlPolicy teacher, AdamW optimizer, double maxGradNorm, int padId,
                                  Estimator estimator) {
        if (student.spec().vocabSize() != teacher.spec().vocabSize()) {
            throw new IllegalArgumentException("student and teacher vocabularies differ: " + student.spec().vocabSize()
                    + " vs " + teacher.spec().vocabSize());
        }
        this.student = student;
        this.teacher = teacher;
        this.optimizer = optimizer;
        this.maxGradNorm = maxGradNorm;
        this.padId = padId;
        this.estimator = estimator;
    }

    public long skippedSteps() {
        return skippedSteps;
    }

    /**
     * Mean per-token reverse KL of the student to the teacher on {@code rollouts}, without training.
     */
    public double reverseKl(List<Rollout> rollouts) {
        try (NDManager nd = student.manager().newSubManager(); NDScope scope = new NDScope()) {
            Layout l = Layout.of(nd, rollouts, padId, Math.min(student.spec().contextLength(), teacher.spec().contextLength()));
            if (l.tokens == 0) {
                return 0;
            }
            NDArray s = student.tokenLogProbs(l.seqs, false);
            NDArray t = teacher.tokenLogProbs(l.seqs, false);
            return s.sub(t).mul(l.mask).sum().getFloat() / l.tokens;
        }
    }

    /**
     * Mean over completion positions of the exact per-context reverse KL, KL(π_student(·|context) ‖
     * π_teacher(·|context)) summed over the whole vocabulary, without training: what the sampled
     * {@link #reverseKl} estimates, with no sampling noise at the token.
     */
    public double contextKl(List<Rollout> rollouts) {
        try (NDManager nd = student.manager().newSubManager(); NDScope scope = new NDScope()) {
            Layout l = Layout.of(nd, rollouts, padId, Math.min(student.spec().contextLength(), teacher.spec().contextLength()));
            return l.tokens == 0 ? 0 : contextKl(l);
        }
    }

    private double contextKl(Layout l) {
        long t = l.seqs.getShape().get(1);
        NDArray input = l.seqs.get(new NDIndex(":, 0:{}", t - 1));
        NDArray ls = student.logits(input, false).logSoftmax(-1);
        NDArray lt = teacher.logits(input, false).logSoftmax(-1);
        return ls.exp().mul(ls.sub(lt)).sum(new int[] {-1}).mul(l.mask).sum().getFloat() / l.tokens;
    }

    /**
     * Mean over completion tokens of ½(log π_student − log π_teacher)². On fixed rollouts a step's
     * gradient is exactly this quantity's gradient (Σ (log π_s − log π_t)·∇log π_s), so small steps on
     * the same rollouts lower it; with fresh samples each step they lower the reverse KL.
     */
    public double halfSquaredLogRatio(List<Rollout> rollouts) {
        try (NDManager nd = student.manager().newSubManager(); NDScope scope = new NDScope()) {
            Layout l = Layout.of(nd, rollouts, padId, Math.min(student.spec().contextLength(), teacher.spec().contextLength()));
            if (l.tokens == 0) {
                return 0;
            }
            NDArray d = student.tokenLogProbs(l.seqs, false).sub(teacher.tokenLogProbs(l.seqs, false)).mul(l.mask);
            return d.mul(d).sum().getFloat() / (2.0 * l.tokens);
        }
    }

    /** One optimizer update on {@code rollouts} (at least one with a completion token). */
    public StepStats step(List<Rollout> rollouts, double learningRate) {
        try (NDManager nd = student.manager().newSubManager(); NDScope scope = new NDScope()) {
            Layout l = Layout.of(nd, rollouts, padId, Math.min(student.spec().contextLength(), teacher.spec().contextLength()));
            if (l.tokens == 0) {
                throw new IllegalArgumentException("on-policy distillation step with no completion token");
            }
            double contextKl;
            float loss;
            float kl;
            if (estimator == Estimator.FULL_VOCABULARY) {
                long t = l.seqs.getShape().get(1);
                NDArray input = l.seqs.get(new NDIndex(":, 0:{}", t - 1));
                NDArray targets = l.seqs.get(new NDIndex(":, 1:")).toType(DataType.INT64, false).expandDims(-1);
                NDArray lt = teacher.logits(input, false).logSoftmax(-1).stopGradient();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray ls = student.logits(input, true).logSoftmax(-1);
                    NDArray perContext = ls.exp().mul(ls.sub(lt)).sum(new int[] {-1}).mul(l.mask);
                    NDArray lossArr = perContext.sum().div((float) l.tokens);
                    gc.backward(lossArr);
                    loss = lossArr.getFloat();
                    contextKl = loss;
                    NDArray sampled = ls.stopGradient().gather(targets, -1).squeeze(-1).sub(lt.gather(targets, -1).squeeze(-1));
                    kl = sampled.mul(l.mask).sum().getFloat() / l.tokens;
                }
            } else {
                contextKl = contextKl(l);
                NDArray teacherLp = teacher.tokenLogProbs(l.seqs, false).stopGradient();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray studentLp = student.tokenLogProbs(l.seqs, true);
                    NDArray advantage = teacherLp.sub(studentLp.stopGradient()).mul(l.mask);
                    NDArray lossArr = advantage.mul(studentLp).sum().neg().div((float) l.tokens);
                    gc.backward(lossArr);
                    loss = lossArr.getFloat();
                    kl = advantage.sum().neg().getFloat() / l.tokens;
                }
            }
            double norm = GradientClipping.clipByGlobalNorm(student.block().getParameters(), maxGradNorm);
            boolean applied = Double.isFinite(norm) && Float.isFinite(loss);
            if (applied) {
                optimizer.step(student.block().getParameters(), learningRate);
            } else { // a poisoned update must not spread NaN into every weight
                GradientClipping.zero(student.block().getParameters());
                skippedSteps++;
            }
            return new StepStats(loss, kl, contextKl, l.tokens, norm, applied);
        }
    }

    /** Right-padded prompt+completion rows and a (N, T−1) mask aligned with {@code tokenLogProbs}. */
    private record Layout(NDArray seqs, NDArray mask, int tokens) {
        static Layout of(NDManager nd, List<Rollout> rollouts, int padId, int maxLength) {
            int n = rollouts.size();
            int t = 2;
            for (Rollout r : rollouts) {
                t = Math.max(t, Math.min(maxLength, r.prompt().length + r.completion().length));
            }
            int[] seqs = new int[n * t];
            Arrays.fill(seqs, padId);
            float[] mask = new float[n * (t - 1)];
            int tokens = 0;
            for (int i = 0; i < n; i++) {
                int[] p = rollouts.get(i).prompt();
                int[] c = rollouts.get(i).completion();
                int pl = Math.min(p.length, t);
                System.arraycopy(p, 0, seqs, i * t, pl);
                for (int j = 0; j < c.length && pl + j < t; j++) {
                    seqs[i * t + pl + j] = c[j];
                    mask[i * (t - 1) + pl - 1 + j] = 1f;
                    tokens++;
                }
            }
            return new Layout(nd.create(seqs, new Shape(n, t)), nd.create(mask, new Shape(n, t - 1)), tokens);
        }
    }
}
