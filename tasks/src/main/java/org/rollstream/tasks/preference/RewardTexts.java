package org.rollstream.tasks.preference;

import org.rollstream.tasks.Answers;

/**
 * The texts a reward model reads, shared by its training and by the scorer so both see the same
 * thing: helpfulness reads the prompt and the final answer only (so it never steers the reasoning),
 * harmlessness reads the prompt and the whole response, reasoning included.
 */
public final class RewardTexts {

    private RewardTexts() {
    }

    /** {@code prompt + <answer>answer</answer>}; an empty answer when the completion has none. */
    public static String helpfulness(String prompt, String completion) {
        return prompt + Answers.ANSWER + Answers.extract(completion).orElse("") + Answers.ANSWER_END;
    }

    /** {@code prompt + completion}. */
    public static String harmlessness(String prompt, String completion) {
        return prompt + completion;
    }

    /** The text {@code aspect}'s head reads ({@link Aspect#BOTH} has none of its own). */
    public static String of(Aspect aspect, String prompt, String completion) {
        return switch (aspect) {
            case HELPFULNESS -> helpfulness(prompt, completion);
            case HARMLESSNESS -> harmlessness(prompt, completion);
            case BOTH -> throw new IllegalArgumentException("aspect both has two texts");
        };
    }
}
