package org.rollstream.learner.grpo;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Remembers which groups were trained, so a group delivered twice (at-least-once delivery, a
 * replayed offset after a crash) is trained once. Bounded: the oldest ids are forgotten first,
 * which is safe because redeliveries arrive close to the original. Saved in checkpoints.
 */
public final class GroupLedger {
    private final int capacity;
    private final Set<String> seen = new HashSet<>();
    private final ArrayDeque<String> order = new ArrayDeque<>();
    private long duplicates;

    public GroupLedger(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("ledger capacity must be at least 1");
        }
        this.capacity = capacity;
    }

    /** Records {@code groupId}; false if it was already recorded (a duplicate to skip). */
    public synchronized boolean firstTime(String groupId) {
        if (!seen.add(groupId)) {
            duplicates++;
            return false;
        }
        order.addLast(groupId);
        if (order.size() > capacity) {
            seen.remove(order.removeFirst());
        }
        return true;
    }

    public synchronized boolean contains(String groupId) {
        return seen.contains(groupId);
    }

    public synchronized long duplicates() {
        return duplicates;
    }

    public synchronized List<String> snapshot() {
        return List.copyOf(order);
    }

    public synchronized void restore(Collection<String> ids) {
        seen.clear();
        order.clear();
        ids.forEach(this::firstTime);
    }
}
