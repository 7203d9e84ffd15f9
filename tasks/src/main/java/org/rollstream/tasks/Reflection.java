package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * The check-step grammar shared by reflective cold-start traces and the reflection reward. Inside
 * {@code <think>}, words are separated by whitespace; a check step starts with the word
 * {@code check:} and runs to the next {@code check:} or the end of the reasoning:
 * <pre>
 *   check: CLAIM ok                      the candidate answer is right
 *   check: CLAIM no [WORK ...] FIXED     the candidate is wrong; FIXED (the last word) is the answer
 * </pre>
 * {@code CLAIM} is one word: the candidate answer as it would appear in {@code <answer>},
 * optionally preceded by the prompt itself when the prompt has no spaces (arithmetic:
 * {@code check: 37+48=95 no 7+8=15 3+4+1=8 85}). Words between {@code no} and {@code FIXED} are the
 * redone reasoning and are not judged. Every character used is in the character model's alphabet.
 * <p>
 * This class only reads and writes the grammar; whether a check is <em>true</em> is decided by the
 * task's verifier ({@link #holds}).
 */
public final class Reflection {

    public static final String CHECK = "check:";
    public static final String OK = "ok";
    public static final String NO = "no";

    private Reflection() {
    }

    /**
     * One parsed check step.
     *
     * @param candidate  the answer under check (prompt prefix removed)
     * @param confirmed  true for {@code ok}, false for {@code no}
     * @param correction the fixed answer after {@code no}; empty for {@code ok}
     */
    public record Check(String candidate, boolean confirmed, String correction) {

        /** The answer this check concludes with: the candidate when confirmed, else the correction. */
        public String conclusion() {
            return confirmed ? candidate : correction;
        }
    }

    /**
     * The check steps in {@code think}, in order. A step that does not follow the grammar (no claim,
     * a verdict other than {@code ok}/{@code no}, {@code no} without a fixed answer) is returned as
     * empty, so a caller can refuse credit for it rather than skip it.
     */
    public static List<Optional<Check>> parse(String think, String prompt) {
        List<Optional<Check>> out = new ArrayList<>();
        String[] words = think.strip().split("\\s+");
        int i = 0;
        while (i < words.length && !words[i].equals(CHECK)) {
            i++;
        }
        while (i < words.length) {
            int end = i + 1;
            while (end < words.length && !words[end].equals(CHECK)) {
                end++;
            }
            out.add(parseStep(words, i + 1, end, prompt));
            i = end;
        }
        return out;
    }

    private static Optional<Check> parseStep(String[] w, int from, int to, String prompt) {
        if (to - from < 2) {
            return Optional.empty();
        }
        String claim = w[from];
        if (!prompt.isEmpty() && claim.startsWith(prompt) && claim.length() > prompt.length()) {
            claim = claim.substring(prompt.length());
        }
        if (w[from + 1].equals(OK)) {
            return Optional.of(new Check(claim, true, ""));
        }
        if (w[from + 1].equals(NO) && to - from >= 3) {
            return Optional.of(new Check(claim, false, w[to - 1]));
        }
        return Optional.empty();
    }

    /**
     * Whether {@code check} is true by the task's verifier: an {@code ok} on an accepted candidate,
     * or a {@code no} on a rejected candidate whose correction is accepted.
     */
    public static boolean holds(Task task, TaskInstance instance, Check check) {
        boolean candidateRight = task.isCorrect(instance, check.candidate());
        return check.confirmed() ? candidateRight : !candidateRight && task.isCorrect(instance, check.correction());
    }

    /** The reasoning between the first {@code <think>} and the following {@code </think>}; empty when absent. */
    public static Optional<String> think(String completion) {
        int start = completion.indexOf(Answers.THINK);
        if (start < 0) {
            return Optional.empty();
        }
        int end = completion.indexOf(Answers.THINK_END, start + Answers.THINK.length());
        return end < 0 ? Optional.empty() : Optional.of(completion.substring(start + Answers.THINK.length(), end));
    }

    /**
     * A reflective trace: a flawed first attempt (its answer wrong), a check that catches it, the
     * reasoning redone, and the right answer:
     * {@code <think>7+8=15 3+4+1=9 check: 37+48=95 no 7+8=15 3+4+1=8 85</think><answer>85</answer>}.
     *
     * @throws IllegalStateException when the task's flawed trace happens to be right (a task bug)
     */
    public static String trace(Task task, TaskInstance instance, Random rnd) {
        String flawed = task.trace(instance, false, rnd);
        String right = task.trace(instance, true, rnd);
        String wrongAnswer = Answers.extract(flawed).orElseThrow();
        String rightAnswer = Answers.extract(right).orElseThrow();
        if (task.isCorrect(instance, wrongAnswer)) {
            throw new IllegalStateException(task.name() + " wrote a flawed trace with a right answer for " + instance.text());
        }
        StringBuilder think = new StringBuilder(think(flawed).orElse("").strip());
        think.append(think.length() == 0 ? "" : " ").append(CHECK).append(' ')
                .append(restatesPrompt(instance.text()) ? instance.text() : "").append(wrongAnswer).append(' ').append(NO);
        String redo = think(right).orElse("").strip();
        if (!redo.isEmpty()) {
            think.append(' ').append(redo);
        }
        think.append(' ').append(rightAnswer);
        return Answers.format(think.toString(), rightAnswer);
    }

    /** Short prompts that end in {@code =} read naturally as the claim's left side ({@code 37+48=95}). */
    private static boolean restatesPrompt(String prompt) {
        return prompt.endsWith("=") && prompt.length() <= 16 && prompt.chars().noneMatch(Character::isWhitespace);
    }
}
