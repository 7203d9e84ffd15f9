package org.rollstream.learner;

import java.nio.file.Path;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;

/**
 * Everything a learner run is configured by; recorded in each checkpoint for provenance.
 *
 * @param runDir           weights, checkpoints and metrics go here
 * @param runId            prefix of prompt ids; groups of other runs on a shared cluster are ignored
 * @param policyName       key of {@code policy.versions}
 * @param spec             model architecture
 * @param task             built-in task name
 * @param seed             seeds the model init, the data order and the cold start
 * @param coldStart        the cold-start SFT stage
 * @param grpo             GRPO hyper-parameters
 * @param grpoSteps        GRPO optimizer steps to run
 * @param evalEvery        held-out evaluation every N GRPO steps (and at the start and the end)
 * @param evalSize         held-out problems per evaluation
 * @param checkpointEvery  checkpoint every N GRPO steps (and at the end)
 * @param maxNewTokens     completion length limit, for evaluation (actors have their own)
 * @param promptTimeoutMs  an issued prompt with no scored group after this long is counted lost,
 *                         so a dead-lettered prompt cannot stall the feeder forever
 * @param initWeights      start GRPO from this snapshot instead of a cold start (null: cold start)
 * @param dataset          a JSONL file of the user's problems instead of the built-in task (null: built-in)
 * @param compute          device, matmul precision and micro-batch size (null: {@link LearnerCompute#defaults()})
 */
public record LearnerConfig(Path runDir, String runId, String policyName, ModelSpec spec, String task, long seed,
                            ColdStart coldStart, GrpoConfig grpo, int grpoSteps,
                            int evalEvery, int evalSize, int checkpointEvery, int maxNewTokens, long promptTimeoutMs,
                            Path initWeights, Path dataset, LearnerCompute compute) {
    public LearnerConfig {
        if (compute == null) {
            compute = LearnerCompute.defaults();
        }
        require(runDir != null, "a run directory is required");
        require(runId != null && !runId.isBlank() && !runId.contains("/"), "run id must be a non-empty name without '/'");
        require(coldStart != null, "a cold-start setting is required (ColdStart.none() for none)");
        require(grpoSteps >= 0, "GRPO steps must be at least 0, got " + grpoSteps);
        require(evalEvery >= 1, "eval-every must be at least 1, got " + evalEvery);
        require(evalSize >= 1, "eval size must be at least 1, got " + evalSize);
        require(checkpointEvery >= 1, "checkpoint-every must be at least 1, got " + checkpointEvery);
        require(maxNewTokens >= 1, "max new tokens must be at least 1, got " + maxNewTokens);
        require(promptTimeoutMs > 0, "prompt timeout must be positive");
        require(initWeights == null || java.nio.file.Files.isReadable(initWeights),
                "initial weights " + initWeights + " are not a readable file");
        require(dataset == null || java.nio.file.Files.isReadable(dataset), "dataset " + dataset + " is not a readable file");
    }

    /** The configuration with the default compute settings (CPU, fp32, one pass per mini-batch). */
    public LearnerConfig(Path runDir, String runId, String policyName, ModelSpec spec, String task, long seed,
                         ColdStart coldStart, GrpoConfig grpo, int grpoSteps,
                         int evalEvery, int evalSize, int checkpointEvery, int maxNewTokens, long promptTimeoutMs,
                         Path initWeights, Path dataset) {
        this(runDir, runId, policyName, spec, task, seed, coldStart, grpo, grpoSteps, evalEvery, evalSize, checkpointEvery,
                maxNewTokens, promptTimeoutMs, initWeights, dataset, LearnerCompute.defaults());
    }

    public LearnerConfig withCompute(LearnerCompute c) {
        return new LearnerConfig(runDir, runId, policyName, spec, task, seed, coldStart, grpo,
                grpoSteps, evalEvery, evalSize, checkpointEvery, maxNewTokens, promptTimeoutMs, initWeights, dataset, c);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    public LearnerConfig withRunDir(Path dir, String id) {
        return new LearnerConfig(dir, id, policyName, spec, task, seed, coldStart, grpo,
                grpoSteps, evalEvery, evalSize, checkpointEvery, maxNewTokens, promptTimeoutMs, initWeights, dataset, compute);
    }

    public LearnerConfig withGrpo(GrpoConfig g) {
        return new LearnerConfig(runDir, runId, policyName, spec, task, seed, coldStart, g,
                grpoSteps, evalEvery, evalSize, checkpointEvery, maxNewTokens, promptTimeoutMs, initWeights, dataset, compute);
    }

    public Path weightsDir() {
        return runDir.resolve("weights");
    }

    public Path checkpointsDir() {
        return runDir.resolve("checkpoints");
    }

    public Path metricsCsv() {
        return runDir.resolve("metrics.csv");
    }
}
