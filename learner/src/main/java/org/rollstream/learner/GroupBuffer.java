package org.rollstream.learner;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.rollstream.learner.grpo.DynamicSampling;
import org.rollstream.learner.grpo.StalenessGate;
import org.rollstream.learner.grpo.TrainingGroup;

/**
 * Groups received but not yet trained, in arrival order, with where each came from.
 *
 * <p>It decides what the next step trains: B fresh informative groups (dynamic sampling), judged
 * stale against the version being trained at that moment — a group that waited here while versions
 * advanced may have become too old. It also knows the offsets a checkpoint may safely record: the
 * earliest untrained group of each partition, so a restart re-reads what was buffered and the
 * ledger skips what was already trained.
 */
final class GroupBuffer {
    private record Entry(TrainingGroup group, int partition, long offset) {
    }

    private final int groupsPerStep;
    private final boolean dynamicSampling;
    private final List<Entry> informative = new ArrayList<>();
    private final List<Entry> uninformative = new ArrayList<>();
    private long skipped;
    private long skippedSinceStep;
    private double rewardSum;
    private long rewardGroups;

    GroupBuffer(int groupsPerStep, boolean dynamicSampling) {
        this.groupsPerStep = groupsPerStep;
        this.dynamicSampling = dynamicSampling;
    }

    void add(TrainingGroup g, int partition, long offset) {
        rewardSum += g.meanReward();
        rewardGroups++;
        if (dynamicSampling && !DynamicSampling.informative(g.rewards())) {
            skipped++;
            skippedSinceStep++;
            uninformative.add(new Entry(g, partition, offset));
        } else {
            informative.add(new Entry(g, partition, offset));
        }
    }

    /**
     * The next step's B groups, or null when there are not enough fresh ones yet. Stale groups met on
     * the way are dropped (and counted by the gate). After 4·B uninformative groups in a row the step
     * is filled up with them, so a run whose groups all agree cannot stall.
     */
    List<TrainingGroup> take(StalenessGate gate, long version) {
        List<Entry> candidates = informative;
        if (fresh(informative, gate, version) < groupsPerStep && skippedSinceStep >= 4L * groupsPerStep) {
            candidates = new ArrayList<>(informative);
            candidates.addAll(uninformative);
        }
        if (fresh(candidates, gate, version) < groupsPerStep) {
            return null;
        }
        List<TrainingGroup> out = new ArrayList<>(groupsPerStep);
        List<Entry> taken = new ArrayList<>();
        for (Iterator<Entry> it = candidates.iterator(); it.hasNext() && out.size() < groupsPerStep; ) {
            Entry e = it.next();
            taken.add(e);
            if (gate.admit(e.group().policyVersion(), version)) {
                out.add(e.group());
            }
        }
        informative.removeAll(taken);
        uninformative.clear(); // skipped groups carry no signal: once a step is taken they are done with
        skippedSinceStep = 0;
        return out;
    }

    /** Offsets a checkpoint may record: the consumer's positions, moved back to the earliest buffered group. */
    Map<Integer, Long> safeOffsets(Map<Integer, Long> positions) {
        Map<Integer, Long> out = new HashMap<>(positions);
        for (Entry e : informative) {
            out.merge(e.partition(), e.offset(), Math::min);
        }
        return out;
    }

    /** Mean reward of every group received since the last call, informative or not; NaN if none. */
    double drainMeanReward() {
        double mean = rewardGroups == 0 ? Double.NaN : rewardSum / rewardGroups;
        rewardSum = 0;
        rewardGroups = 0;
        return mean;
    }

    long skipped() {
        return skipped;
    }

    int size() {
        return informative.size();
    }

    private static int fresh(List<Entry> entries, StalenessGate gate, long version) {
        int n = 0;
        for (Entry e : entries) {
            if (gate.isFresh(e.group().policyVersion(), version)) {
                n++;
            }
        }
        return n;
    }
}
