package org.rollstream.learner;

import java.util.ArrayList;
import java.util.List;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;

/** Wire record to trainer input. */
final class GroupConversion {
    private GroupConversion() {
    }

    /** @throws IllegalArgumentException for a malformed group (sizes that do not line up) */
    static TrainingGroup toTrainingGroup(ScoredGroup sg) {
        SampledGroup g = sg.getGroup();
        if (g.getCompletions().size() != sg.getScores().size()) {
            throw new IllegalArgumentException("group " + g.getGroupId() + " has " + g.getCompletions().size()
                    + " completions but " + sg.getScores().size() + " scores");
        }
        if (g.getPromptTokenIds().isEmpty()) {
            throw new IllegalArgumentException("group " + g.getGroupId() + " carries no prompt token ids");
        }
        List<int[]> tokens = new ArrayList<>();
        List<float[]> logps = new ArrayList<>();
        double[] rewards = new double[g.getCompletions().size()];
        double[] adv = new double[rewards.length];
        for (int i = 0; i < rewards.length; i++) {
            Completion c = g.getCompletions().get(i);
            tokens.add(c.getTokenIds().stream().mapToInt(Integer::intValue).toArray());
            float[] lp = new float[c.getLogProbs().size()];
            for (int j = 0; j < lp.length; j++) {
                lp[j] = c.getLogProbs().get(j);
            }
            logps.add(lp);
            rewards[i] = sg.getScores().get(i).getTotal();
            adv[i] = sg.getScores().get(i).getAdvantage();
        }
        int[] prompt = g.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
        return new TrainingGroup(g.getGroupId(), g.getPolicyVersion(), prompt, tokens, logps, rewards, adv);
    }
}
