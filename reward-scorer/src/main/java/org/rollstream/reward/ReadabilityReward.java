package org.rollstream.reward;

import org.rollstream.tasks.Reflection;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Readability of the reasoning (DeepSeek-R1's stage-2 concern with unreadable, mixed-up chains of
 * thought), in [0, 1], as the product of four parts, so any one failing sinks it:
 * <ul>
 *   <li><b>structure</b> (0 or 1): the completion is {@code <think>…</think><answer>…</answer>} as
 *       {@link FormatReward} demands;</li>
 *   <li><b>clean</b> (0 or 1): no run of one character longer than {@code run} (option, default 8;
 *       a long number still passes), no non-printing character (controls other than newline and
 *       tab, unassigned, private-use, format or replacement characters) and no {@code <unk>};</li>
 *   <li><b>steps</b>: the share of reasoning words (whitespace-separated) at most {@code word}
 *       characters long (option, default 24): reasoning written as separated steps, not one blob.
 *       Empty reasoning counts as 1;</li>
 *   <li><b>repetition</b>: with {@code r} the share of repeated word trigrams in the reasoning,
 *       1 while {@code r <= repeat} (option, default 0.25, which a redone step after a check stays
 *       under), falling linearly to 0 at {@code r = 1}.</li>
 * </ul>
 * Pure string scanning, no regex, linear in the completion.
 */
public final class ReadabilityReward implements RewardFunction {

    public static final String NAME = "readability";
    private static final String UNK = "<unk>";

    private final int maxRun;
    private final int maxWord;
    private final double allowedRepeat;

    public ReadabilityReward() {
        this(8, 24, 0.25);
    }

    /** @throws IllegalArgumentException unless {@code maxRun >= 1}, {@code maxWord >= 1} and {@code allowedRepeat} in [0, 1) */
    public ReadabilityReward(int maxRun, int maxWord, double allowedRepeat) {
        if (maxRun < 1 || maxWord < 1 || !(allowedRepeat >= 0 && allowedRepeat < 1)) {
            throw new IllegalArgumentException("readability needs run >= 1, word >= 1 and repeat in [0, 1), got "
                    + maxRun + ", " + maxWord + ", " + allowedRepeat);
        }
        this.maxRun = maxRun;
        this.maxWord = maxWord;
        this.allowedRepeat = allowedRepeat;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardFunction withOptions(Map<String, String> options) {
        for (String k : options.keySet()) {
            if (!Set.of("run", "word", "repeat").contains(k)) {
                throw new IllegalArgumentException("reward '" + NAME + "' knows options 'run', 'word' and 'repeat', not '" + k + "'");
            }
        }
        try {
            return options.isEmpty() ? this : new ReadabilityReward(
                    Integer.parseInt(options.getOrDefault("run", String.valueOf(maxRun))),
                    Integer.parseInt(options.getOrDefault("word", String.valueOf(maxWord))),
                    Double.parseDouble(options.getOrDefault("repeat", String.valueOf(allowedRepeat))));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("readability options must be numbers, got " + options);
        }
    }

    @Override
    public double score(RewardInput in) {
        String c = in.completion();
        if (!FormatReward.wellFormed(c) || !clean(c)) {
            return 0.0;
        }
        String[] words = Reflection.think(c).orElse("").strip().split("\\s+");
        if (words.length == 1 && words[0].isEmpty()) {
            return 1.0;
        }
        return steps(words) * repetition(words);
    }

    boolean clean(String s) {
        if (s.contains(UNK)) {
            return false;
        }
        int run = 0;
        int prev = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            run = cp == prev ? run + 1 : 1;
            prev = cp;
            if (run > maxRun || !printable(cp)) {
                return false;
            }
        }
        return true;
    }

    private static boolean printable(int cp) {
        if (cp == '\n' || cp == '\t') {
            return true;
        }
        int type = Character.getType(cp);
        return cp != 0xFFFD && !Character.isISOControl(cp) && type != Character.UNASSIGNED && type != Character.PRIVATE_USE
                && type != Character.FORMAT && type != Character.SURROGATE;
    }

    private double steps(String[] words) {
        int ok = 0;
        for (String w : words) {
            ok += w.length() <= maxWord ? 1 : 0;
        }
        return (double) ok / words.length;
    }

    private double repetition(String[] words) {
        int total = words.length - 2;
        if (total <= 0) {
            return 1.0;
        }
        Set<String> seen = new HashSet<>();
        int repeated = 0;
        for (int i = 0; i < total; i++) {
            if (!seen.add(words[i] + '\u0000' + words[i + 1] + '\u0000' + words[i + 2])) {
                repeated++;
            }
        }
        double r = (double) repeated / total;
        return r <= allowedRepeat ? 1.0 : Math.max(0.0, 1.0 - (r - allowedRepeat) / (1.0 - allowedRepeat));
    }
}
