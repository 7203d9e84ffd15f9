package org.rollstream.launcher.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import org.rollstream.learner.sft.SftMixture;
import org.rollstream.learner.sft.SftRun;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.reward.rejection.RejectionSettings;
import org.rollstream.schemas.records.SftSample;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/**
 * R1 stage 3, {@code rejection-sft}: rejection sampling from the stage-2 policy, then SFT from the base.
 *
 * <ol>
 *   <li>{@link RejectionSampling}: actors serve the {@code reasoning-rl} policy and sample k completions
 *       for each of a prompt set larger than RL used (training split, so never a held-out problem);
 *       the scorer scores them; the filter role keeps the correct, well-formed, language-consistent,
 *       untruncated, non-duplicate completions within the length bounds, at most m per prompt
 *       (optionally only prompts whose pass rate is in a band), publishes them to {@code sft.samples} and
 *       this stage exports them to {@code samples.jsonl}; the funnel goes to {@code funnel.json}.</li>
 *   <li>SFT from the {@code base} of {@code reasoning-rl} (not its policy, as R1 retrained from its
 *       base model) on the kept samples mixed with perfect traces of the built-in general task at
 *       reasoning:general = {@code generalRatio}:1.</li>
 * </ol>
 *
 * <p>Artifacts: {@code samples} (JSONL), {@code policy} ({@code policy.safetensors}). Metrics:
 * {@link PolicyEvaluation}'s on the same held-out problems as stage 2, {@code samples-kept},
 * {@code seconds}, the funnel ({@code funnel.input}, {@code funnel.removed.<filter>}, {@code funnel.kept}),
 * {@code stage2-accuracy}, {@code general-accuracy}, {@code prompts}, {@code sampling-seconds},
 * {@code sft-seconds}.
 */
public final class RejectionSftStage implements Stage {
    public static final String NAME = "rejection-sft";
    private static final long PROMPT_SALT = 0x3e1ec7L;
    /** Metric: stage-3 accuracy on the paired (larger) held-out list. */
    public static final String PAIRED_ACCURACY = "paired.accuracy";
    /** Metric: the stage-2 policy's accuracy on the same paired list, measured by this stage (a row of its own in the report). */
    public static final String PAIRED_STAGE2_ACCURACY = "paired-stage2.accuracy";
    /** Metric: problems in the paired list. */
    public static final String PAIRED_PROBLEMS = "paired.problems";

    /**
     * Settings of the stage; {@link #defaults()} are the miniature's.
     *
     * @param task            the reasoning task sampled (the stage-2 policy's)
     * @param prompts         prompts sampled, each k times
     * @param groupSize       k
     * @param temperature     sampling temperature
     * @param maxNewTokens    completion budget of sampling and evaluation
     * @param filter          what is kept
     * @param generalRatio    reasoning : general samples in the SFT mix (3 = 3:1); infinity for none
     * @param sftSteps        most SFT steps from the base
     * @param sftBatch        SFT pairs per step
     * @param sftLearningRate peak SFT learning rate, cosine-decayed
     * @param evalSize        held-out problems for the metrics (stage 2's list, so the figures compare)
     * @param actors          actor threads
     * @param sftEpochs       most passes over the mixed SFT data: the steps are
     *                        {@code min(sftSteps, ceil(sftEpochs * mix size / sftBatch))}
     * @param pairedEvalSize  held-out problems of the paired stage-2 vs stage-3 comparison (both policies
     *                        evaluated on the same, larger list); 0 for none
     */
    public record Settings(String task, int prompts, int groupSize, float temperature, int maxNewTokens,
                           RejectionSettings filter, double generalRatio, int sftSteps, int sftBatch, double sftLearningRate,
                           int evalSize, int actors, double sftEpochs, int pairedEvalSize) {
        public Settings {
            if (prompts < 1 || groupSize < 1 || !(temperature > 0) || maxNewTokens < 1 || !(generalRatio > 0) || sftSteps < 1
                    || sftBatch < 1 || !(sftLearningRate > 0) || evalSize < 1 || actors < 1 || filter == null
                    || !(sftEpochs > 0) || pairedEvalSize < 0) {
                throw new PipelineException("rejection-sft settings out of range: " + this);
            }
        }

        /** No epoch bound beyond {@code sftSteps}, no paired evaluation. */
        public Settings(String task, int prompts, int groupSize, float temperature, int maxNewTokens, RejectionSettings filter,
                        double generalRatio, int sftSteps, int sftBatch, double sftLearningRate, int evalSize, int actors) {
            this(task, prompts, groupSize, temperature, maxNewTokens, filter, generalRatio, sftSteps, sftBatch, sftLearningRate,
                    evalSize, actors, Double.POSITIVE_INFINITY, 0);
        }

        /**
         * The miniature's settings, and why.
         * <ul>
         *   <li>{@value #DEFAULT_PROMPTS} prompts x 8: the kept set must be large and varied, since SFT starts from a
         *       random base and learns only from it. Sampling is cheap beside SFT, so the stage samples many prompts: a
         *       stage-2 policy near 20% keeps 0.35–0.45 distinct samples per prompt. At scale 0.5 the former 1,500 prompts
         *       kept 608–790, the 1,000 SFT steps were about 40 epochs of the mix, the model memorised it (final loss 0.05)
         *       and fell up to 8 points below stage 2; with 6,000 prompts (2,080 kept, 11.5 epochs) it ended 8 points
         *       above stage 2 on the same seed.</li>
         *   <li>SFT steps bounded by {@value #DEFAULT_SFT_EPOCHS} epochs of the mix (and at most 2,000, the cold
         *       start's count): R1 fine-tuned for 2 epochs from a pretrained base; a random base needs more passes to
         *       learn the format and the column arithmetic at all, but not dozens.</li>
         *   <li>The paired comparison on {@value #DEFAULT_PAIRED_EVAL} held-out problems: 200 give about 3 points
         *       of standard error per figure, too coarse for a 5-point bar.</li>
         * </ul>
         */
        public static Settings defaults() {
            return new Settings("arithmetic", DEFAULT_PROMPTS, 8, 1.0f, PolicyEvaluation.MAX_NEW_TOKENS, RejectionSettings.defaults(),
                    3.0, 2000, 32, 2e-3, 200, 1, DEFAULT_SFT_EPOCHS, DEFAULT_PAIRED_EVAL);
        }

        /** Prompts and SFT steps scaled by {@code scale}. */
        public Settings scaled(double scale) {
            return new Settings(task, Math.max(40, (int) Math.round(prompts * scale)), groupSize, temperature, maxNewTokens,
                    filter, generalRatio, Math.max(50, (int) Math.round(sftSteps * scale)), sftBatch, sftLearningRate, evalSize, actors,
                    sftEpochs, pairedEvalSize);
        }

        public Settings withFilter(RejectionSettings f) {
            return new Settings(task, prompts, groupSize, temperature, maxNewTokens, f, generalRatio, sftSteps, sftBatch,
                    sftLearningRate, evalSize, actors, sftEpochs, pairedEvalSize);
        }

        public Settings withGeneralRatio(double ratio) {
            return new Settings(task, prompts, groupSize, temperature, maxNewTokens, filter, ratio, sftSteps, sftBatch,
                    sftLearningRate, evalSize, actors, sftEpochs, pairedEvalSize);
        }

        /** SFT steps for a mix of {@code mixSize} pairs: {@code sftSteps}, or fewer when that is more than {@code sftEpochs} passes. */
        public int sftStepsFor(int mixSize) {
            double byEpochs = Math.ceil(sftEpochs * mixSize / sftBatch);
            return (int) Math.max(1, Math.min(sftSteps, byEpochs));
        }
    }

    /** Prompts sampled at scale 1. */
    public static final int DEFAULT_PROMPTS = 12_000;
    /** Most passes over the SFT mix. */
    public static final double DEFAULT_SFT_EPOCHS = 12;
    /** Held-out problems of the paired stage-2 vs stage-3 comparison. */
    public static final int DEFAULT_PAIRED_EVAL = 1000;

    private final Settings settings;

    /** The defaults, scaled by the context's scale when run. */
    public RejectionSftStage() {
        this(null);
    }

    /** @param settings fixed settings (not scaled), or null for the defaults scaled by the context */
    public RejectionSftStage(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> needs() {
        return List.of(ReasoningRlStage.NAME);
    }

    public Settings settings(StageContext context) {
        return settings != null ? settings : Settings.defaults().scaled(context.scale());
    }

    @Override
    public StageResult run(StageContext context) throws Exception {
        long t0 = System.nanoTime();
        Settings s = settings(context);
        StageResult rl = context.input(ReasoningRlStage.NAME);
        Path rlPolicy = rl.artifact(StageResult.POLICY);
        Path base = rl.artifact(StageResult.BASE);
        Path dir = context.stageDir(this);
        Files.createDirectories(dir);
        String runId = NAME + "-" + UUID.randomUUID().toString().substring(0, 8);
        List<TaskInstance> prompts = promptSet(s.task(), context.seed(), s.prompts());
        context.out().printf(Locale.ROOT, "[%s] sampling %d prompts x %d from %s (job %s)%n", NAME, prompts.size(), s.groupSize(),
                rlPolicy, runId);

        Path samplesFile = dir.resolve("samples.jsonl");
        RejectionSampling.Result sampled = RejectionSampling.run(context.kafka(), new RejectionSampling.Job(runId, rlPolicy, prompts,
                s.groupSize(), s.temperature(), s.maxNewTokens(), s.actors(), s.filter(), samplesFile, Duration.ofSeconds(120)),
                context.out());
        Files.writeString(dir.resolve("funnel.json"), sampled.funnel().toJson());
        context.out().printf(Locale.ROOT, "[%s] %d of %d prompts judged in %.0f s (%d dead-lettered); filter funnel:%n%s", NAME,
                sampled.promptsJudged(), sampled.promptsIssued(), sampled.seconds(), sampled.deadLettered(), sampled.funnel().table());
        if (sampled.samples().isEmpty()) {
            throw new PipelineException("rejection sampling kept no sample (funnel in " + dir.resolve("funnel.json")
                    + "): the reasoning-rl policy solves too little; train it longer or widen the filters");
        }

        long t1 = System.nanoTime();
        List<SftTrainer.Pair> reasoning = new ArrayList<>();
        for (SftSample x : sampled.samples()) {
            reasoning.add(new SftTrainer.Pair(x.getPrompt(), x.getCompletion()));
        }
        List<SftTrainer.Pair> data = SftMixture.mix(reasoning, generalPairs(context.seed(),
                SftMixture.generalCount(reasoning.size(), s.generalRatio())), s.generalRatio(), context.seed());
        WeightSnapshot init = WeightSnapshot.open(base);
        int steps = s.sftStepsFor(data.size());
        context.out().printf(Locale.ROOT, "[%s] SFT from the base: %d steps of %d (%.1f epochs) on %d reasoning + %d general samples%n",
                NAME, steps, s.sftBatch(), (double) steps * s.sftBatch() / data.size(), reasoning.size(), data.size() - reasoning.size());
        long progressEvery = Math.max(25, Math.round(steps / 10.0 / 25) * 25);
        SftRun.Result sft = new SftRun(steps, s.sftBatch(), s.sftLearningRate(), context.seed())
                .train(init.spec(), init.load(), data, CharTokenizer.builtin(), step -> {
                    if (step % progressEvery == 0 && step < steps) {
                        double elapsed = (System.nanoTime() - t1) / 1e9;
                        context.out().printf(Locale.ROOT, "[%s] SFT step %d/%d, %.0f s, about %.0f s left%n", NAME, step, steps,
                                elapsed, elapsed / step * (steps - step));
                    }
                });
        Path policy = dir.resolve("policy.safetensors");
        WeightSnapshot.write(policy, sft.weights(), init.spec(), 0, steps, false);
        double sftSeconds = (System.nanoTime() - t1) / 1e9;

        PolicyEvaluation.Result e = PolicyEvaluation.evaluate(sft.weights(), init.spec(),
                PolicyEvaluation.heldOut(s.task(), context.seed(), s.evalSize()), s.maxNewTokens());
        PolicyEvaluation.Result general = PolicyEvaluation.evaluate(sft.weights(), init.spec(),
                generalHeldOut(), s.maxNewTokens());
        PolicyEvaluation.Result paired = null;
        PolicyEvaluation.Result pairedStage2 = null;
        if (s.pairedEvalSize() > 0) {
            List<TaskInstance> problems = PolicyEvaluation.heldOut(s.task(), context.seed(), s.pairedEvalSize());
            WeightSnapshot stage2 = WeightSnapshot.open(rlPolicy);
            paired = PolicyEvaluation.evaluate(sft.weights(), init.spec(), problems, s.maxNewTokens());
            pairedStage2 = PolicyEvaluation.evaluate(stage2.load(), stage2.spec(), problems, s.maxNewTokens());
        }
        Map<String, Double> metrics = new LinkedHashMap<>(e.metrics());
        metrics.put(Metrics.SAMPLES_KEPT, (double) sampled.samples().size());
        metrics.putAll(sampled.funnel().metrics());
        metrics.put("stage2-accuracy", rl.metrics().getOrDefault(Metrics.ACCURACY, Double.NaN));
        metrics.put("general-accuracy", general.accuracy());
        metrics.put("prompts", (double) sampled.promptsIssued());
        metrics.put("sft-steps", (double) steps);
        metrics.put("sft-epochs", (double) steps * s.sftBatch() / data.size());
        if (paired != null) {
            metrics.put(PAIRED_ACCURACY, paired.accuracy());
            metrics.put(PAIRED_STAGE2_ACCURACY, pairedStage2.accuracy());
            metrics.put(PAIRED_PROBLEMS, (double) paired.problems());
        }
        metrics.put("sft-loss-first", sft.firstLoss());
        metrics.put("sft-loss-last", sft.lastLoss());
        metrics.put("sampling-seconds", sampled.seconds());
        metrics.put("sft-seconds", sftSeconds);
        metrics.put(Metrics.SECONDS, (System.nanoTime() - t0) / 1e9);
        context.out().printf(Locale.ROOT,
                "[%s] held-out accuracy %.1f%% (stage 2: %.1f%%), format %.1f%%, %.1f tokens, general %.1f%%; %d samples; %.0f s%n",
                NAME, 100 * e.accuracy(), 100 * metrics.get("stage2-accuracy"), 100 * e.formatRate(), e.responseTokens(),
                100 * general.accuracy(), sampled.samples().size(), metrics.get(Metrics.SECONDS));
        if (paired != null) {
            context.out().printf(Locale.ROOT, "[%s] on %d held-out problems: stage 3 %.1f%%, stage 2 %.1f%% (%+.1f points)%n", NAME,
                    paired.problems(), 100 * paired.accuracy(), 100 * pairedStage2.accuracy(),
                    100 * (paired.accuracy() - pairedStage2.accuracy()));
        }
        return new StageResult(NAME, Map.of(StageResult.SAMPLES, samplesFile, StageResult.POLICY, policy), metrics);
    }

    /**
     * {@code n} distinct training problems of {@code task}: drawn outside the held-out bucket (so never
     * an evaluation problem) in an order of their own (not the RL run's).
     */
    static List<TaskInstance> promptSet(String task, long seed, int n) {
        Task t = TaskRegistry.defaults().resolve(task);
        Iterator<TaskInstance> draws = TaskDataset.generated(t, seed ^ PROMPT_SALT, n, 0).train(0);
        List<TaskInstance> out = new ArrayList<>(n);
        Set<String> seen = new HashSet<>();
        for (long tries = 0; out.size() < n; tries++) {
            if (tries > 100L * n + 10_000) {
                throw new PipelineException("task " + task + " has fewer than " + n + " distinct training problems; lower the prompt count");
            }
            TaskInstance i = draws.next();
            if (seen.add(i.text())) {
                out.add(i);
            }
        }
        return out;
    }

    /** Every held-out general problem (the task has 150 problems, about a tenth of them held out). */
    static List<TaskInstance> generalHeldOut() {
        Task general = TaskRegistry.defaults().resolve(GeneralTask.NAME);
        TaskDataset split = TaskDataset.generated(general, 0, 1, 0);
        Random rnd = new Random(0);
        Map<String, TaskInstance> held = new java.util.TreeMap<>();
        for (int i = 0; i < 20_000; i++) {
            TaskInstance inst = general.sample(rnd);
            if (split.isHeldOut(inst)) {
                held.putIfAbsent(inst.text(), inst);
            }
        }
        return List.copyOf(held.values());
    }

    /** {@code n} perfect general traces (direct answers), cycling through the general training problems. */
    static List<SftTrainer.Pair> generalPairs(long seed, int n) {
        Task general = TaskRegistry.defaults().resolve(GeneralTask.NAME);
        Iterator<TaskInstance> draws = TaskDataset.generated(general, seed ^ PROMPT_SALT, Math.max(1, n), 0).train(0);
        Random rnd = new Random(seed);
        List<SftTrainer.Pair> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TaskInstance inst = draws.next();
            out.add(new SftTrainer.Pair(inst.text(), general.trace(inst, true, rnd)));
        }
        return out;
    }
}
