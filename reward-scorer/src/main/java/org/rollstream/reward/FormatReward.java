package org.rollstream.reward;

import org.rollstream.tasks.Answers;

import java.util.List;

/**
 * 1.0 when the completion is exactly {@code <think>…</think><answer>…</answer>} and nothing after,
 * else 0.0 (no partial credit, so emitting tags alone earns nothing). Tolerated: whitespace before
 * {@code <think>}, between {@code </think>} and {@code <answer>}, and after {@code </answer>}. The
 * reasoning may be empty; the answer must not be blank; neither part may contain any of the four
 * tags. Plain string scanning, no regex: a long completion must not overflow the regex stack.
 */
public final class FormatReward implements RewardFunction {

    public static final String NAME = "format";
    private static final List<String> TAGS = List.of(Answers.THINK, Answers.THINK_END, Answers.ANSWER, Answers.ANSWER_END);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public double score(RewardInput in) {
        return wellFormed(in.completion()) ? 1.0 : 0.0;
    }

    static boolean wellFormed(String completion) {
        String s = completion.strip();
        if (!s.startsWith(Answers.THINK) || !s.endsWith(Answers.ANSWER_END)) {
            return false;
        }
        int thinkEnd = s.indexOf(Answers.THINK_END, Answers.THINK.length());
        if (thinkEnd < 0) {
            return false;
        }
        String think = s.substring(Answers.THINK.length(), thinkEnd);
        String rest = s.substring(thinkEnd + Answers.THINK_END.length()).stripLeading();
        if (!rest.startsWith(Answers.ANSWER) || rest.length() < Answers.ANSWER.length() + Answers.ANSWER_END.length()) {
            return false;
        }
        String answer = rest.substring(Answers.ANSWER.length(), rest.length() - Answers.ANSWER_END.length());
        return !answer.isBlank() && noTags(think) && noTags(answer);
    }

    private static boolean noTags(String s) {
        for (String t : TAGS) {
            if (s.contains(t)) {
                return false;
            }
        }
        return true;
    }
}
