package org.rollstream.tasks;

import java.util.Optional;
import java.util.Random;

/**
 * User data with a plain ground-truth answer, matched exactly or by numeric equivalence
 * ({@link Answers#equivalent}). It cannot generate problems; read them with {@link JsonlDataset}.
 * A trace uses the instance's {@code reasoning} field as the think part when there is one.
 */
public final class JsonlTask implements Task {

    public static final String NAME = "jsonl";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskInstance sample(Random rnd) {
        throw new UnsupportedOperationException("task 'jsonl' has no generator; read problems with JsonlDataset");
    }

    @Override
    public boolean canSample() {
        return false;
    }

    @Override
    public Verdict verify(TaskInstance instance, String answer) {
        if (answer == null || answer.isBlank()) {
            return Verdict.wrong("empty answer");
        }
        return Answers.equivalent(answer, instance.answer()) ? Verdict.ok()
                : Verdict.wrong("expected " + instance.answer().strip() + ", got " + answer.strip());
    }

    /** Imperfect: a numeric answer moved by one, any other answer marked with a trailing {@code ?}. */
    @Override
    public String trace(TaskInstance instance, boolean perfect, Random rnd) {
        String think = instance.fields().getOrDefault("reasoning", "");
        String answer = instance.answer().strip();
        if (!perfect) {
            Optional<Rational> n = Rational.parse(answer);
            answer = n.isPresent() ? n.get().add(Rational.of(rnd.nextBoolean() ? 1 : -1)).toString() : answer + "?";
        }
        return Answers.format(think, answer);
    }
}
