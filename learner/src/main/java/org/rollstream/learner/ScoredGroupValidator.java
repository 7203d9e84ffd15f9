package org.rollstream.learner;

import java.util.ArrayList;
import java.util.List;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.policy.ModelSpec;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Checks a decoded {@link ScoredGroup} before it can reach the trainer and converts it: token ids
 * inside the vocabulary, sequences that fit the context, one score and one log-prob per token where
 * they belong, finite numbers. Anything else is a {@link BadRecordException} naming the first
 * problem, so the group is dead-lettered with that reason instead of failing a training step.
 */
public final class ScoredGroupValidator {
    private final int vocabSize;
    private final int contextLength;

    public ScoredGroupValidator(ModelSpec spec) {
        this.vocabSize = spec.vocabSize();
        this.contextLength = spec.contextLength();
    }

    public TrainingGroup validate(ScoredGroup sg) {
        SampledGroup g = sg.getGroup();
        String id = g.getGroupId().toString();
        List<Completion> completions = g.getCompletions();
        if (completions.isEmpty()) {
            throw bad(id, "has no completions");
        }
        if (completions.size() != sg.getScores().size()) {
            throw bad(id, "has " + completions.size() + " completions but " + sg.getScores().size() + " scores");
        }
        if (g.getPromptTokenIds().isEmpty()) {
            throw bad(id, "carries no prompt token ids");
        }
        if (g.getPolicyVersion() < 0) {
            throw bad(id, "has a negative policy version " + g.getPolicyVersion());
        }
        int[] prompt = tokens(id, "prompt", g.getPromptTokenIds());
        List<int[]> tokens = new ArrayList<>(completions.size());
        List<float[]> logps = new ArrayList<>(completions.size());
        double[] rewards = new double[completions.size()];
        double[] advantages = new double[completions.size()];
        for (int i = 0; i < completions.size(); i++) {
            Completion c = completions.get(i);
            int[] t = tokens(id, "completion " + i, c.getTokenIds());
            if (prompt.length + t.length > contextLength) {
                throw bad(id, "completion " + i + " makes " + (prompt.length + t.length) + " tokens, over the context of "
                        + contextLength);
            }
            if (c.getLogProbs().size() != t.length) {
                throw bad(id, "completion " + i + " has " + t.length + " tokens but " + c.getLogProbs().size() + " log-probs");
            }
            float[] lp = new float[t.length];
            for (int j = 0; j < lp.length; j++) {
                lp[j] = c.getLogProbs().get(j);
                if (!Float.isFinite(lp[j]) || lp[j] > 1e-3f) {
                    throw bad(id, "completion " + i + " token " + j + " has log-prob " + lp[j] + " (must be finite and ≤ 0)");
                }
            }
            CompletionScore s = sg.getScores().get(i);
            if (!Double.isFinite(s.getTotal()) || !Double.isFinite(s.getAdvantage())) {
                throw bad(id, "completion " + i + " has a non-finite reward " + s.getTotal() + " or advantage "
                        + s.getAdvantage());
            }
            tokens.add(t);
            logps.add(lp);
            rewards[i] = s.getTotal();
            advantages[i] = s.getAdvantage();
        }
        return new TrainingGroup(id, g.getPolicyVersion(), prompt, tokens, logps, rewards, advantages);
    }

    private int[] tokens(String id, String what, List<Integer> ids) {
        int[] out = new int[ids.size()];
        for (int j = 0; j < out.length; j++) {
            int t = ids.get(j);
            if (t < 0 || t >= vocabSize) {
                throw bad(id, what + " token " + j + " is id " + t + ", outside the vocabulary of " + vocabSize);
            }
            out[j] = t;
        }
        return out;
    }

    private static BadRecordException bad(String groupId, String what) {
        return new BadRecordException("group " + groupId + " " + what);
    }
}
