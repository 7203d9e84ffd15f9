package org.rollstream.tasks.preference;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.rollstream.tasks.Answers;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.Task;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;

/**
 * Built-in preference pairs whose preferred side is decided by rules a reward model must learn.
 * The chosen completion is the task's own correct trace: concise, free of {@link #MARKERS}, with
 * steps in {@code <think>} for a reasoning prompt (arithmetic, countdown, logic) and an empty
 * thought for a {@link GeneralTask general} prompt. The rejected one breaks exactly one rule:
 * <ul>
 *   <li>{@code harmful}: a marker word inside the thought or the answer ({@link Aspect#HARMLESSNESS});</li>
 *   <li>{@code padded}: filler or repetition after the answer, inside {@code <answer>} ({@link Aspect#HELPFULNESS});</li>
 *   <li>{@code needless-steps}: a general prompt answered with steps ({@link Aspect#HARMLESSNESS}, as only the whole response shows them);</li>
 *   <li>{@code missing-steps}: a reasoning prompt answered with an empty thought (likewise).</li>
 * </ul>
 * Half of the prompts are general, half reasoning; the rules are equally likely within each.
 */
public final class BuiltinPreferences {

    /** The "harmful" vocabulary: words in the built-in character alphabet that no task uses. */
    public static final List<String> MARKERS = List.of("kill", "bomb", "hack", "steal", "poison", "weapon");
    /** Padding a verbose answer gets. */
    static final List<String> FILLERS = List.of("well", "as asked", "and so on", "i hope this helps", "basically", "you see");
    private static final List<String> REASONING = List.of("arithmetic", "countdown", "logic");

    private BuiltinPreferences() {
    }

    /** {@code n} pairs drawn from {@code seed}; the same arguments give the same pairs. */
    public static List<PreferencePair> generate(int n, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("the number of built-in pairs must be at least 1, got " + n);
        }
        Random rnd = new Random(seed);
        TaskRegistry tasks = TaskRegistry.defaults();
        List<PreferencePair> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            boolean general = rnd.nextBoolean();
            Task task = tasks.resolve(general ? GeneralTask.NAME : REASONING.get(rnd.nextInt(REASONING.size())));
            TaskInstance inst = task.sample(rnd);
            out.add(pair(inst, task.trace(inst, true, rnd), general, rnd));
        }
        return out;
    }

    /** True when {@code text} contains a marker word (as a substring: markers are not parts of task words). */
    public static boolean hasMarker(String text) {
        for (String m : MARKERS) {
            if (text.contains(m)) {
                return true;
            }
        }
        return false;
    }

    private static PreferencePair pair(TaskInstance inst, String chosen, boolean general, Random rnd) {
        String think = think(chosen);
        String answer = Answers.extract(chosen).orElseThrow();
        int rule = rnd.nextInt(3);
        return switch (rule) {
            case 0 -> {
                String marker = MARKERS.get(rnd.nextInt(MARKERS.size()));
                String rejected = !think.isEmpty() && rnd.nextBoolean()
                        ? Answers.format(insertWord(think, marker, rnd), answer)
                        : Answers.format(think, rnd.nextBoolean() ? answer + " " + marker : marker + " " + answer);
                yield new PreferencePair(inst.text(), chosen, rejected, Aspect.HARMLESSNESS, "harmful");
            }
            case 1 -> new PreferencePair(inst.text(), chosen, Answers.format(think, pad(answer, rnd)), Aspect.HELPFULNESS, "padded");
            default -> general
                    ? new PreferencePair(inst.text(), chosen, Answers.format(spelled(inst, rnd), answer), Aspect.HARMLESSNESS, "needless-steps")
                    : new PreferencePair(inst.text(), chosen, Answers.format("", answer), Aspect.HARMLESSNESS, "missing-steps");
        };
    }

    private static String think(String completion) {
        int s = completion.indexOf(Answers.THINK);
        int e = completion.indexOf(Answers.THINK_END);
        return s < 0 || e < s ? "" : completion.substring(s + Answers.THINK.length(), e);
    }

    /** {@code word} at a random word boundary of {@code text}. */
    private static String insertWord(String text, String word, Random rnd) {
        List<Integer> cuts = new ArrayList<>(List.of(0, text.length()));
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == ' ') {
                cuts.add(i);
            }
        }
        int at = cuts.get(rnd.nextInt(cuts.size()));
        if (at == 0) {
            return word + " " + text;
        }
        return text.substring(0, at) + " " + word + text.substring(at);
    }

    private static String pad(String answer, Random rnd) {
        if (rnd.nextInt(3) == 0) {
            int copies = 2 + rnd.nextInt(2);
            return String.join(" ", java.util.Collections.nCopies(copies, answer));
        }
        StringBuilder sb = new StringBuilder(answer);
        int fillers = 1 + rnd.nextInt(2);
        for (int i = 0; i < fillers; i++) {
            sb.append(rnd.nextBoolean() ? ", " : " ").append(FILLERS.get(rnd.nextInt(FILLERS.size())));
        }
        return sb.toString();
    }

    /** Steps a general prompt does not need: the word spelled out, then the operation named. */
    private static String spelled(TaskInstance inst, Random rnd) {
        String word = inst.field("word");
        String letters = String.join(" ", word.split(""));
        return rnd.nextBoolean() ? letters : inst.field("op") + " of " + word + " " + letters;
    }
}
