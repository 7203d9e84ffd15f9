package org.rollstream.learner;

/**
 * The cold-start SFT stage: how long, how fast, and how imperfect its data is.
 *
 * @param steps           optimizer steps (0 skips the cold start)
 * @param batch           examples per step
 * @param learningRate    peak learning rate, cosine-decayed to 0
 * @param flawedShare     share of traces with a slipped step or a wrong final answer
 * @param answerOnlyShare share of answer-only traces (right answer, no reasoning)
 * @param reflectShare    share of reflective traces (a flawed attempt caught by a {@code check:} step and fixed)
 */
public record ColdStart(int steps, int batch, double learningRate, double flawedShare, double answerOnlyShare, double reflectShare) {
    public ColdStart {
        if (steps < 0) {
            throw new IllegalArgumentException("SFT steps must be at least 0, got " + steps);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("SFT batch must be at least 1, got " + batch);
        }
        if (!(learningRate > 0)) {
            throw new IllegalArgumentException("SFT learning rate must be positive, got " + learningRate);
        }
        if (!(flawedShare >= 0 && answerOnlyShare >= 0 && flawedShare + answerOnlyShare <= 1)) {
            throw new IllegalArgumentException("flawed (" + flawedShare + ") and answer-only (" + answerOnlyShare
                    + ") shares must be non-negative and add up to at most 1");
        }
        if (!(reflectShare >= 0 && flawedShare + answerOnlyShare + reflectShare <= 1)) {
            throw new IllegalArgumentException("reflect share (" + reflectShare + ") must be non-negative and, with the flawed ("
                    + flawedShare + ") and answer-only (" + answerOnlyShare + ") shares, add up to at most 1");
        }
    }

    /** Without reflective traces. */
    public ColdStart(int steps, int batch, double learningRate, double flawedShare, double answerOnlyShare) {
        this(steps, batch, learningRate, flawedShare, answerOnlyShare, 0.0);
    }

    /** No cold start: GRPO from the initial or given weights. */
    public static ColdStart none() {
        return new ColdStart(0, 1, 1e-3, 0, 0);
    }
}
