package org.rollstream.transport;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one {@link ReactiveConsumer}, readable from any thread. */
public final class ConsumerStats {
    final AtomicLong polled = new AtomicLong();
    final AtomicLong emitted = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong committed = new AtomicLong();
    final AtomicLong pauses = new AtomicLong();
    final AtomicLong rebalances = new AtomicLong();
    final AtomicLong uncommittedAtClose = new AtomicLong();

    /** Records returned by poll. */
    public long polled() {
        return polled.get();
    }

    /** Records handed downstream. */
    public long emitted() {
        return emitted.get();
    }

    /** Records that failed to decode and went to the DLQ. */
    public long deadLettered() {
        return deadLettered.get();
    }

    /** Records whose offsets were committed. */
    public long committed() {
        return committed.get();
    }

    /** Times the partitions were paused for lack of demand. */
    public long pauses() {
        return pauses.get();
    }

    /** Partition revocations or losses seen. */
    public long rebalances() {
        return rebalances.get();
    }

    /**
     * Records polled but not committed when the consumer closed (or lost partitions): the upper
     * bound of what another consumer of the group may see again.
     */
    public long uncommittedAtClose() {
        return uncommittedAtClose.get();
    }

    @Override
    public String toString() {
        return "polled=" + polled + " emitted=" + emitted + " deadLettered=" + deadLettered + " committed="
                + committed + " pauses=" + pauses + " rebalances=" + rebalances + " uncommittedAtClose=" + uncommittedAtClose;
    }
}
