package org.rollstream.launcher;

import org.rollstream.actor.ActorConfig;
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

    @Option(names = "--prompts-per-batch", defaultValue = "8", description = "Prompts an actor samples together (default: ${DEFAULT-VALUE}).")
    int promptsPerBatch;

    @Option(names = "--device", defaultValue = "cpu", description = "Actor device: cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--rewards", defaultValue = "accuracy=1.0,format=0.1",
            description = "Reward weights, name=weight[,...]; built-ins: accuracy, format, language, length (default: ${DEFAULT-VALUE}).")
    String rewards;

    @Option(names = "--advantage", defaultValue = "grpo", description = "Group advantage: grpo (divide by the group std) or dr-grpo (default: ${DEFAULT-VALUE}).")
    String advantage;

    ActorConfig actorConfig(String actorId, String policyName, int maxNewTokens, long seed) {
        return ActorConfig.defaults(actorId).withPolicyName(policyName)
                .withSampling(groupSize, temperature, topP, maxNewTokens)
                .withPromptsPerBatch(promptsPerBatch).withDevice(device).withSeed(seed);
    }

    ScorerConfig scorerConfig(String instanceId, int maxNewTokens) {
        return ScorerConfig.defaults(instanceId).withRewards(rewards)
                .withAdvantageMode(GroupAdvantages.parseMode(advantage)).withMaxNewTokens(maxNewTokens);
    }

    /** Fails fast on a bad reward spec, before anything starts. */
    void validate() {
        new CompositeReward(RewardConfig.parse(rewards)); // unknown reward names fail here
        GroupAdvantages.parseMode(advantage);
    }
}
