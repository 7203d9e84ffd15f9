package org.rollstream.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * How often a record that failed with a {@link org.rollstream.transport.errors.RetriableRecordException}
 * (or timed out) is delivered again, and how long it waits in between: the first retry after
 * {@code initialBackoff}, each next one after twice the previous wait, never more than
 * {@code maxBackoff}. After {@code maxRetries} retries the next failure dead-letters the record.
 *
 * @param maxRetries deliveries after the first; 0 = dead-letter at the first retriable failure
 */
public record RetryPolicy(int maxRetries, Duration initialBackoff, Duration maxBackoff) {
    /** 3 retries after 1 s, 2 s and 4 s. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(3, Duration.ofSeconds(1), Duration.ofSeconds(30));

    public RetryPolicy {
        Objects.requireNonNull(initialBackoff, "initialBackoff");
        Objects.requireNonNull(maxBackoff, "maxBackoff");
        if (maxRetries < 0) {
            throw new IllegalArgumentException("maxRetries must not be negative, got " + maxRetries);
        }
        if (initialBackoff.isNegative() || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 0 <= initialBackoff <= maxBackoff, got " + initialBackoff + " and " + maxBackoff);
        }
    }

    /** The wait before delivery number {@code failures + 1}, after {@code failures} (≥ 1) failed deliveries. */
    public Duration backoff(int failures) {
        long ms = initialBackoff.toMillis();
        for (int i = 1; i < failures && ms < maxBackoff.toMillis(); i++) {
            ms *= 2;
        }
        return Duration.ofMillis(Math.min(ms, maxBackoff.toMillis()));
    }
}
