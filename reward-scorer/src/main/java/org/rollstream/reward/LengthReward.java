package org.rollstream.reward;

import java.util.Map;

/**
 * Overlong penalty in the DAPO style, in tokens, with {@code L = maxNewTokens} and buffer {@code B}:
 * 0 for {@code n ≤ L − B}, {@code −(n − (L − B)) / B} between, −1 at {@code n ≥ L}, and −1
 * whenever the completion was truncated ({@code finishReason = LENGTH}). Option {@code buffer}: a
 * token count ({@code 64}) or, below 1, a share of {@code L} ({@code 0.2}, the default, as in DAPO's
 * 4096 of 20480). Needs {@code maxNewTokens > 0}; without it the reward throws rather than guess.
 */
public final class LengthReward implements RewardFunction {

    public static final String NAME = "length";
    public static final double DEFAULT_BUFFER = 0.2;

    private final double buffer;

    public LengthReward() {
        this(DEFAULT_BUFFER);
    }

    /** @param buffer tokens when {@code >= 1}, a share of the limit when in {@code (0, 1)} */
    public LengthReward(double buffer) {
        if (!(buffer > 0)) {
            throw new IllegalArgumentException("length buffer must be positive, got " + buffer);
        }
        this.buffer = buffer;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public RewardFunction withOptions(Map<String, String> options) {
        RewardOptions.onlyKnown(NAME, options, "buffer");
        if (!options.containsKey("buffer")) {
            return this;
        }
        try {
            return new LengthReward(Double.parseDouble(options.get("buffer")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("length.buffer is not a number: " + options.get("buffer"));
        }
    }

    @Override
    public double score(RewardInput in) {
        if (in.finishReason() == FinishReason.LENGTH) {
            return -1.0;
        }
        int max = in.maxNewTokens();
        if (max <= 0) {
            throw new IllegalArgumentException("length reward needs maxNewTokens > 0");
        }
        double b = Math.min(max, buffer >= 1 ? buffer : Math.max(1.0, Math.round(buffer * max)));
        double free = max - b;
        int n = in.completionTokens();
        if (n <= free) {
            return 0.0;
        }
        return n >= max ? -1.0 : -(n - free) / b;
    }
}
