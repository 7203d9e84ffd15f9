package org.rollstream.policy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * One token per character, plus special tokens that encode as a single id when their literal
 * text (e.g. {@code <think>}) appears in the input. Unknown characters map to {@code <unk>}.
 * The id assignment of {@link #builtin()} is fixed: changing it invalidates every checkpoint.
 */
public final class CharTokenizer implements Tokenizer {

    /** Special tokens, ids 0..7 in this order. */
    public static final List<String> SPECIALS = List.of(PAD, BOS, EOS, UNK, THINK, THINK_END, ANSWER, ANSWER_END);

    private static final String BUILTIN_CHARS =
            "0123456789" + "+-*/×÷=()?.,:; " + "\n!<>[]%'\"#&_^"
                    + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private static final CharTokenizer BUILTIN = new CharTokenizer(BUILTIN_CHARS);

    private final List<String> specials;
    private final int[] codepoints;              // id - specials.size() -> code point
    private final Map<Integer, Integer> idOf = new HashMap<>();
    private final List<String> specialsByLength; // longest first, for greedy matching

    public CharTokenizer(String chars) {
        this.specials = SPECIALS;
        this.codepoints = chars.codePoints().toArray();
        for (int i = 0; i < codepoints.length; i++) {
            if (idOf.putIfAbsent(codepoints[i], specials.size() + i) != null) {
                throw new IllegalArgumentException("duplicate character in tokenizer alphabet: " + new String(Character.toChars(codepoints[i])));
            }
        }
        List<String> s = new ArrayList<>(specials);
        s.sort((a, b) -> b.length() - a.length());
        this.specialsByLength = Collections.unmodifiableList(s);
    }

    public static CharTokenizer builtin() {
        return BUILTIN;
    }

    @Override
    public int[] encode(String text) {
        int[] out = new int[text.length()];
        int n = 0;
        int i = 0;
        while (i < text.length()) {
            int id = -1;
            if (text.charAt(i) == '<') {
                for (String sp : specialsByLength) {
                    if (text.startsWith(sp, i)) {
                        id = specials.indexOf(sp);
                        i += sp.length();
                        break;
                    }
                }
            }
            if (id < 0) {
                int cp = text.codePointAt(i);
                i += Character.charCount(cp);
                id = idOf.getOrDefault(cp, specials.indexOf(UNK));
            }
            out[n++] = id;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** Decodes ids; special tokens are rendered as their literal text, except {@code <pad>} which is dropped. */
    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id < 0 || id >= vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " outside vocabulary of " + vocabSize());
            }
            if (id < specials.size()) {
                if (id != pad()) sb.append(specials.get(id));
            } else {
                sb.appendCodePoint(codepoints[id - specials.size()]);
            }
        }
        return sb.toString();
    }

    @Override
    public int vocabSize() {
        return specials.size() + codepoints.length;
    }

    @Override
    public int bos() {
        return specials.indexOf(BOS);
    }

    @Override
    public int eos() {
        return specials.indexOf(EOS);
    }

    @Override
    public int pad() {
        return specials.indexOf(PAD);
    }

    @Override
    public OptionalInt special(String token) {
        int i = specials.indexOf(token);
        return i < 0 ? OptionalInt.empty() : OptionalInt.of(i);
    }
}
