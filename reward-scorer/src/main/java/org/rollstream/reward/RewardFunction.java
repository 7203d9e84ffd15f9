package org.rollstream.reward;

import java.util.Map;

/**
 * A reward for one completion. Implementations are discovered with {@link java.util.ServiceLoader}
 * (list them in {@code META-INF/services/org.rollstream.reward.RewardFunction}) and need a public
 * no-argument constructor. They must be pure and thread-safe. Throwing is allowed and is never
 * turned into a zero: {@link CompositeReward} reports it as a {@link RewardException}. Rewards that
 * score a whole group in one call (HTTP endpoints, reward models, topic components) implement
 * {@link GroupRewardFunction}.
 */
public interface RewardFunction {

    /** The name used in reward configurations, e.g. {@code accuracy}. */
    String name();

    double score(RewardInput in);

    /**
     * This function configured with options from a {@link RewardConfig} ({@code length.buffer=64}
     * gives {@code {buffer=64}}). The default accepts none.
     *
     * @throws IllegalArgumentException for an option the function does not know
     */
    default RewardFunction withOptions(Map<String, String> options) {
        if (!options.isEmpty()) {
            throw new IllegalArgumentException("reward '" + name() + "' takes no options, got " + options.keySet());
        }
        return this;
    }
}
