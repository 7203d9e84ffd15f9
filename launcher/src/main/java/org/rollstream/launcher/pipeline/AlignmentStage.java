package org.rollstream.launcher.pipeline;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.launcher.rm.RewardModelBuild;
import org.rollstream.learner.Checkpoints;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.rm.RewardModelTrainer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.reward.service.ScorerConfig;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.tasks.preference.BuiltinPreferences;

/**
 * R1 stage 4, {@code alignment}: RL for all scenarios. First the reward model is trained on the
 * built-in preference pairs ({@link BuiltinPreferences}, Bradley–Terry with DJL) and exported to
 * ONNX (artifact {@code reward-model}); then GRPO runs again, from the {@code rejection-sft} policy,
 * with actors, scorer and learner over Kafka ({@link LocalRun}), on a mix of reasoning prompts
 * (rule rewards: accuracy and format) and general prompts, which the scorer scores with the reward
 * model through its {@code onnx} reward (helpfulness on the prompt and final answer, harmlessness on
 * the whole response; {@link RewardModelBuild#scorerRewards}).
 *
 * <p>Artifacts: {@code reward-model} ({@code reward-model.onnx}) and {@code policy}
 * ({@code policy.safetensors}). Metrics: {@link PolicyEvaluation}'s figures on the reasoning task's
 * held-out problems of the pipeline's seed after the stage (and {@code accuracy.before} for the
 * input policy), {@code rm-score} / {@code rm-score.before}: the mean reward-model score
 * (helpfulness + harmlessness) of greedy completions on held-out general prompts after and before,
 * {@code rm-score-sampled} (and {@code .before}): the same over 16 completions per prompt sampled at
 * temperature 1, the policy's expected score, {@code rm-accuracy}: the reward model's held-out ranking
 * accuracy, and {@code seconds}.
 */
public final class AlignmentStage implements Stage {
    public static final String NAME = "alignment";
    /** The stage whose policy this one starts from. */
    public static final String INPUT = RejectionSftStage.NAME;
    static final String POLICY = "alignment";
    private static final double FORMAT_WEIGHT = 0.1;
    /** Completions sampled per held-out general prompt for {@link Metrics#RM_SCORE_SAMPLED}: 15 prompts give 240. */
    static final int SAMPLES_PER_GENERAL_PROMPT = 16;

    /**
     * Sizes of the stage.
     *
     * @param task           the reasoning task mixed with general prompts
     * @param pairs          built-in preference pairs for the reward model
     * @param rmSteps        reward-model optimizer steps
     * @param grpoSteps      GRPO steps
     * @param groupsPerStep  B
     * @param groupSize      G
     * @param learningRate   GRPO learning rate
     * @param evalSize       held-out reasoning problems for accuracy
     * @param generalEval    held-out general prompts for the reward-model score (the built-in task has 15)
     * @param maxNewTokens   completion budget of actors and evaluation
     * @param actors         actor threads
     */
    public record Settings(String task, int pairs, int rmSteps, int grpoSteps, int groupsPerStep, int groupSize,
                           double learningRate, int evalSize, int generalEval, int maxNewTokens, int actors) {
        public Settings {
            if (pairs < 10 || rmSteps < 1 || grpoSteps < 1 || groupsPerStep < 1 || groupSize < 2 || !(learningRate > 0)
                    || evalSize < 1 || generalEval < 1 || maxNewTokens < 1 || actors < 1) {
                throw new PipelineException("alignment settings out of range: " + this);
            }
        }

        /**
         * The miniature's sizes. The GRPO rate is a fifth of stage 2's: alignment is meant to add
         * helpfulness and harmlessness without trading away reasoning, and on the addition task
         * (PipelineTest's settings, from the same stage-3 policy at 71.0%) ten steps at 1e-4 cost 6.5
         * and 27 points of accuracy in two runs while the reward-model score rose, against 1.5 points at
         * 2e-5 with the score still rising (8.18 to 9.43).
         */
        public static Settings defaults() {
            return new Settings("arithmetic", 3000, 300, 40, 8, 8, 2e-5, 200, 15, PolicyEvaluation.MAX_NEW_TOKENS, 1);
        }

        /** Steps and pairs scaled by {@code scale} (1.0: the defaults). */
        public Settings scaled(double scale) {
            return new Settings(task, Math.max(1000, (int) Math.round(pairs * scale)), Math.max(100, (int) Math.round(rmSteps * scale)),
                    Math.max(10, (int) Math.round(grpoSteps * scale)), groupsPerStep, groupSize, learningRate, evalSize,
                    generalEval, maxNewTokens, actors);
        }
    }

    private final Settings settings;

    /** The defaults, scaled by the context's scale when run. */
    public AlignmentStage() {
        this(null);
    }

    /** @param settings fixed settings (not scaled), or null for the defaults scaled by the context */
    public AlignmentStage(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> needs() {
        return List.of(INPUT);
    }

    public Settings settings(StageContext context) {
        return settings != null ? settings : Settings.defaults().scaled(context.scale());
    }

    @Override
    public StageResult run(StageContext context) throws Exception {
        long t0 = System.nanoTime();
        Settings s = settings(context);
        Path start = context.input(INPUT).artifact(StageResult.POLICY);
        Path dir = context.stageDir(this);
        Files.createDirectories(dir);
        WeightSnapshot startSnap = WeightSnapshot.open(start);
        ModelSpec spec = startSnap.spec();

        // 1. the reward model
        context.out().printf(Locale.ROOT, "[%s] reward model: %d built-in pairs, %d steps%n", NAME, s.pairs(), s.rmSteps());
        Path rm = dir.resolve("reward-model.onnx");
        RewardModelBuild.Outcome built = RewardModelBuild.run(BuiltinPreferences.generate(s.pairs(), context.seed()),
                RewardModelTrainer.Settings.defaults(context.seed()).withSteps(s.rmSteps()), rm, context.out());
        context.out().printf(Locale.ROOT, "[%s] reward model ranks %.1f%% of %d held-out pairs right; ONNX matches DJL within %.1e%n",
                NAME, 100 * built.training().heldOutAccuracy(), built.training().heldOutPairs(), built.maxDifference());

        List<TaskInstance> reasoningHeldOut = PolicyEvaluation.heldOut(s.task(), context.seed(), s.evalSize());
        List<TaskInstance> generalHeldOut = PolicyEvaluation.heldOut(GeneralTask.NAME, context.seed(), s.generalEval());
        Weights startWeights = startSnap.load();
        PolicyEvaluation.Result before = PolicyEvaluation.evaluate(startWeights, spec, reasoningHeldOut, s.maxNewTokens());
        RewardModelScore.Result rmBefore = RewardModelScore.evaluate(startWeights, spec, generalHeldOut, rm, s.maxNewTokens());
        RewardModelScore.Result rmSampledBefore = RewardModelScore.evaluateSampled(startWeights, spec, generalHeldOut, rm,
                s.maxNewTokens(), SAMPLES_PER_GENERAL_PROMPT, context.seed());
        context.out().printf(Locale.ROOT, "[%s] before: held-out accuracy %.1f%%, reward-model score %.3f on %d general prompts "
                        + "(sampled, %d each: %.3f)%n", NAME, 100 * before.accuracy(), rmBefore.meanScore(), generalHeldOut.size(),
                SAMPLES_PER_GENERAL_PROMPT, rmSampledBefore.meanScore());

        // 2. GRPO on the mix, general prompts scored by the reward model
        Path prompts = dir.resolve("prompts.jsonl");
        writeMix(prompts, s.task(), context.seed());
        Path runDir = dir.resolve("run");
        LearnerConfig config = new LearnerConfig(runDir, NAME, POLICY, spec, s.task(), context.seed(), ColdStart.none(),
                GrpoConfig.builder().groupsPerStep(s.groupsPerStep()).maxStaleness(1).learningRate(s.learningRate()).build(),
                s.grpoSteps(), 10, 50, 20, s.maxNewTokens(), 120_000, start, prompts);
        ActorConfig actor = ActorConfig.defaults(NAME + "-actor").withPolicyName(POLICY)
                .withSampling(s.groupSize(), 1.0f, 1.0f, s.maxNewTokens()).withSeed(context.seed());
        String rewards = RewardModelBuild.scorerRewards(rm, FORMAT_WEIGHT);
        ScorerConfig scorer = ScorerConfig.defaults(NAME + "-scorer").withRewards(rewards)
                .withMaxNewTokens(s.maxNewTokens()).withGroupSize(s.groupSize());
        context.out().printf(Locale.ROOT, "[%s] GRPO %d steps (B=%d, G=%d) from %s on reasoning (%s) and general prompts; rewards %s%n",
                NAME, s.grpoSteps(), s.groupsPerStep(), s.groupSize(), start, s.task(), rewards);
        LocalRun.Result r = LocalRun.run(context.kafka(), config, actor, s.actors(), scorer, 4, context.out(),
                Duration.ofSeconds(10), false);
        if (!r.learner().complete()) {
            throw new PipelineException("alignment stopped at GRPO step " + r.learner().steps() + " of " + s.grpoSteps()
                    + "; run the stage again to resume from its checkpoint");
        }
        Checkpoints.Loaded last = new Checkpoints(config.checkpointsDir()).latest()
                .orElseThrow(() -> new PipelineException("alignment finished without a checkpoint in " + config.checkpointsDir()));
        Weights finalWeights = last.policy();
        Path policy = dir.resolve("policy.safetensors");
        WeightSnapshot.write(policy, finalWeights, spec, last.state().version(), last.state().step(), false);

        // 3. the figures
        PolicyEvaluation.Result after = PolicyEvaluation.evaluate(finalWeights, spec, reasoningHeldOut, s.maxNewTokens());
        RewardModelScore.Result rmAfter = RewardModelScore.evaluate(finalWeights, spec, generalHeldOut, rm, s.maxNewTokens());
        RewardModelScore.Result rmSampledAfter = RewardModelScore.evaluateSampled(finalWeights, spec, generalHeldOut, rm,
                s.maxNewTokens(), SAMPLES_PER_GENERAL_PROMPT, context.seed());
        Map<String, Double> metrics = new LinkedHashMap<>(after.metrics());
        metrics.put(Metrics.ACCURACY + ".before", before.accuracy());
        metrics.put(Metrics.RM_SCORE, rmAfter.meanScore());
        metrics.put(Metrics.RM_SCORE + ".before", rmBefore.meanScore());
        metrics.put(Metrics.RM_SCORE_SAMPLED, rmSampledAfter.meanScore());
        metrics.put(Metrics.RM_SCORE_SAMPLED + ".before", rmSampledBefore.meanScore());
        metrics.put("general-accuracy", rmAfter.accuracy());
        metrics.put("general-accuracy.before", rmBefore.accuracy());
        metrics.put("rm-accuracy", built.training().heldOutAccuracy());
        metrics.put("grpo-steps", (double) r.learner().steps());
        metrics.put(Metrics.SECONDS, (System.nanoTime() - t0) / 1e9);
        context.out().printf(Locale.ROOT, "[%s] held-out accuracy %.1f%% (before %.1f%%), reward-model score %.3f (before %.3f; "
                        + "sampled %.3f, before %.3f), general accuracy %.1f%% (before %.1f%%), format %.1f%%, %.0f s%n",
                NAME, 100 * after.accuracy(), 100 * before.accuracy(), rmAfter.meanScore(), rmBefore.meanScore(),
                rmSampledAfter.meanScore(), rmSampledBefore.meanScore(),
                100 * rmAfter.accuracy(), 100 * rmBefore.accuracy(), 100 * after.formatRate(), metrics.get(Metrics.SECONDS));
        return new StageResult(NAME, Map.of(StageResult.REWARD_MODEL, rm, StageResult.POLICY, policy), metrics);
    }

    /**
     * The training prompts: every general prompt twice and as many reasoning prompts of {@code task},
     * so half of the groups are general. The learner holds out the same problems
     * {@link PolicyEvaluation#heldOut} evaluates on (held-out membership is a function of the problem).
     */
    static void writeMix(Path file, String task, long seed) throws IOException {
        TaskRegistry tasks = TaskRegistry.defaults();
        List<TaskInstance> general = GeneralTask.all();
        Task reasoning = tasks.resolve(task);
        Random rnd = new Random(seed ^ 0xA11C);
        List<TaskInstance> all = new ArrayList<>();
        for (int copy = 0; copy < 2; copy++) {
            all.addAll(general);
            for (int i = 0; i < general.size(); i++) {
                all.add(reasoning.sample(rnd));
            }
        }
        ObjectMapper json = new ObjectMapper();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (TaskInstance inst : all) {
                ObjectNode o = json.createObjectNode();
                o.put("prompt", inst.text());
                o.put("answer", inst.answer());
                o.put("task", inst.task());
                inst.fields().forEach(o::put);
                w.write(json.writeValueAsString(o));
                w.write('\n');
            }
        }
        if (TaskDataset.of(file.getFileName().toString(), all, seed, TaskDataset.DEFAULT_HELD_OUT_SHARE).epochSize() == 0) {
            throw new PipelineException("no training prompts in " + file);
        }
    }
}
