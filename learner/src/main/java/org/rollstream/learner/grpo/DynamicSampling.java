package org.rollstream.learner.grpo;

/** DAPO's dynamic sampling: a group whose rewards are all equal has zero advantages and teaches nothing. */
public final class DynamicSampling {
    private DynamicSampling() {
    }

    public static boolean informative(double[] rewards) {
        if (rewards.length < 2) {
            return false;
        }
        for (double r : rewards) {
            if (Math.abs(r - rewards[0]) > 1e-9) {
                return true;
            }
        }
        return false;
    }
}
