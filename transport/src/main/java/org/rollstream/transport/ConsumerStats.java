package org.rollstream.transport;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one {@link ReactiveConsumer}, readable from any thread. */
public final class ConsumerStats {
    final AtomicLong polled = new AtomicLong();
    final AtomicLong emitted = new AtomicLong();
    final AtomicLong decodeFailures = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong timedOut = new AtomicLong();
    final AtomicLong committed = new AtomicLong();
    final AtomicLong pauses = new AtomicLong();
    final AtomicLong windowPauses = new AtomicLong();
    final AtomicLong rebalances = new AtomicLong();
    final AtomicLong uncommittedAtClose = new AtomicLong();

    /** Records returned by poll. */
    public long polled() {
        return polled.get();
    }

    /** Deliveries handed downstream (a retried record counts once per delivery). */
    public long emitted() {
        return emitted.get();
    }

    /** Records whose value failed to decode (they are dead-lettered, never handed out). */
    public long decodeFailures() {
        return decodeFailures.get();
    }

    /**
     * Dead letters written for this consumer's records, for any reason: failed decoding, a
     * {@link org.rollstream.transport.errors.BadRecordException}, retries used up.
     */
    public long deadLettered() {
        return deadLettered.get();
    }

    /** Deliveries scheduled again after a retriable failure or a processing timeout. */
    public long retried() {
        return retried.get();
    }

    /** Deliveries neither acked nor nacked within the processing timeout. */
    public long timedOut() {
        return timedOut.get();
    }

    /** Records whose offsets were committed. */
    public long committed() {
        return committed.get();
    }

    /** Times the partitions were paused for lack of demand. */
    public long pauses() {
        return pauses.get();
    }

    /** Times a partition was paused because its window of unsettled records was full. */
    public long windowPauses() {
        return windowPauses.get();
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
        return "polled=" + polled + " emitted=" + emitted + " decodeFailures=" + decodeFailures
                + " deadLettered=" + deadLettered + " retried=" + retried + " timedOut=" + timedOut
                + " committed=" + committed + " pauses=" + pauses + " windowPauses=" + windowPauses
                + " rebalances=" + rebalances + " uncommittedAtClose=" + uncommittedAtClose;
    }
}
