package org.rollstream.reward.topic;

import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.rollstream.transport.time.Time;

/**
 * Where components of the topic protocol meet the groups waiting for them, by (group id,
 * component). A component may arrive before its group is scored (external scorers read
 * {@code rollouts.sampled} too) or after; either way the first one offered wins and later copies
 * (at-least-once delivery) are ignored. Entries are kept for {@code retention} after they were
 * created, so a group delivered again after a missed deadline still finds a late component, and at
 * most {@code capacity} are kept (oldest dropped first). Thread-safe.
 */
public final class ComponentJoin {
    private record Key(String groupId, String component) {
    }

    private static final class Entry {
        final CompletableFuture<PartialScore> value = new CompletableFuture<>();
        final long createdNs;

        Entry(long createdNs) {
            this.createdNs = createdNs;
        }
    }

    private final Time time;
    private final long retentionNs;
    private final int capacity;
    private final Map<Key, Entry> entries = new LinkedHashMap<>(); // guarded by this; creation order
    private final AtomicLong offered = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();

    public ComponentJoin(Time time, Duration retention, int capacity) {
        this.time = time;
        this.retentionNs = retention.toNanos();
        this.capacity = capacity;
    }

    /** Ten minutes, 100 000 entries, the system clock. */
    public static ComponentJoin defaults() {
        return new ComponentJoin(Time.SYSTEM, Duration.ofMinutes(10), 100_000);
    }

    /** Hands a component over; completes whoever waits for it. */
    public void offer(PartialScore p) {
        offered.incrementAndGet();
        if (!entry(new Key(p.groupId(), p.component())).value.complete(p)) {
            duplicates.incrementAndGet();
        }
    }

    /**
     * Waits up to {@code deadline} for the component.
     *
     * @throws TimeoutException     when it did not come in time (it may still come; ask again later)
     * @throws InterruptedException when interrupted while waiting
     */
    public PartialScore await(String groupId, String component, Duration deadline) throws TimeoutException, InterruptedException {
        CompletableFuture<PartialScore> f = entry(new Key(groupId, component)).value;
        try {
            return f.get(deadline.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a component future never fails", e);
        }
    }

    private synchronized Entry entry(Key key) {
        long now = time.nanoseconds();
        Entry e = entries.get(key);
        if (e == null) {
            e = new Entry(now);
            entries.put(key, e);
        }
        evict(now);
        return e;
    }

    private void evict(long now) {
        Iterator<Entry> it = entries.values().iterator();
        int size = entries.size();
        while (it.hasNext()) {
            Entry e = it.next();
            if (size > capacity || now - e.createdNs > retentionNs) {
                it.remove();
                size--;
            } else {
                break; // creation order: the rest are younger
            }
        }
    }

    /** Components offered so far, duplicates included. */
    public long offered() {
        return offered.get();
    }

    /** Components offered for a key that already had one. */
    public long duplicates() {
        return duplicates.get();
    }

    public synchronized int size() {
        return entries.size();
    }
}
