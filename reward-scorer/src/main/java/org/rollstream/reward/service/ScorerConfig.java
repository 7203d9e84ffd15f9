package org.rollstream.reward.service;

import java.util.Objects;

import org.rollstream.reward.GroupAdvantages;
import org.rollstream.reward.RewardConfig;

/**
 * Settings of one scorer instance.
 *
 * @param instanceId     instance name: Kafka client id and the {@code failedBy} of its dead letters
 * @param consumerGroup  Kafka group shared by all scorers, so they split {@code rollouts.sampled} by partition
 * @param rewards        reward weights and options
 * @param advantageMode  group std normalisation (GRPO) or mean-centring only (Dr. GRPO)
 * @param maxNewTokens   the actors' generation budget, for the overlong penalty (the records do not carry it)
 * @param targetLanguage script or language for the language-consistency reward; empty = not set
 * @param groupSize      G, the completions every group must have (others are dead-lettered); 0 = any
 */
public record ScorerConfig(String instanceId, String consumerGroup, RewardConfig rewards,
                           GroupAdvantages.Mode advantageMode, int maxNewTokens, String targetLanguage, int groupSize) {
    public static final String DEFAULT_GROUP = "rollstream-scorers";
    /** Accuracy decides; format is a small nudge towards parseable answers. */
    public static final String DEFAULT_REWARDS = "accuracy=1.0,format=0.1";
    public static final int DEFAULT_MAX_NEW_TOKENS = 48;

    public ScorerConfig {
        if (instanceId == null || instanceId.isBlank()) {
            throw new IllegalArgumentException("scorer instanceId must not be blank");
        }
        if (consumerGroup == null || consumerGroup.isBlank()) {
            throw new IllegalArgumentException("scorer consumer group must not be blank");
        }
        Objects.requireNonNull(rewards, "reward configuration must be given");
        if (advantageMode == null) {
            throw new IllegalArgumentException("advantage mode must be given (grpo or dr-grpo)");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be at least 1 (the actors' generation budget), got " + maxNewTokens);
        }
        if (groupSize < 0) {
            throw new IllegalArgumentException("groupSize (G) must be at least 1, or 0 for any, got " + groupSize);
        }
        targetLanguage = targetLanguage == null ? "" : targetLanguage.strip();
    }

    /** accuracy=1.0,format=0.1 with GRPO advantages, 48 new tokens, no target language, any group size. */
    public static ScorerConfig defaults(String instanceId) {
        return new ScorerConfig(instanceId, DEFAULT_GROUP, RewardConfig.parse(DEFAULT_REWARDS),
                GroupAdvantages.Mode.GRPO, DEFAULT_MAX_NEW_TOKENS, "", 0);
    }

    public ScorerConfig withConsumerGroup(String group) {
        return new ScorerConfig(instanceId, group, rewards, advantageMode, maxNewTokens, targetLanguage, groupSize);
    }

    /** @param text e.g. {@code accuracy=1.0,format=0.2,length=0.1} */
    public ScorerConfig withRewards(String text) {
        return new ScorerConfig(instanceId, consumerGroup, RewardConfig.parse(text), advantageMode, maxNewTokens, targetLanguage, groupSize);
    }

    public ScorerConfig withAdvantageMode(GroupAdvantages.Mode mode) {
        return new ScorerConfig(instanceId, consumerGroup, rewards, mode, maxNewTokens, targetLanguage, groupSize);
    }

    public ScorerConfig withMaxNewTokens(int n) {
        return new ScorerConfig(instanceId, consumerGroup, rewards, advantageMode, n, targetLanguage, groupSize);
    }

    public ScorerConfig withGroupSize(int g) {
        return new ScorerConfig(instanceId, consumerGroup, rewards, advantageMode, maxNewTokens, targetLanguage, g);
    }

    public ScorerConfig withTargetLanguage(String language) {
        return new ScorerConfig(instanceId, consumerGroup, rewards, advantageMode, maxNewTokens, language, groupSize);
    }
}
