package org.rollstream.reward.service;

import java.util.concurrent.atomic.AtomicLong;

import org.rollstream.transport.ConsumerStats;

/** Counters of one scorer instance, readable from any thread; {@link #toString} is a progress line. */
public final class ScorerStats {
    final AtomicLong received = new AtomicLong();
    final AtomicLong scored = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong publishFailures = new AtomicLong();
    final AtomicLong completions = new AtomicLong();
    volatile ConsumerStats consumer;

    /** Groups handed to the scorer by the consumer. */
    public long received() {
        return received.get();
    }

    /** Groups scored and published to {@code rollouts.scored}. */
    public long scored() {
        return scored.get();
    }

    /** Groups that decoded but were sent to {@code rollouts.sampled.dlq}: invalid, or a reward could not score them. */
    public long invalid() {
        return deadLettered.get();
    }

    /** Records on {@code rollouts.sampled} that did not decode as a SampledGroup; dead-lettered by the consumer. */
    public long undecodable() {
        ConsumerStats c = consumer;
        return c == null ? 0 : c.decodeFailures();
    }

    /**
     * Everything written to {@code rollouts.sampled.dlq} for this scorer's records: {@link #invalid},
     * {@link #undecodable}, and groups an external reward kept failing on until the consumer's retries
     * ran out. The consumer's own count, since it writes every one of them (the scorer only asks).
     */
    public long deadLettered() {
        ConsumerStats c = consumer;
        return c == null ? invalid() : c.deadLettered();
    }

    /** Deliveries handed out again after a retriable failure (an external reward unavailable) or a processing timeout. */
    public long retried() {
        ConsumerStats c = consumer;
        return c == null ? 0 : c.retried();
    }

    /** Groups that failed for a reason not their own (a bug, the broker refusing the scored group); left unacked. */
    public long publishFailures() {
        return publishFailures.get();
    }

    /** Completions scored. */
    public long completions() {
        return completions.get();
    }

    @Override
    public String toString() {
        return "received=" + received + " scored=" + scored + " deadLettered=" + deadLettered() + " (invalid=" + invalid()
                + " undecodable=" + undecodable() + ") retried=" + retried() + " failures=" + publishFailures + " completions=" + completions;
    }
}
