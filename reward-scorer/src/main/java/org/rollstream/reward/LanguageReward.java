package org.rollstream.reward;

import org.rollstream.tasks.Answers;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Language consistency (DeepSeek-R1): the share of letters in the reasoning that belong to the
 * target script. The reasoning is the text inside {@code <think>…</think>}; without a complete
 * think block it is the whole completion. Digits, punctuation, symbols and spaces are ignored;
 * no letters at all gives 1.0 (nothing inconsistent was written).
 * <p>
 * The target is the input's {@code targetLanguage} when set, else the {@code script} option
 * (default {@code LATIN}). Either is a {@link Character.UnicodeScript} name ({@code CYRILLIC}) or
 * a language code: {@code en fr de es it pt nl vi id tr pl} → LATIN, {@code ru uk bg sr} → CYRILLIC,
 * {@code zh} → HAN, {@code ja} → HAN+HIRAGANA+KATAKANA, {@code ko} → HANGUL+HAN, {@code ar}, {@code el},
 * {@code he}, {@code hi}, {@code th}.
 */
public final class LanguageReward implements RewardFunction {

    public static final String NAME = "language";

    private static final Map<String, Set<Character.UnicodeScript>> LANGUAGES = languages();

    private final String defaultTarget;

    public LanguageReward() {
        this("LATIN");
    }

    public LanguageReward(String defaultTarget) {
        scripts(defaultTarget); // fail at configuration time, not on the first record
        this.defaultTarget = defaultTarget;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardFunction withOptions(Map<String, String> options) {
        RewardOptions.onlyKnown(NAME, options, "script");
        return options.containsKey("script") ? new LanguageReward(options.get("script")) : this;
    }

    @Override
    public double score(RewardInput in) {
        return share(reasoning(in.completion()), scripts(in.language().orElse(defaultTarget)));
    }

    static double share(String text, Set<Character.UnicodeScript> target) {
        int letters = 0;
        int inTarget = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetter(cp)) {
                letters++;
                if (target.contains(Character.UnicodeScript.of(cp))) {
                    inTarget++;
                }
            }
        }
        return letters == 0 ? 1.0 : (double) inTarget / letters;
    }

    static String reasoning(String completion) {
        int start = completion.indexOf(Answers.THINK);
        int end = start < 0 ? -1 : completion.indexOf(Answers.THINK_END, start);
        return end < 0 ? completion : completion.substring(start + Answers.THINK.length(), end);
    }

    /** @throws IllegalArgumentException for a target that is neither a script nor a known language code */
    static Set<Character.UnicodeScript> scripts(String target) {
        Set<Character.UnicodeScript> s = LANGUAGES.get(target.strip().toLowerCase(Locale.ROOT));
        if (s != null) {
            return s;
        }
        try {
            return EnumSet.of(Character.UnicodeScript.forName(target.strip()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown target language '" + target
                    + "': use a Unicode script name (LATIN, CYRILLIC, HAN, ...) or one of " + LANGUAGES.keySet());
        }
    }

    private static Map<String, Set<Character.UnicodeScript>> languages() {
        var latin = EnumSet.of(Character.UnicodeScript.LATIN);
        var cyrillic = EnumSet.of(Character.UnicodeScript.CYRILLIC);
        var m = new java.util.TreeMap<String, Set<Character.UnicodeScript>>();
        for (String code : new String[]{"en", "fr", "de", "es", "it", "pt", "nl", "vi", "id", "tr", "pl"}) {
            m.put(code, latin);
        }
        for (String code : new String[]{"ru", "uk", "bg", "sr"}) {
            m.put(code, cyrillic);
        }
        m.put("zh", EnumSet.of(Character.UnicodeScript.HAN));
        m.put("ja", EnumSet.of(Character.UnicodeScript.HAN, Character.UnicodeScript.HIRAGANA, Character.UnicodeScript.KATAKANA));
        m.put("ko", EnumSet.of(Character.UnicodeScript.HANGUL, Character.UnicodeScript.HAN));
        m.put("ar", EnumSet.of(Character.UnicodeScript.ARABIC));
        m.put("el", EnumSet.of(Character.UnicodeScript.GREEK));
        m.put("he", EnumSet.of(Character.UnicodeScript.HEBREW));
        m.put("hi", EnumSet.of(Character.UnicodeScript.DEVANAGARI));
        m.put("th", EnumSet.of(Character.UnicodeScript.THAI));
        return java.util.Collections.unmodifiableMap(m);
    }
}
