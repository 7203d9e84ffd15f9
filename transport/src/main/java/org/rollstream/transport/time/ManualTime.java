package org.rollstream.transport.time;

import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves only when told to (or when something sleeps on it): for tests. */
public final class ManualTime implements Time {
    private final AtomicLong nanos = new AtomicLong();
    private final long epochStartMs;

    public ManualTime() {
        this(1_700_000_000_000L);
    }

    public ManualTime(long epochStartMs) {
        this.epochStartMs = epochStartMs;
    }

    public void advance(long ms) {
        nanos.addAndGet(ms * 1_000_000L);
    }

    @Override
    public long milliseconds() {
        return epochStartMs + nanos.get() / 1_000_000L;
    }

    @Override
    public long nanoseconds() {
        return nanos.get();
    }

    @Override
    public void sleep(long ms) {
        advance(ms);
    }
}
