package org.rollstream.reward;

import java.util.List;

/** Scores the G completions of one prompt and derives their advantages: the pure core of the scorer service. */
public final class GroupScorer {

    /** Per-completion scores, in input order, with their advantages. */
    public record GroupScore(List<RewardScore> scores, double[] advantages) {
        public GroupScore {
            scores = List.copyOf(scores);
            advantages = advantages.clone();
        }

        @Override
        public double[] advantages() {
            return advantages.clone();
        }

        public double[] totals() {
            return scores.stream().mapToDouble(RewardScore::total).toArray();
        }

        /** No learning signal: the learner may skip this group (dynamic sampling). */
        public boolean allEqual() {
            return GroupAdvantages.allEqual(totals());
        }
    }

    private final CompositeReward reward;
    private final GroupAdvantages advantages;

    public GroupScorer(CompositeReward reward, GroupAdvantages advantages) {
        this.reward = reward;
        this.advantages = advantages;
    }

    public ScorerInfo info() {
        return ScorerInfo.of(reward, advantages);
    }

    /**
     * @throws RewardException            when any completion's reward fails; the group should go to the dead-letter topic
     * @throws RewardUnavailableException when an external reward cannot answer now; the group should be retried later
     */
    public GroupScore score(List<RewardInput> completions) {
        List<RewardScore> scores = reward.scoreGroup(completions);
        double[] totals = scores.stream().mapToDouble(RewardScore::total).toArray();
        return new GroupScore(scores, advantages.compute(totals));
    }
}
