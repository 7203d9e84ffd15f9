package org.rollstream.tasks;

import java.util.Random;

/** A verifiable task: generates problems, checks answers, and writes reasoning traces for cold-start SFT. */
public interface Task {

    /** Registry name, e.g. {@code arithmetic}. */
    String name();

    /**
     * A fresh problem drawn from {@code rnd}; deterministic for a given random state.
     *
     * @throws UnsupportedOperationException for tasks that only verify (user data)
     */
    TaskInstance sample(Random rnd);

    /** Checks an extracted answer (the text inside {@code <answer>}, not the whole completion). */
    Verdict verify(TaskInstance instance, String answer);

    default boolean isCorrect(TaskInstance instance, String answer) {
        return verify(instance, answer).correct();
    }

    /**
     * A completion {@code <think>…</think><answer>…</answer>}. When {@code perfect} is false the
     * trace is deliberately flawed (a slipped step or a wrong final answer) and its answer is wrong.
     */
    String trace(TaskInstance instance, boolean perfect, Random rnd);

    /** Whether {@link #sample} works. */
    default boolean canSample() {
        return true;
    }
}
