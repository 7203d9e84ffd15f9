package org.rollstream.learner.grpo;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Admits a group only if the policy that sampled it is at most η versions behind the one being
 * trained, and counts what it drops. Version numbers equal optimizer steps published so far.
 */
public final class StalenessGate {
    private final int maxStaleness;
    private final AtomicLong admitted = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    public StalenessGate(int maxStaleness) {
        if (maxStaleness < 0) {
            throw new IllegalArgumentException("max staleness must be at least 0, got " + maxStaleness);
        }
        this.maxStaleness = maxStaleness;
    }

    /** How many versions {@code sampledBy} lags {@code current}; never negative. */
    public static long staleness(long sampledBy, long current) {
        return Math.max(0, current - sampledBy);
    }

    /** Whether a group would be admitted, without counting anything. */
    public boolean isFresh(long sampledBy, long current) {
        return staleness(sampledBy, current) <= maxStaleness;
    }

    public boolean admit(long sampledBy, long current) {
        if (!isFresh(sampledBy, current)) {
            dropped.incrementAndGet();
            return false;
        }
        admitted.incrementAndGet();
        return true;
    }

    public int maxStaleness() {
        return maxStaleness;
    }

    public long admitted() {
        return admitted.get();
    }

    public long dropped() {
        return dropped.get();
    }
}
