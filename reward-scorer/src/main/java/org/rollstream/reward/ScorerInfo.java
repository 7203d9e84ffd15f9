package org.rollstream.reward;

/**
 * How a group was scored, stamped on scored records: a name, the version of the rule semantics,
 * and the reward weights plus advantage mode as text. Bump {@link #RULES_VERSION} whenever a
 * built-in reward changes what it returns, so old and new scores can be told apart on replay.
 */
public record ScorerInfo(String name, String version, String config) {

    public static final String NAME = "rollstream-rules";
    public static final String RULES_VERSION = "1";

    public static ScorerInfo of(CompositeReward reward, GroupAdvantages advantages) {
        return new ScorerInfo(NAME, RULES_VERSION, reward.config() + ";" + advantages);
    }
}
