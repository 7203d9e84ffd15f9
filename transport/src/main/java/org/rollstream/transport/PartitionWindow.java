package org.rollstream.transport;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The records of one partition from its committed position to the newest polled one, in offset
 * order. Confined to the poll thread. Its size is bounded by the consumer's ack window (plus at most
 * one poll's records): when full, the partition is paused until the head is settled and committed.
 */
final class PartitionWindow<V> implements Iterable<Received<V>> {
    private final ArrayDeque<Received<V>> records = new ArrayDeque<>();
    private final int capacity;
    private boolean full;

    PartitionWindow(int capacity) {
        this.capacity = capacity;
    }

    void add(Received<V> r) {
        records.add(r);
    }

    int size() {
        return records.size();
    }

    /** Whether the partition must stay paused; counts, through {@code stats}, each time it fills. */
    boolean isFull(ConsumerStats stats) {
        boolean now = records.size() >= capacity;
        if (now && !full) {
            stats.windowPauses.incrementAndGet();
        }
        full = now;
        return now;
    }

    /**
     * Removes the settled prefix.
     *
     * @return the offset after the last removed record, or -1 when the head is not settled
     */
    long takeSettledPrefix(ConsumerStats stats) {
        Received<V> last = null;
        long n = 0;
        while (!records.isEmpty() && records.peek().isAcked()) {
            last = records.poll();
            n++;
        }
        if (last == null) {
            return -1;
        }
        stats.committed.addAndGet(n);
        return last.offset() + 1;
    }

    @Override
    public Iterator<Received<V>> iterator() {
        return records.iterator();
    }
}
