package org.rollstream.reward;

import java.util.Locale;
import java.util.Objects;

/**
 * Group-relative advantages of the G completions of one prompt.
 * <ul>
 *   <li>{@code GRPO}: {@code A_i = (r_i − mean) / (std + eps)} with the population standard
 *       deviation (divide by G, not G−1), so [1,0,0,1] gives ±1 up to eps.</li>
 *   <li>{@code DR_GRPO} (Dr. GRPO): {@code A_i = r_i − mean}, no scaling by std.</li>
 * </ul>
 * A group whose rewards are all equal gets all zeros in both modes; {@link #allEqual} lets the
 * learner skip such groups (dynamic sampling), since they carry no signal.
 */
public final class GroupAdvantages {

    public enum Mode { GRPO, DR_GRPO }

    public static final double DEFAULT_EPS = 1e-6;
    private static final double EQUAL_TOLERANCE = 1e-12;

    private final Mode mode;
    private final double eps;

    public GroupAdvantages(Mode mode, double eps) {
        this.mode = Objects.requireNonNull(mode, "mode");
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
        this.eps = eps;
    }

    public static GroupAdvantages grpo() {
        return new GroupAdvantages(Mode.GRPO, DEFAULT_EPS);
    }

    public static GroupAdvantages drGrpo() {
        return new GroupAdvantages(Mode.DR_GRPO, DEFAULT_EPS);
    }

    /** {@code grpo} or {@code dr-grpo} (also {@code dr_grpo}, {@code drgrpo}), any case. */
    public static Mode parseMode(String s) {
        String t = s.strip().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
        return switch (t) {
            case "grpo" -> Mode.GRPO;
            case "drgrpo" -> Mode.DR_GRPO;
            default -> throw new IllegalArgumentException("unknown advantage mode '" + s + "'; use grpo or dr-grpo");
        };
    }

    public Mode mode() {
        return mode;
    }

    public double eps() {
        return eps;
    }

    /** @throws IllegalArgumentException for a non-finite reward */
    public double[] compute(double[] rewards) {
        for (double r : rewards) {
            if (!Double.isFinite(r)) {
                throw new IllegalArgumentException("non-finite reward in group: " + r);
            }
        }
        double[] out = new double[rewards.length];
        if (allEqual(rewards)) {
            return out;
        }
        double mean = 0;
        for (double r : rewards) {
            mean += r;
        }
        mean /= rewards.length;
        double scale = 1;
        if (mode == Mode.GRPO) {
            double var = 0;
            for (double r : rewards) {
                var += (r - mean) * (r - mean);
            }
            scale = Math.sqrt(var / rewards.length) + eps;
        }
        for (int i = 0; i < rewards.length; i++) {
            out[i] = (rewards[i] - mean) / scale;
        }
        return out;
    }

    /** True for an empty or single-element group, or when every reward is the same (within 1e-12). */
    public static boolean allEqual(double[] rewards) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double r : rewards) {
            min = Math.min(min, r);
            max = Math.max(max, r);
        }
        return rewards.length < 2 || max - min <= EQUAL_TOLERANCE;
    }

    /** e.g. {@code advantage=grpo,eps=1.0E-6}. */
    @Override
    public String toString() {
        return "advantage=" + mode.name().toLowerCase(Locale.ROOT).replace('_', '-') + ",eps=" + eps;
    }
}
