package org.rollstream.launcher;

import org.rollstream.actor.ActorConfig;
import org.rollstream.actor.SamplerChoice;
import org.rollstream.actor.SamplerWeights;
import org.rollstream.reward.CompositeReward;
import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.RewardConfig;
import org.rollstream.reward.service.ScorerConfig;
import picocli.CommandLine.Option;

/** Actor and scorer options, shared by {@code run}, {@code actor} and {@code scorer}. */
final class RoleOptions {
    @Option(names = {"-G", "--group-size"}, defaultValue = "8", description = "Completions sampled per prompt (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--temperature", defaultValue = "1.0", description = "Sampling temperature (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1.0", description = "Nucleus sampling threshold (default: ${DEFAULT-VALUE}).")
    float topP;

    @Option(names = "--top-k", defaultValue = "0", description = "Sample among the k most likely tokens only; 0 = all (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--prompts-per-batch", defaultValue = "8", description = "Prompts an actor samples together (default: ${DEFAULT-VALUE}).")
    int promptsPerBatch;

    @Option(names = "--device", defaultValue = "cpu", description = "Actor device: cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--sampler", defaultValue = "auto",
            description = {"Actor decoding loop: graph = the whole loop inside one ONNX Runtime call per batch (fused graphs on",
                    "CUDA; top-p without top-k searches the nucleus among the 4,096 likeliest tokens; rows decode until the",
                    "whole batch stops); host = one call per token, sampling on the host (the reference; finished rows leave",
                    "the batch); auto = graph, on CUDA and on the CPU (measured faster or even there: policy/README.md, Actors)",
                    "(default: ${DEFAULT-VALUE})."})
    String sampler;

    @Option(names = "--actor-fp16", description = "Actor runs the policy in float16 (CUDA devices only).")
    boolean actorFp16;

    @Option(names = "--sampler-weights", defaultValue = "auto",
            description = {"How the in-graph sampler takes each new weights version: initializers = a session built per",
                    "version; inputs = one session per actor fed the version's weights at every batch (no session build at a",
                    "hand-over; each batch copies the weights to the device); auto = inputs on CUDA, initializers on the CPU",
                    "(default: ${DEFAULT-VALUE})."})
    String samplerWeights;

    @Option(names = "--rewards", defaultValue = "accuracy=1.0,format=0.1",
            description = "Reward weights, name=weight[,...]; built-ins: accuracy, format, language, length, reflection, readability (default: ${DEFAULT-VALUE}).")
    String rewards;

    @Option(names = "--advantage", defaultValue = "grpo", description = "Group advantage: grpo (divide by the group std) or dr-grpo (default: ${DEFAULT-VALUE}).")
    String advantage;

    /** @throws UsageException naming the bad setting */
    ActorConfig actorConfig(String actorId, String policyName, int maxNewTokens, long seed) {
        try {
            return ActorConfig.defaults(actorId).withPolicyName(policyName)
                    .withSampling(groupSize, temperature, topP, maxNewTokens).withTopK(topK)
                    .withPromptsPerBatch(promptsPerBatch).withDevice(device).withSeed(seed)
                    .withSampler(SamplerChoice.parse(sampler)).withFp16(actorFp16)
                    .withSamplerWeights(SamplerWeights.parse(samplerWeights));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** A scorer that dead-letters groups of other than {@code -G} completions. @throws UsageException naming the bad setting */
    ScorerConfig scorerConfig(String instanceId, int maxNewTokens) {
        return scorerConfig(instanceId, maxNewTokens, true);
    }

    /**
     * @param enforceGroupSize whether groups must have {@code -G} completions (a standalone scorer
     *                         enforces it only when -G was given: its default need not match the actors')
     * @throws UsageException naming the bad setting
     */
    ScorerConfig scorerConfig(String instanceId, int maxNewTokens, boolean enforceGroupSize) {
        try {
            return ScorerConfig.defaults(instanceId).withRewards(rewards)
                    .withAdvantageMode(GroupAdvantages.parseMode(advantage)).withMaxNewTokens(maxNewTokens)
                    .withGroupSize(enforceGroupSize ? groupSize : 0);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * Checks every option here before anything starts or contacts a broker.
     *
     * @throws UsageException naming the first bad setting
     */
    void validate() {
        actorConfig("validate", ActorConfig.DEFAULT_POLICY, ScorerConfig.DEFAULT_MAX_NEW_TOKENS, 0);
        scorerConfig("validate", ScorerConfig.DEFAULT_MAX_NEW_TOKENS);
        try {
            new CompositeReward(RewardConfig.parse(rewards)); // unknown reward names fail here
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
