package org.rollstream.learner.state;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The policy versions of the surviving lineage of a run, each with the learner step it was
 * published at, and the highest version ever published (by any incarnation).
 *
 * <p>Versions strictly increase across restarts: a resumed learner publishes its checkpoint's
 * weights again under a new number ({@link #publish}) rather than reusing the checkpoint's, so an
 * actor can never confuse them with what a crashed incarnation published after that checkpoint.
 * Those abandoned versions are not in the lineage, and groups they sampled are recognised as such.
 *
 * <p>Staleness counts weight updates, not numbers: a re-publish of unchanged weights after a restart
 * (same step) does not make earlier groups older.
 */
public final class VersionLineage {
    /** Versions kept; enough for any staleness bound worth running with. */
    static final int KEEP = 256;

    /** How a group's sampling version relates to this lineage. */
    public enum Status {
        /** Published by this lineage; its staleness is meaningful. */
        LINEAGE,
        /** Older than every version remembered: certainly too stale. */
        TOO_OLD,
        /** Not published by this lineage: a crashed incarnation's version after its last checkpoint. */
        ABANDONED
    }

    private final TreeMap<Long, Long> stepOf = new TreeMap<>();
    private long highestPublished = -1;

    /** Registers the next version for weights after {@code step} trained steps; returns its number. */
    public long publish(long step) {
        long v = highestPublished + 1;
        if (!stepOf.isEmpty() && step < stepOf.lastEntry().getValue()) {
            throw new IllegalStateException("step " + step + " is before the lineage's last step " + stepOf.lastEntry().getValue());
        }
        stepOf.put(v, step);
        highestPublished = v;
        while (stepOf.size() > KEEP) {
            stepOf.pollFirstEntry();
        }
        return v;
    }

    /** Raises the highest published version, e.g. to what a crashed incarnation published (weight files found). */
    public void sawPublished(long version) {
        highestPublished = Math.max(highestPublished, version);
    }

    public long current() {
        if (stepOf.isEmpty()) {
            throw new IllegalStateException("no version published yet");
        }
        return stepOf.lastKey();
    }

    public boolean isEmpty() {
        return stepOf.isEmpty();
    }

    public long highestPublished() {
        return highestPublished;
    }

    public Status status(long version) {
        if (stepOf.containsKey(version)) {
            return Status.LINEAGE;
        }
        if (stepOf.isEmpty() || version < stepOf.firstKey()) {
            return Status.TOO_OLD;
        }
        return Status.ABANDONED;
    }

    /** Weight updates between {@code version} (of the lineage) and the current version. */
    public long staleness(long version) {
        Long step = stepOf.get(version);
        if (step == null) {
            throw new IllegalArgumentException("version " + version + " is not in the lineage");
        }
        long updates = 0;
        long last = step;
        for (Map.Entry<Long, Long> e : stepOf.tailMap(version, false).entrySet()) {
            if (e.getValue() > last) {
                updates++;
                last = e.getValue();
            }
        }
        return updates;
    }

    /**
     * The oldest version at most {@code updates} weight updates behind the newest, walking back over
     * consecutive numbers only: a gap holds a crashed incarnation's versions, which must never sample.
     */
    public long oldestWithin(int updates) {
        long v = current();
        while (stepOf.containsKey(v - 1) && staleness(v - 1) <= updates) {
            v--;
        }
        return v;
    }

    /** [version, step] pairs, oldest first, for a checkpoint. */
    public List<long[]> entries() {
        List<long[]> out = new ArrayList<>();
        stepOf.forEach((v, s) -> out.add(new long[] {v, s}));
        return out;
    }

    public static VersionLineage restore(List<long[]> entries, long highestPublished) {
        VersionLineage l = new VersionLineage();
        for (long[] e : entries) {
            l.stepOf.put(e[0], e[1]);
        }
        l.highestPublished = Math.max(highestPublished, l.stepOf.isEmpty() ? -1 : l.stepOf.lastKey());
        return l;
    }
}
