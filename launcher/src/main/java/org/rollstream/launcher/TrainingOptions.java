package org.rollstream.launcher;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerCompute;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.LearnerDevice;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.djl.ComputePrecision;
import picocli.CommandLine.Option;

/** The learner's options, shared by {@code run} and {@code learner}. Defaults learn the arithmetic task in minutes on 2 cores. */
final class TrainingOptions {
    @Option(names = "--task", defaultValue = "arithmetic", description = "Built-in task: arithmetic, countdown or logic (default: ${DEFAULT-VALUE}).")
    String task;

    @Option(names = "--dataset", paramLabel = "FILE.jsonl", description = "Train on your own problems: one JSON object per line with \"prompt\" and \"answer\" (optional \"task\", \"reasoning\" and verification fields) instead of --task.")
    Path dataset;

    @Option(names = "--preset", defaultValue = "tiny", description = "Model preset: tiny, student (the distillation student, a fifth of tiny), gpt2-small or gpt2-small-char (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "Where weights, checkpoints, metrics and the report go (default: runs/<time>). An existing run resumes from its latest checkpoint.")
    Path runDir;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the model init, data order and sampling (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--sft-steps", defaultValue = "2000", description = "Cold-start SFT steps; 0 skips the cold start (default: ${DEFAULT-VALUE}).")
    int sftSteps;

    @Option(names = "--sft-batch", defaultValue = "32", description = "Cold-start SFT examples per step (default: ${DEFAULT-VALUE}).")
    int sftBatch;

    @Option(names = "--sft-lr", defaultValue = "2e-3", description = "Cold-start SFT peak learning rate, cosine-decayed (default: ${DEFAULT-VALUE}).")
    double sftLearningRate;

    @Option(names = "--sft-flawed-share", defaultValue = "0.05", description = "Share of cold-start traces with a slipped step or wrong answer (default: ${DEFAULT-VALUE}).")
    double flawedShare;

    @Option(names = "--sft-answer-only-share", defaultValue = "0.55", description = "Share of cold-start traces that give the answer without reasoning (default: ${DEFAULT-VALUE}).")
    double answerOnlyShare;

    @Option(names = "--sft-reflect-share", defaultValue = "0", description = "Share of cold-start traces where a check: step catches a wrong attempt and fixes it (default: ${DEFAULT-VALUE}).")
    double reflectShare;

    @Option(names = "--steps", defaultValue = "60", description = "GRPO steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = {"-B", "--groups-per-step"}, defaultValue = "8", description = "Groups (prompts) per GRPO step (default: ${DEFAULT-VALUE}).")
    int groupsPerStep;

    @Option(names = {"--max-staleness", "--eta"}, defaultValue = "1", description = "η: max policy versions a trained group may lag; 0 is synchronous (default: ${DEFAULT-VALUE}).")
    int maxStaleness;

    @Option(names = "--sampling-lag", defaultValue = "0", description = {"a: updates a prompt's sampler may lag the learner's",
            "newest weights when the prompt is issued, 0 ≤ a ≤ η. Actors then start on new prompts with the weights they",
            "serve instead of waiting for the newest to arrive; the learner keeps (η − a + 1)·B prompts ahead, so no",
            "trained group is older than η (default: ${DEFAULT-VALUE})."})
    int samplingLag;

    @Option(names = "--lr", defaultValue = "1e-4", description = "GRPO AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(names = "--kl-beta", defaultValue = "0.005", description = "β of the k3 KL penalty to the cold-start reference (default: ${DEFAULT-VALUE}).")
    double klBeta;

    @Option(names = "--clip-low", defaultValue = "0.2", description = "ε_low of the clipped surrogate (default: ${DEFAULT-VALUE}).")
    double clipLow;

    @Option(names = "--clip-high", defaultValue = "0.28", description = "ε_high, clip-higher (default: ${DEFAULT-VALUE}).")
    double clipHigh;

    @Option(names = "--importance-cap", defaultValue = "2.0", description = "c of the truncated importance weight min(π_prox/μ, c) against the behaviour policy μ; 0 disables (default: ${DEFAULT-VALUE}).")
    double importanceCap;

    @Option(names = "--mini-batches", paramLabel = "M", defaultValue = "1", description = "PPO mini-batches per step: the step's groups are split into M, one optimizer update each; 1 ≤ M ≤ --groups-per-step (default: ${DEFAULT-VALUE}).")
    int miniBatches;

    @Option(names = "--ppo-epochs", paramLabel = "E", defaultValue = "1", description = "PPO passes over a step's mini-batches; a step makes M·E updates, each clipped against the policy at the step's start (default: ${DEFAULT-VALUE}).")
    int ppoEpochs;

    @Option(names = "--aggregation", defaultValue = "TOKEN_MEAN", description = "Loss aggregation: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    Aggregation aggregation;

    @Option(names = "--no-dynamic-sampling", description = "Train on groups whose rewards are all equal too.")
    boolean noDynamicSampling;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Global gradient-norm clip (default: ${DEFAULT-VALUE}).")
    double maxGradNorm;

    @Option(names = "--publish-every", defaultValue = "1", description = "Publish new weights every k steps (default: ${DEFAULT-VALUE}).")
    int publishEvery;

    @Option(names = "--eval-every", defaultValue = "5", description = "Held-out evaluation every N steps (default: ${DEFAULT-VALUE}).")
    int evalEvery;

    @Option(names = "--eval-size", defaultValue = "200", description = "Held-out problems per evaluation (default: ${DEFAULT-VALUE}).")
    int evalSize;

    @Option(names = "--checkpoint-every", defaultValue = "20", description = "Checkpoint every N steps (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--max-new-tokens", defaultValue = "48", description = "Completion length limit (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(names = "--init-weights", paramLabel = "FILE", description = "Start GRPO from this safetensors snapshot (e.g. a cold start's weights/v000000.safetensors) instead of a cold start.")
    Path initWeights;

    @Option(names = "--learner-device", defaultValue = "cpu", description = "Where the learner's policy, reference model and optimizer state live: cpu or cuda:N; CUDA needs the learner's CUDA build (default: ${DEFAULT-VALUE}).")
    String learnerDevice;

    @Option(names = "--learner-precision", defaultValue = "fp32", description = "Learner compute precision: fp32 or fp16 (forward in fp16 on copies of the fp32 master weights; fp32 gradients and optimizer state, dynamic loss scaling); bf16 is refused, DJL's PyTorch JNI has no bfloat16 (default: ${DEFAULT-VALUE}).")
    String learnerPrecision;

    @Option(names = "--micro-batch-size", defaultValue = "0", description = "Sequences per learner forward/backward pass (cold-start examples too), gradients accumulated to the mini-batch's; 0 = the whole mini-batch in one pass (default: ${DEFAULT-VALUE}).")
    int microBatchSize;

    @Option(names = "--policy-name", defaultValue = "default", description = "Key of the policy on policy.versions (default: ${DEFAULT-VALUE}).")
    String policyName;

    Path resolvedRunDir() {
        if (runDir == null) {
            runDir = Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return runDir;
    }

    ModelSpec spec() {
        ModelSpec spec = ModelSpec.preset(preset);
        if (spec.vocabSize() != CharTokenizer.builtin().vocabSize()) {
            throw new UsageException("preset " + preset + " has a vocabulary of " + spec.vocabSize()
                    + " tokens but the built-in tasks use the character tokenizer (" + CharTokenizer.builtin().vocabSize()
                    + "); train the built-in tasks with --preset tiny");
        }
        return spec;
    }

    GrpoConfig grpo() {
        if (miniBatches < 1) {
            throw new UsageException("--mini-batches must be at least 1, got " + miniBatches);
        }
        if (ppoEpochs < 1) {
            throw new UsageException("--ppo-epochs must be at least 1, got " + ppoEpochs);
        }
        if (miniBatches > groupsPerStep) {
            throw new UsageException("--mini-batches " + miniBatches + " exceeds --groups-per-step " + groupsPerStep
                    + ": a mini-batch holds whole groups");
        }
        return UsageException.config(() -> GrpoConfig.builder().groupsPerStep(groupsPerStep).maxStaleness(maxStaleness).samplingLag(samplingLag).clipLow(clipLow)
                .clipHigh(clipHigh).klBeta(klBeta).importanceCap(importanceCap).aggregation(aggregation)
                .dynamicSampling(!noDynamicSampling).learningRate(learningRate).weightDecay(0.0)
                .maxGradNorm(maxGradNorm).publishEvery(publishEvery).miniBatches(miniBatches).ppoEpochs(ppoEpochs)
                .build());
    }

    /** Device, precision and micro-batch size; a CUDA device the engine does not see is a usage error naming what is missing. */
    LearnerCompute compute() {
        return UsageException.config(() -> {
            LearnerDevice device = LearnerDevice.parse(learnerDevice);
            try {
                device.resolve();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--learner-device " + e.getMessage(), e);
            }
            ComputePrecision precision = ComputePrecision.parse(learnerPrecision);
            if (precision.unsupportedReason() != null) {
                throw new IllegalArgumentException("--learner-precision " + precision + ": " + precision.unsupportedReason());
            }
            if (microBatchSize < 0) {
                throw new IllegalArgumentException("--micro-batch-size must be at least 0 (0 = whole mini-batch), got " + microBatchSize);
            }
            return new LearnerCompute(device, precision, microBatchSize);
        });
    }

    LearnerConfig learnerConfig() {
        Path dir = resolvedRunDir();
        // the run's name; the learner adds a random suffix at the first start and keeps it in <run>/run.json
        String runId = dir.toAbsolutePath().normalize().getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
        return UsageException.config(() -> new LearnerConfig(dir, runId, policyName, spec(), task, seed,
                new ColdStart(sftSteps, sftBatch, sftLearningRate, flawedShare, answerOnlyShare, reflectShare),
                grpo(), steps, evalEvery, evalSize, checkpointEvery, maxNewTokens, 120_000, initWeights, dataset, compute()));
    }
}
