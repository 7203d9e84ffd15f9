package org.rollstream.tasks;

import java.util.Optional;

/** The completion format shared by traces, rewards and evaluation: {@code <think>…</think><answer>…</answer>}. */
public final class Answers {

    public static final String THINK = "<think>";
    public static final String THINK_END = "</think>";
    public static final String ANSWER = "<answer>";
    public static final String ANSWER_END = "</answer>";

    private Answers() {
    }

    /**
     * The stripped text inside the last complete {@code <answer>…</answer>}, or empty when there is
     * none. An unclosed trailing {@code <answer>} (a truncated completion) does not count.
     */
    public static Optional<String> extract(String completion) {
        if (completion == null) {
            return Optional.empty();
        }
        int end = completion.lastIndexOf(ANSWER_END);
        if (end < 0) {
            return Optional.empty();
        }
        int start = completion.lastIndexOf(ANSWER, end);
        if (start < 0) {
            return Optional.empty();
        }
        return Optional.of(completion.substring(start + ANSWER.length(), end).strip());
    }

    /** Writes a completion in the canonical format. */
    public static String format(String think, String answer) {
        return THINK + think + THINK_END + ANSWER + answer + ANSWER_END;
    }

    /**
     * True when {@code given} matches {@code expected} exactly after stripping surrounding
     * whitespace, or both parse as the same number ({@code 85 = 85.0}, {@code -3 = −3},
     * {@code 1/2 = 0.5}, {@code 1,234 = 1234}).
     */
    public static boolean equivalent(String given, String expected) {
        if (given == null || expected == null) {
            return false;
        }
        if (given.strip().equals(expected.strip())) {
            return true;
        }
        Optional<Rational> a = Rational.parse(given);
        return a.isPresent() && a.equals(Rational.parse(expected));
    }
}
