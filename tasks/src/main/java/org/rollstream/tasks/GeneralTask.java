package org.rollstream.tasks;

import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Non-reasoning "general" requests, the miniature of R1's general (non-reasoning) SFT data: a short
 * instruction over one word that needs no thinking, answered directly with an empty thought:
 * {@code copy:lamp=} → {@code <think></think><answer>lamp</answer>}. Operations: {@code copy},
 * {@code upper} (the word in capitals), {@code first} and {@code last} (one letter), {@code size}
 * (letter count). Every answer is decidable by rule, so the same prompts serve rejection sampling,
 * preference data and alignment RL.
 * <p>
 * Fields: {@code op} and {@code word}; the verifier recomputes the answer from them.
 */
public final class GeneralTask implements Task {

    public static final String NAME = "general";
    private static final String[] OPS = {"copy", "upper", "first", "last", "size"};
    private static final String[] WORDS = {
            "lamp", "river", "stone", "cloud", "apple", "green", "house", "tiger", "paper", "light",
            "bread", "chair", "ocean", "music", "plant", "storm", "glass", "horse", "queen", "sugar",
            "table", "wheel", "zebra", "night", "mouse", "field", "brick", "candle", "forest", "garden"};

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskInstance sample(Random rnd) {
        return instance(OPS[rnd.nextInt(OPS.length)], WORDS[rnd.nextInt(WORDS.length)]);
    }

    /** Every general problem (each operation over each word, operations outermost), e.g. to train on all of them. */
    public static java.util.List<TaskInstance> all() {
        java.util.List<TaskInstance> out = new java.util.ArrayList<>(OPS.length * WORDS.length);
        for (String op : OPS) {
            for (String word : WORDS) {
                out.add(instance(op, word));
            }
        }
        return out;
    }

    /**
     * The instance for {@code op} over {@code word}.
     *
     * @throws IllegalArgumentException for an unknown operation or a word that is not lowercase letters
     */
    public static TaskInstance instance(String op, String word) {
        String answer = answer(op, word);
        String text = op + ":" + word + "=";
        return new TaskInstance(StableHash.id(NAME, text), NAME, text, answer, Map.of("op", op, "word", word));
    }

    /** The one right answer of {@code op} over {@code word}. */
    public static String answer(String op, String word) {
        if (word == null || word.isEmpty() || !word.chars().allMatch(c -> c >= 'a' && c <= 'z')) {
            throw new IllegalArgumentException("general task words are lowercase letters a-z; got '" + word + "'");
        }
        return switch (op) {
            case "copy" -> word;
            case "upper" -> word.toUpperCase(Locale.ROOT);
            case "first" -> word.substring(0, 1);
            case "last" -> word.substring(word.length() - 1);
            case "size" -> Integer.toString(word.length());
            default -> throw new IllegalArgumentException("unknown general operation '" + op + "'; known: copy, upper, first, last, size");
        };
    }

    /** Exact match after trimming; case matters ({@code upper} asks for capitals). */
    @Override
    public Verdict verify(TaskInstance instance, String answer) {
        if (answer == null || answer.isBlank()) {
            return Verdict.wrong("empty answer");
        }
        String expected = answer(instance.field("op"), instance.field("word"));
        return expected.equals(answer.strip()) ? Verdict.ok() : Verdict.wrong("expected " + expected + ", got " + answer.strip());
    }

    /** A direct answer with an empty thought; the imperfect trace answers with another word's result. */
    @Override
    public String trace(TaskInstance instance, boolean perfect, Random rnd) {
        String op = instance.field("op");
        String word = instance.field("word");
        if (perfect) {
            return Answers.format("", answer(op, word));
        }
        String expected = answer(op, word);
        String wrong;
        do {
            wrong = answer(op, WORDS[rnd.nextInt(WORDS.length)]);
        } while (wrong.equals(expected));
        return Answers.format("", wrong);
    }
}
