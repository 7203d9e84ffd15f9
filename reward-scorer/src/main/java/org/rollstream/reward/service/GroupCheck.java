package org.rollstream.reward.service;

import java.util.List;

import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.errors.BadRecordException;

/**
 * Checks a decoded {@link SampledGroup} before it is scored, so nothing invalid reaches the
 * learner: a prompt of a known task, prompt tokens, the expected number of completions, and per
 * completion tokens with one finite behaviour log-prob each. A group that fails goes to
 * {@code rollouts.sampled.dlq} with the reason.
 */
final class GroupCheck {
    /** Log-probs are at most 0; float rounding of log(1) may leave a hair above it. */
    private static final float MAX_LOG_PROB = 1e-3f;

    private final TaskRegistry tasks;
    private final int groupSize;

    /** @param groupSize completions every group must have; 0 = any positive number */
    GroupCheck(TaskRegistry tasks, int groupSize) {
        this.tasks = tasks;
        this.groupSize = groupSize;
    }

    /** @throws BadRecordException naming the group and what is wrong with it */
    void check(SampledGroup g) {
        String id = g.getGroupId() == null || g.getGroupId().toString().isBlank() ? null : g.getGroupId().toString();
        if (id == null) {
            throw new BadRecordException("group has an empty id");
        }
        if (g.getPrompt() == null || g.getPrompt().getId() == null || g.getPrompt().getId().toString().isBlank()) {
            throw new BadRecordException("group " + id + " has no prompt id");
        }
        String task = g.getPrompt().getTask() == null ? "" : g.getPrompt().getTask().toString();
        if (tasks.find(task).isEmpty()) {
            throw new BadRecordException("group " + id + ": unknown task '" + task + "' (known: "
                    + String.join(", ", tasks.names()) + ")");
        }
        if (g.getPromptTokenIds() == null || g.getPromptTokenIds().isEmpty()) {
            throw new BadRecordException("group " + id + " has no prompt token ids");
        }
        checkIds(id, "prompt", g.getPromptTokenIds());
        List<Completion> cs = g.getCompletions();
        if (cs == null || cs.isEmpty()) {
            throw new BadRecordException("group " + id + " has no completions");
        }
        if (groupSize > 0 && cs.size() != groupSize) {
            throw new BadRecordException("group " + id + " has " + cs.size() + " completions, expected G = " + groupSize);
        }
        for (int i = 0; i < cs.size(); i++) {
            checkCompletion(id, i, cs.get(i));
        }
    }

    private static void checkCompletion(String id, int i, Completion c) {
        String which = "group " + id + " completion " + i;
        int tokens = c.getTokenIds() == null ? 0 : c.getTokenIds().size();
        if (tokens == 0) {
            throw new BadRecordException(which + " has no tokens");
        }
        checkIds(id, "completion " + i, c.getTokenIds());
        int logProbs = c.getLogProbs() == null ? 0 : c.getLogProbs().size();
        if (tokens != logProbs) {
            throw new BadRecordException(which + " has " + tokens + " token ids but " + logProbs + " log-probs");
        }
        checkLogProbs(which, "log-prob", c.getLogProbs());
        List<Float> policy = c.getPolicyLogProbs();
        if (policy != null && !policy.isEmpty()) { // optional: empty in records written before it existed
            if (policy.size() != tokens) {
                throw new BadRecordException(which + " has " + tokens + " token ids but " + policy.size() + " policy log-probs");
            }
            checkLogProbs(which, "policy log-prob", policy);
        }
        if (c.getText() == null) {
            throw new BadRecordException(which + " has no text");
        }
    }

    private static void checkLogProbs(String which, String kind, List<Float> values) {
        for (int k = 0; k < values.size(); k++) {
            Float v = values.get(k);
            if (v == null || !Float.isFinite(v) || v > MAX_LOG_PROB) {
                throw new BadRecordException(which + " has " + kind + " " + v + " at token " + k + " (must be finite and <= 0)");
            }
        }
    }

    private static void checkIds(String id, String where, List<Integer> ids) {
        for (Integer t : ids) {
            if (t == null || t < 0) {
                throw new BadRecordException("group " + id + " " + where + " has token id " + t);
            }
        }
    }
}
