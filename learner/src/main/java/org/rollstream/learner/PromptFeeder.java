package org.rollstream.learner;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.LongSupplier;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskInstance;

/**
 * Issues training prompts while fewer than the capacity, (η + 1)·B, are in flight (AReaL's rule):
 * the actors never run further ahead of the learner than the staleness bound can absorb.
 *
 * <p>A prompt stays in flight until its group is trained, dropped or skipped, or until it times
 * out (a prompt dead-lettered on the way never comes back). Groups return in roughly the order
 * their prompts were issued, so a returning group frees the oldest slot. The cursor counts prompts issued; the
 * same cursor always issues the same prompt id, so after a restart re-issued prompts deduplicate.
 */
public final class PromptFeeder {
    private final String runId;
    private final String policyName;
    private final TaskDataset dataset;
    private final int capacity;
    private final int maxStaleness;
    private final long timeoutMs;
    private final LongSupplier clock;
    private final ArrayDeque<long[]> issuedAt = new ArrayDeque<>(); // {cursor, time}
    private Iterator<TaskInstance> source;
    private long cursor;
    private long timedOut;

    public PromptFeeder(String runId, String policyName, TaskDataset dataset, int capacity, int maxStaleness, long timeoutMs,
                        LongSupplier clock) {
        this.runId = runId;
        this.policyName = policyName;
        this.dataset = dataset;
        this.capacity = capacity;
        this.maxStaleness = maxStaleness;
        this.timeoutMs = timeoutMs;
        this.clock = clock;
        restore(0);
    }

    /** Continues from {@code cursor} prompts issued (a checkpoint's value). */
    public void restore(long cursor) {
        int perEpoch = Math.max(1, dataset.epochSize());
        this.source = dataset.train((int) (cursor / perEpoch));
        for (long skip = cursor % perEpoch; skip > 0 && source.hasNext(); skip--) {
            source.next();
        }
        this.cursor = cursor;
        this.issuedAt.clear();
    }

    public long cursor() {
        return cursor;
    }

    public long inFlight() {
        return issuedAt.size();
    }

    public long timedOut() {
        return timedOut;
    }

    /** A group came back (trained, dropped or skipped): its slot frees. */
    public void settle() {
        if (!issuedAt.isEmpty()) {
            issuedAt.removeFirst();
        }
    }

    /** The prompts to publish now to fill free capacity, stamped with the version being trained. */
    public java.util.List<Prompt> next(long currentVersion) {
        expire();
        java.util.List<Prompt> out = new java.util.ArrayList<>();
        long now = clock.getAsLong();
        while (issuedAt.size() < capacity && source.hasNext()) {
            TaskInstance inst = source.next();
            int epoch = (int) (cursor / Math.max(1, dataset.epochSize()));
            out.add(Prompt.newBuilder()
                    .setId(runId + "/" + cursor)
                    .setTask(inst.task())
                    .setText(inst.text())
                    .setAnswer(inst.answer())
                    .setFields(inst.fields())
                    .setDataset(dataset.name())
                    .setSplit("train")
                    .setEpoch(epoch)
                    .setIssuedAtVersion(currentVersion)
                    .setIssuedAtMs(now)
                    .setPolicy(policyName)
                    .setMinPolicyVersion(Math.max(0, currentVersion - maxStaleness))
                    .build());
            issuedAt.addLast(new long[] {cursor, now});
            cursor++;
        }
        return out;
    }

    private void expire() {
        long now = clock.getAsLong();
        while (!issuedAt.isEmpty() && now - issuedAt.peekFirst()[1] > timeoutMs) {
            issuedAt.removeFirst();
            timedOut++;
        }
    }
}
