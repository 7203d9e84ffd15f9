package org.rollstream.reward.http;

import java.time.Duration;

import org.rollstream.transport.time.Time;

/**
 * Stops calling an endpoint that keeps failing. Closed: calls pass; {@code threshold} failures in a
 * row open it. Open: calls are refused at once for {@code openFor}. Then half-open: one probe call
 * passes; its success closes the breaker, its failure opens it again. Thread-safe.
 */
final class CircuitBreaker {
    enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final long openForNs;
    private final Time time;
    private State state = State.CLOSED;
    private int failures;
    private long openedAtNs;
    private boolean probing;
    private long opened;

    CircuitBreaker(int threshold, Duration openFor, Time time) {
        this.threshold = threshold;
        this.openForNs = openFor.toNanos();
        this.time = time;
    }

    /** Whether a call may go out now; in half-open state only one caller gets true until it reports. */
    synchronized boolean tryAcquire() {
        if (state == State.OPEN && time.nanoseconds() - openedAtNs >= openForNs) {
            state = State.HALF_OPEN;
            probing = false;
        }
        if (state == State.CLOSED) {
            return true;
        }
        if (state == State.HALF_OPEN && !probing) {
            probing = true;
            return true;
        }
        return false;
    }

    synchronized void onSuccess() {
        state = State.CLOSED;
        failures = 0;
        probing = false;
    }

    synchronized void onFailure() {
        failures++;
        if (state == State.HALF_OPEN || (state == State.CLOSED && failures >= threshold)) {
            state = State.OPEN;
            openedAtNs = time.nanoseconds();
            probing = false;
            opened++;
        }
    }

    /** A call that got through {@link #tryAcquire} ended without telling either way (e.g. interrupted). */
    synchronized void release() {
        probing = false;
    }

    synchronized State state() {
        return state;
    }

    /** Times the breaker has opened. */
    synchronized long opened() {
        return opened;
    }

    /** Time until a probe is allowed, for error messages. */
    synchronized Duration remainingOpen() {
        return state != State.OPEN ? Duration.ZERO : Duration.ofNanos(Math.max(0, openForNs - (time.nanoseconds() - openedAtNs)));
    }
}
