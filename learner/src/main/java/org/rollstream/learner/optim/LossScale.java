package org.rollstream.learner.optim;

/**
 * Dynamic loss scaling for fp16 compute: the loss is multiplied by {@link #factor()} before the
 * backward pass so that small gradients survive fp16's range (its smallest normal is 6·10⁻⁵; a
 * token-mean over tens of thousands of tokens gives per-logit gradients far below that), and the
 * gradients are divided by it again before clipping. An update whose gradient overflowed (not
 * finite) is skipped by the trainer and halves the factor; every {@code growthInterval} finite
 * updates in a row double it, up to 2²⁴. With fp32 compute use {@link #none()}: factor 1, never changes.
 */
public final class LossScale {
    private static final double MAX = 1 << 24;
    private final boolean dynamic;
    private final int growthInterval;
    private double factor;
    private int finiteInARow;

    private LossScale(boolean dynamic, double initial, int growthInterval) {
        this.dynamic = dynamic;
        this.factor = initial;
        this.growthInterval = growthInterval;
    }

    /** No scaling (fp32). */
    public static LossScale none() {
        return new LossScale(false, 1, Integer.MAX_VALUE);
    }

    /** Starts at 2¹⁶ (as PyTorch's GradScaler), doubles after 200 finite updates in a row. */
    public static LossScale dynamic() {
        return dynamic(1 << 16, 200);
    }

    /** Starts at {@code initial} (1 to 2²⁴), doubles after {@code growthInterval} finite updates in a row. */
    public static LossScale dynamic(double initial, int growthInterval) {
        if (!(initial >= 1 && initial <= MAX) || growthInterval < 1) {
            throw new IllegalArgumentException("loss scale must start in [1, 2^24] and grow after at least 1 update, got "
                    + initial + " and " + growthInterval);
        }
        return new LossScale(true, initial, growthInterval);
    }

    public double factor() {
        return factor;
    }

    public boolean enabled() {
        return dynamic;
    }

    /** Records whether the last update's unscaled gradient was finite, and adjusts the factor. */
    public void update(boolean finite) {
        if (!dynamic) {
            return;
        }
        if (!finite) {
            factor = Math.max(1, factor / 2);
            finiteInARow = 0;
        } else if (++finiteInARow >= growthInterval) {
            factor = Math.min(MAX, factor * 2);
            finiteInARow = 0;
        }
    }
}
