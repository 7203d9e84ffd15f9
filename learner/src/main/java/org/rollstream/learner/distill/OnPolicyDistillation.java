package org.rollstream.learner.distill;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.Tokenizer;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.tasks.TaskInstance;

/**
 * A whole on-policy distillation run: {@code steps} updates of {@link OnPolicyDistillTrainer}, each on
 * {@code batch} completions the student has just sampled ({@link PolicySampler}, in process, so every
 * rollout comes from the weights being trained); the learning rate rises linearly over the first fifth of
 * the updates (a fresh AdamW's first steps move every weight by about the rate, which would knock a
 * converged student off its optimum), then stays. Before the first and after the last update the
 * student's reverse KL to the teacher is measured on fixed probe prompts with fresh samples from a fixed
 * random stream ({@link Result#probeKlBefore()}, {@link Result#probeKlAfter()}): the figure the run is
 * meant to lower, on prompts it never trains on. Every KL figure here is the exact per-context one
 * ({@link OnPolicyDistillTrainer#contextKl}), averaged over the sampled completions' positions.
 *
 * @param steps        optimizer updates (≥ 1)
 * @param batch        completions sampled per update (≥ 1)
 * @param maxNewTokens completion budget per rollout (≥ 1)
 * @param learningRate AdamW rate after the warm-up (&gt; 0, no weight decay, gradient norm clipped at 1)
 * @param temperature  sampling temperature (&gt; 0; 1 samples the student's own distribution)
 * @param seed         draws the rollouts; the probe samples use a stream of their own
 * @param estimator    how each update's gradient is formed ({@link OnPolicyDistillTrainer.Estimator})
 */
public record OnPolicyDistillation(int steps, int batch, int maxNewTokens, double learningRate, double temperature,
                                   long seed, OnPolicyDistillTrainer.Estimator estimator) {
    public OnPolicyDistillation {
        if (steps < 1 || batch < 1 || maxNewTokens < 1 || !(learningRate > 0) || !(temperature > 0) || estimator == null) {
            throw new IllegalArgumentException("on-policy distillation needs steps, batch and maxNewTokens >= 1 and a positive "
                    + "learning rate and temperature; got " + this);
        }
    }

    /**
     * What a run did.
     *
     * @param weights            the student's final weights
     * @param probeKlBefore      per-context reverse KL on the probe prompts before the first update
     * @param probeKlAfter       the same after the last update
     * @param firstKl            mean per-context reverse KL of the training rollouts over the first tenth of steps
     * @param lastKl             the same over the last tenth
     * @param sampledCompletions completions sampled for training ({@code steps × batch})
     * @param sampledTokens      completion tokens sampled for training (the tokens trained on)
     * @param skippedSteps       updates skipped as non-finite
     */
    public record Result(Weights weights, double probeKlBefore, double probeKlAfter, double firstKl, double lastKl,
                         long sampledCompletions, long sampledTokens, long skippedSteps) {
    }

    /**
     * Endless prompt token ids: the text of each instance of {@code tasks}, an endless iterator (a
     * {@code TaskDataset}'s training stream), encoded by {@code tokenizer}. {@code hasNext} does not
     * consult {@code tasks}, whose own may draw the next epoch.
     */
    public static Iterator<int[]> promptTokens(Iterator<TaskInstance> tasks, Tokenizer tokenizer) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public int[] next() {
                return PromptTokens.encode(tokenizer, tasks.next().text());
            }
        };
    }

    /** Called after every update with its 1-based number and figures. */
    @FunctionalInterface
    public interface Progress {
        void step(int step, OnPolicyDistillTrainer.StepStats stats);
    }

    /**
     * Trains {@code student} toward {@code teacher} (same tokenizer); both weight sets are left untouched.
     *
     * @param prompts training prompts as token ids, drawn {@code batch} per step
     * @param probe   prompts the reverse KL is measured on before and after (not trained on); may be empty
     */
    public Result run(ModelSpec studentSpec, Weights student, ModelSpec teacherSpec, Weights teacher, Iterator<int[]> prompts,
                      List<int[]> probe, int padId, int eosId, Progress progress) {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy studentPolicy = new DjlPolicy(studentSpec, nd, student);
            DjlPolicy teacherPolicy = new DjlPolicy(teacherSpec, nd, teacher);
            OnPolicyDistillTrainer trainer = new OnPolicyDistillTrainer(studentPolicy, teacherPolicy, AdamW.standard(nd, 0.0),
                    1.0, padId, estimator);
            PolicySampler sampler = new PolicySampler(studentPolicy, padId, eosId);
            double before = probeKl(trainer, sampler, probe);
            Random rnd = new Random(seed);
            int window = Math.max(1, steps / 10);
            int warmup = Math.max(1, steps / 5);
            double first = 0;
            double last = 0;
            long tokens = 0;
            for (int i = 0; i < steps; i++) {
                List<int[]> ps = new ArrayList<>(batch);
                for (int j = 0; j < batch; j++) {
                    ps.add(prompts.next());
                }
                List<OnPolicyDistillTrainer.Rollout> rollouts = rollouts(sampler, ps, rnd);
                OnPolicyDistillTrainer.StepStats stats = trainer.step(rollouts, learningRate * Math.min(1.0, (i + 1.0) / warmup));
                tokens += stats.tokens();
                if (i < window) {
                    first += stats.contextKl() / window;
                }
                if (i >= steps - window) {
                    last += stats.contextKl() / window;
                }
                if (progress != null) {
                    progress.step(i + 1, stats);
                }
            }
            double after = probeKl(trainer, sampler, probe);
            return new Result(studentPolicy.exportWeights(), before, after, first, last, (long) steps * batch, tokens,
                    trainer.skippedSteps());
        }
    }

    private double probeKl(OnPolicyDistillTrainer trainer, PolicySampler sampler, List<int[]> probe) {
        if (probe.isEmpty()) {
            return Double.NaN;
        }
        // the same random stream before and after, so the two figures differ by the weights only
        return trainer.contextKl(rollouts(sampler, probe, new Random(seed ^ 0x5DEECE66DL)));
    }

    private List<OnPolicyDistillTrainer.Rollout> rollouts(PolicySampler sampler, List<int[]> prompts, Random rnd) {
        List<int[]> cs = sampler.sample(prompts, maxNewTokens, temperature, rnd);
        List<OnPolicyDistillTrainer.Rollout> out = new ArrayList<>(prompts.size());
        for (int j = 0; j < prompts.size(); j++) {
            out.add(new OnPolicyDistillTrainer.Rollout(prompts.get(j), cs.get(j)));
        }
        return out;
    }
}
