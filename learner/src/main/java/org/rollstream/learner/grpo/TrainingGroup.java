package org.rollstream.learner.grpo;

import java.util.List;

/**
 * One scored group as the trainer needs it: token ids, behaviour log-probs and advantages,
 * independent of the wire format.
 *
 * @param promptTokens   the prompt as the actor fed it ({@code <bos>} included)
 * @param completions    generated token ids per completion ({@code <eos>} included when it stopped)
 * @param behaviourLogProbs log-probs the actor's policy gave each generated token
 * @param rewards        total reward per completion
 * @param advantages     group-relative advantage per completion
 */
public record TrainingGroup(String groupId, long policyVersion, int[] promptTokens, List<int[]> completions,
                            List<float[]> behaviourLogProbs, double[] rewards, double[] advantages) {
    public TrainingGroup {
        if (completions.size() != advantages.length || completions.size() != rewards.length
                || completions.size() != behaviourLogProbs.size()) {
            throw new IllegalArgumentException("group " + groupId + ": " + completions.size() + " completions but "
                    + rewards.length + " rewards, " + advantages.length + " advantages, "
                    + behaviourLogProbs.size() + " log-prob rows");
        }
        for (int i = 0; i < completions.size(); i++) {
            if (completions.get(i).length != behaviourLogProbs.get(i).length) {
                throw new IllegalArgumentException("group " + groupId + " completion " + i + ": "
                        + completions.get(i).length + " tokens but " + behaviourLogProbs.get(i).length + " log-probs");
            }
        }
    }

    public int size() {
        return completions.size();
    }

    public double meanReward() {
        double s = 0;
        for (double r : rewards) {
            s += r;
        }
        return rewards.length == 0 ? 0 : s / rewards.length;
    }
}
