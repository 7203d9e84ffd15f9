package org.rollstream.launcher.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.rollstream.actor.ActorConfig;
import org.rollstream.launcher.LocalRun;
import org.rollstream.learner.Checkpoints;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.reward.service.ScorerConfig;

/**
 * R1 stages 1–2, {@code reasoning-rl}: cold-start SFT, then GRPO with rule rewards, exactly what
 * {@code rollstream run} does (actors, scorer and learner in one process over Kafka, {@link LocalRun}),
 * run in {@code <pipelineDir>/reasoning-rl/run}.
 *
 * <p>Artifacts: {@code base} ({@code base.safetensors}, the initialisation the cold start started
 * from, {@link DjlPolicy#initialWeights} with the learner's seed) and {@code policy}
 * ({@code policy.safetensors}, the weights after the last GRPO step, taken from the learner's final
 * checkpoint); both carry their spec. Metrics: {@link PolicyEvaluation}'s figures on the held-out
 * problems of the pipeline's seed, and {@code seconds}.
 */
public final class ReasoningRlStage implements Stage {
    public static final String NAME = "reasoning-rl";
    /** The policy name on {@code policy.versions}, so this stage's actors follow only its weights. */
    static final String POLICY = "reasoning-rl";

    /**
     * Sizes and settings of the stage; {@link #defaults()} is {@code rollstream run}'s defaults.
     *
     * @param task          built-in reasoning task
     * @param preset        model preset
     * @param sftSteps      cold-start SFT steps (batch 32, peak rate 2e-3)
     * @param grpoSteps     GRPO steps
     * @param groupsPerStep B
     * @param groupSize     G, completions per prompt
     * @param evalSize      held-out problems, for the learner's evaluations and the stage's metrics
     * @param maxNewTokens  completion budget of actors and evaluation
     * @param actors        actor threads
     */
    public record Settings(String task, String preset, int sftSteps, int grpoSteps, int groupsPerStep, int groupSize,
                           int evalSize, int maxNewTokens, int actors) {
        public Settings {
            if (sftSteps < 0 || grpoSteps < 0 || groupsPerStep < 1 || groupSize < 1 || evalSize < 1 || maxNewTokens < 1
                    || actors < 1) {
                throw new PipelineException("reasoning-rl settings out of range: " + this);
            }
        }

        public static Settings defaults() {
            return new Settings("arithmetic", "tiny", 2000, 60, 8, 8, 200, PolicyEvaluation.MAX_NEW_TOKENS, 1);
        }

        /** Steps scaled by {@code scale} (1.0: the defaults; 0.3: about two minutes on 2 cores). */
        public Settings scaled(double scale) {
            return new Settings(task, preset, Math.max(50, (int) Math.round(sftSteps * scale)),
                    Math.max(5, (int) Math.round(grpoSteps * scale)), groupsPerStep, groupSize, evalSize, maxNewTokens, actors);
        }
    }

    private final Settings settings;

    /** The defaults, scaled by the context's scale when run. */
    public ReasoningRlStage() {
        this(null);
    }

    /** @param settings fixed settings (not scaled), or null for the defaults scaled by the context */
    public ReasoningRlStage(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public List<String> needs() {
        return List.of();
    }

    /** The settings this stage runs with in {@code context}. */
    public Settings settings(StageContext context) {
        return settings != null ? settings : Settings.defaults().scaled(context.scale());
    }

    @Override
    public StageResult run(StageContext context) throws Exception {
        long t0 = System.nanoTime();
        Settings s = settings(context);
        Path dir = context.stageDir(this);
        ModelSpec spec = ModelSpec.preset(s.preset());
        LearnerConfig config = learnerConfig(s, spec, dir.resolve("run"), context.seed());
        context.out().printf(Locale.ROOT, "[%s] cold-start SFT %d steps, GRPO %d steps (B=%d, G=%d), task %s, in %s%n",
                NAME, s.sftSteps(), s.grpoSteps(), s.groupsPerStep(), s.groupSize(), s.task(), dir.toAbsolutePath());

        // what the learner's DjlPolicy(spec, nd, seed) starts from, before the cold start touches it
        Path base = dir.resolve("base.safetensors");
        WeightSnapshot.write(base, DjlPolicy.initialWeights(spec, config.seed()), spec, 0, 0, false);

        ActorConfig actor = ActorConfig.defaults(NAME + "-actor").withPolicyName(POLICY)
                .withSampling(s.groupSize(), 1.0f, 1.0f, s.maxNewTokens()).withSeed(context.seed());
        ScorerConfig scorer = ScorerConfig.defaults(NAME + "-scorer").withMaxNewTokens(s.maxNewTokens())
                .withGroupSize(s.groupSize());
        LocalRun.Result r = LocalRun.run(context.kafka(), config, actor, s.actors(), scorer, 4, context.out(),
                Duration.ofSeconds(10), false);
        if (!r.learner().complete()) {
            throw new PipelineException("reasoning-rl stopped at GRPO step " + r.learner().steps() + " of " + s.grpoSteps()
                    + "; run the stage again to resume from its checkpoint");
        }
        Checkpoints.Loaded last = new Checkpoints(config.checkpointsDir()).latest()
                .orElseThrow(() -> new PipelineException("reasoning-rl finished without a checkpoint in " + config.checkpointsDir()));
        Weights finalWeights = last.policy();
        Path policy = dir.resolve("policy.safetensors");
        WeightSnapshot.write(policy, finalWeights, spec, last.state().version(), last.state().step(), false);

        PolicyEvaluation.Result e = PolicyEvaluation.evaluate(finalWeights, spec,
                PolicyEvaluation.heldOut(s.task(), context.seed(), s.evalSize()), s.maxNewTokens());
        Map<String, Double> metrics = new LinkedHashMap<>(e.metrics());
        metrics.put("cold-start-accuracy", r.learner().coldStartAccuracy());
        metrics.put("grpo-steps", (double) r.learner().steps());
        metrics.put(Metrics.SECONDS, (System.nanoTime() - t0) / 1e9);
        context.out().printf(Locale.ROOT, "[%s] held-out accuracy %.1f%% (after cold start %.1f%%), format %.1f%%, %.1f tokens, %.0f s%n",
                NAME, 100 * e.accuracy(), 100 * r.learner().coldStartAccuracy(), 100 * e.formatRate(), e.responseTokens(),
                metrics.get(Metrics.SECONDS));
        return new StageResult(NAME, Map.of(StageResult.BASE, base, StageResult.POLICY, policy), metrics);
    }

    /** {@code rollstream run}'s learner configuration with this stage's sizes. */
    static LearnerConfig learnerConfig(Settings s, ModelSpec spec, Path runDir, long seed) {
        GrpoConfig grpo = GrpoConfig.builder().groupsPerStep(s.groupsPerStep()).maxStaleness(1).build();
        return new LearnerConfig(runDir, NAME, POLICY, spec, s.task(), seed,
                new ColdStart(s.sftSteps(), 32, 2e-3, 0.05, 0.55, 0.0), grpo, s.grpoSteps(), 5, s.evalSize(), 20,
                s.maxNewTokens(), 120_000, null, null);
    }
}
