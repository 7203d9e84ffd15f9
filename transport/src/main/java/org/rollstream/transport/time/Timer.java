package org.rollstream.transport.time;

/** A deadline on a {@link Time}: the shape of every bounded wait ("until done or expired"). */
public final class Timer {
    private final Time time;
    private final long deadlineNs;

    Timer(Time time, long timeoutMs) {
        this.time = time;
        this.deadlineNs = time.nanoseconds() + Math.max(0, timeoutMs) * 1_000_000L;
    }

    public boolean isExpired() {
        return remainingMs() <= 0;
    }

    /** Milliseconds left, never negative. */
    public long remainingMs() {
        return Math.max(0, (deadlineNs - time.nanoseconds()) / 1_000_000L);
    }
}
