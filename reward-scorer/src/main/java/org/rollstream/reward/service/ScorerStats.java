package org.rollstream.reward.service;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one scorer instance, readable from any thread; {@link #toString} is a progress line. */
public final class ScorerStats {
    final AtomicLong received = new AtomicLong();
    final AtomicLong scored = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong publishFailures = new AtomicLong();
    final AtomicLong completions = new AtomicLong();

    /** Groups handed to the scorer by the consumer. */
    public long received() {
        return received.get();
    }

    /** Groups scored and published to {@code rollouts.scored}. */
    public long scored() {
        return scored.get();
    }

    /** Groups sent to {@code rollouts.sampled.dlq} because they could not be scored. */
    public long deadLettered() {
        return deadLettered.get();
    }

    /** Scored groups whose publication failed; they stay unacked and are redelivered after a restart. */
    public long publishFailures() {
        return publishFailures.get();
    }

    /** Completions scored. */
    public long completions() {
        return completions.get();
    }

    @Override
    public String toString() {
        return "received=" + received + " scored=" + scored + " deadLettered=" + deadLettered
                + " publishFailures=" + publishFailures + " completions=" + completions;
    }
}
