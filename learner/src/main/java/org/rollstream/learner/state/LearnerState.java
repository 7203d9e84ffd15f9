package org.rollstream.learner.state;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.StepAudit;
import org.rollstream.transport.time.Time;

/**
 * The learner's bookkeeping as one restart-safe state machine: which prompts are in flight, which
 * groups wait for a step, what each step trained, which versions the lineage published, and how
 * many prompts may be issued. Version, ledger, buffer, feeder cursor and offsets change together
 * here and are saved together in one {@link Snapshot}; nothing here touches Kafka or tensors.
 *
 * <p>Guarantees:
 * <ul>
 *   <li>A prompt is trained at most once and ends with exactly one outcome: trained, or dropped
 *       with a {@link DropReason}. "Received" and "trained" are different states: a group accepted
 *       into the buffer is trained only by {@link #trained}, and a restore returns buffered prompts
 *       to in flight, so a resume retrains exactly the groups that were buffered but not trained.</li>
 *   <li>Capacity follows the trainer's version (AReaL): groups accepted so far plus prompts in flight
 *       never exceed (η + v + 1)·B, v = steps trained. Dropped and timed-out prompts give their room
 *       back; duplicates never add room. So the buffer holds at most (η + 1)·B groups.</li>
 *   <li>A group is trained only if its sampling version is in the surviving lineage and at most η
 *       weight updates old when the step starts; groups sampled by an abandoned version (a crashed
 *       incarnation's) are ignored and their prompt stays in flight, since a restore re-issues it.</li>
 * </ul>
 * Not thread-safe: the learner's loop owns it.
 */
public final class LearnerState {
    /** Final outcomes remembered for deduplication. */
    static final int CLOSED_WINDOW = 200_000;

    /** What {@link #receive} did with a group. */
    public enum Receipt { ACCEPTED, DUPLICATE, NOT_IN_FLIGHT, ABANDONED_VERSION, DROPPED_STALE, DROPPED_UNINFORMATIVE }

    /** The groups of one step, in arrival order. */
    public record Batch(List<String> promptIds, List<TrainingGroup> groups) {
    }

    private record Buffered(String promptId, TrainingGroup group, int partition, long offset) {
    }

    private final RunIdentity identity;
    private final int groupsPerStep;
    private final int maxStaleness;
    private final int samplingLag;
    private final boolean dynamicSampling;
    private final long promptTimeoutNs;
    private final Time time;
    private final PromptLedger ledger = new PromptLedger(CLOSED_WINDOW);
    private final List<Buffered> buffer = new ArrayList<>();
    private VersionLineage lineage = new VersionLineage();
    private long step;
    private long cursor;
    private long maxIssuedIndex = -1;
    private long uninformativeSinceStep;
    private long duplicates;
    private long ignoredAbandoned;
    private long ignoredNotInFlight;

    public LearnerState(RunIdentity identity, int groupsPerStep, int maxStaleness, boolean dynamicSampling,
                        long promptTimeoutMs, Time time) {
        this(identity, groupsPerStep, maxStaleness, 0, dynamicSampling, promptTimeoutMs, time);
    }

    /**
     * @param samplingLag a: a prompt may be sampled by weights up to a updates older than the newest at
     *                    its issue ({@link #minSamplingVersion()}); 0 ≤ a ≤ η
     */
    public LearnerState(RunIdentity identity, int groupsPerStep, int maxStaleness, int samplingLag, boolean dynamicSampling,
                        long promptTimeoutMs, Time time) {
        if (groupsPerStep < 1 || maxStaleness < 0 || promptTimeoutMs <= 0 || samplingLag < 0 || samplingLag > maxStaleness) {
            throw new IllegalArgumentException("need B ≥ 1, η ≥ 0, 0 ≤ sampling lag ≤ η and a positive prompt timeout, got B="
                    + groupsPerStep + ", η=" + maxStaleness + ", lag " + samplingLag + ", timeout " + promptTimeoutMs + " ms");
        }
        this.samplingLag = samplingLag;
        this.identity = identity;
        this.groupsPerStep = groupsPerStep;
        this.maxStaleness = maxStaleness;
        this.dynamicSampling = dynamicSampling;
        this.promptTimeoutNs = promptTimeoutMs * 1_000_000L;
        this.time = time;
    }

    // ---- feeding ----------------------------------------------------------------------------

    /**
     * Prompts that may be issued now: (η − a + v + 1)·B − accepted − in flight, never negative. A prompt
     * issued now is trained by step η − a + v + 1 at the latest, with weights at most η − a updates
     * newer than the newest now; sampled with weights at most a updates older than that
     * ({@link #minSamplingVersion()}), it is at most η old when trained.
     */
    public long room() {
        long accepted = ledger.trainedCount() + buffer.size();
        long inFlight = ledger.count(PromptLedger.Open.IN_FLIGHT);
        return Math.max(0, (maxStaleness - samplingLag + step + 1) * groupsPerStep - accepted - inFlight);
    }

    /**
     * The oldest version that may sample a prompt issued now: the newest, or with a sampling lag a the
     * oldest at most a updates behind it, so actors start on new prompts with weights they already serve
     * instead of waiting for the newest to travel.
     */
    public long minSamplingVersion() {
        return lineage.oldestWithin(samplingLag);
    }

    /** Marks the next prompt (index {@link #cursor()}) issued; returns its id. */
    public String issueNext() {
        if (room() <= 0) {
            throw new IllegalStateException("no room to issue a prompt: " + describe());
        }
        long index = cursor++;
        maxIssuedIndex = Math.max(maxIssuedIndex, index);
        String id = identity.promptId(index);
        ledger.issued(id, index, time.nanoseconds());
        return id;
    }

    /** Notes that some incarnation issued prompt {@code index} (found on the prompts topic after a checkpoint). */
    public void sawIssued(long index) {
        maxIssuedIndex = Math.max(maxIssuedIndex, index);
    }

    /** In-flight prompts whose group has not come back in time: dropped as timed out. */
    public List<String> expire() {
        return ledger.expire(time.nanoseconds(), promptTimeoutNs);
    }

    // ---- receiving --------------------------------------------------------------------------

    /**
     * Offers a valid, converted group for {@code promptId}. {@code ourWeights} is false when the group
     * names another run's weights. Informative means the rewards differ (dynamic sampling).
     */
    public Receipt receive(String promptId, TrainingGroup group, boolean ourWeights, boolean informative,
                           int partition, long offset) {
        if (ledger.isClosed(promptId) || ledger.state(promptId) == PromptLedger.Open.BUFFERED) {
            duplicates++;
            return Receipt.DUPLICATE;
        }
        if (ledger.state(promptId) == null) {
            ignoredNotInFlight++;
            return Receipt.NOT_IN_FLIGHT;
        }
        long v = group.policyVersion();
        VersionLineage.Status status = ourWeights ? lineage.status(v) : VersionLineage.Status.ABANDONED;
        if (status == VersionLineage.Status.ABANDONED) {
            ignoredAbandoned++;
            return Receipt.ABANDONED_VERSION;
        }
        if (status == VersionLineage.Status.TOO_OLD || lineage.staleness(v) > maxStaleness) {
            ledger.dropped(promptId, group.groupId(), v, DropReason.STALE);
            return Receipt.DROPPED_STALE;
        }
        // after 4·B uninformative groups since the last step, take them anyway: a run whose groups all
        // agree must not stall
        if (dynamicSampling && !informative && uninformativeSinceStep < 4L * groupsPerStep) {
            uninformativeSinceStep++;
            ledger.dropped(promptId, group.groupId(), v, DropReason.UNINFORMATIVE);
            return Receipt.DROPPED_UNINFORMATIVE;
        }
        ledger.buffered(promptId);
        buffer.add(new Buffered(promptId, group, partition, offset));
        return Receipt.ACCEPTED;
    }

    /** A group for {@code promptId} decoded but was invalid: an in-flight prompt is dropped; returns whether it was. */
    public boolean invalid(String promptId, String groupId, long version) {
        if (ledger.state(promptId) != PromptLedger.Open.IN_FLIGHT) {
            return false;
        }
        ledger.dropped(promptId, groupId, version, DropReason.INVALID);
        return true;
    }

    // ---- training ---------------------------------------------------------------------------

    /**
     * The next step's B groups in arrival order, or null when fewer than B fresh ones wait. Groups that
     * have become more than η updates old while waiting are dropped as stale on the way.
     */
    public Batch nextBatch() {
        for (Iterator<Buffered> it = buffer.iterator(); it.hasNext(); ) {
            Buffered b = it.next();
            long v = b.group().policyVersion();
            if (lineage.status(v) != VersionLineage.Status.LINEAGE || lineage.staleness(v) > maxStaleness) {
                it.remove();
                ledger.dropped(b.promptId(), b.group().groupId(), v, DropReason.STALE);
            }
        }
        if (buffer.size() < groupsPerStep) {
            return null;
        }
        List<String> ids = new ArrayList<>(groupsPerStep);
        List<TrainingGroup> groups = new ArrayList<>(groupsPerStep);
        for (Buffered b : buffer.subList(0, groupsPerStep)) {
            ids.add(b.promptId());
            groups.add(b.group());
        }
        return new Batch(List.copyOf(ids), List.copyOf(groups));
    }

    /** The step on {@code batch} is done: its prompts are trained and the step count advances. */
    public void trained(Batch batch) {
        if (buffer.size() < batch.groups().size()) {
            throw new IllegalStateException("batch is not the buffer's head");
        }
        for (int i = 0; i < batch.groups().size(); i++) {
            Buffered b = buffer.get(0);
            if (!b.promptId().equals(batch.promptIds().get(i))) {
                throw new IllegalStateException("batch is not the buffer's head: " + b.promptId());
            }
            buffer.remove(0);
            ledger.trained(b.promptId(), b.group().groupId(), b.group().policyVersion());
        }
        step++;
        uninformativeSinceStep = 0;
    }

    /** Registers a published version for the weights after {@link #step()} steps; returns its number. */
    public long publish() {
        return lineage.publish(step);
    }

    /** A version some incarnation published (a weight file found on disk): later versions number above it. */
    public void sawPublished(long version) {
        lineage.sawPublished(version);
    }

    /** Everything still open ends as run-ended, including prompts an earlier incarnation issued beyond the cursor. */
    public void endRun() {
        ledger.endRun();
        for (long i = cursor; i <= maxIssuedIndex; i++) {
            ledger.droppedUnissued(identity.promptId(i), DropReason.RUN_ENDED);
        }
    }

    /** The audit record of what happened since the last one (trained groups, dropped prompts). */
    public StepAudit audit(AuditKind kind) {
        return StepAudit.newBuilder().setRunId(identity.runId()).setIncarnation(identity.incarnation()).setStep(step)
                .setKind(kind).setPolicyVersion(version())
                .setTrained(ledger.drainTrained()).setDropped(ledger.drainDropped())
                .setTimestampMs(time.milliseconds()).build();
    }

    // ---- reading ----------------------------------------------------------------------------

    public RunIdentity identity() {
        return identity;
    }

    public long step() {
        return step;
    }

    public long cursor() {
        return cursor;
    }

    /** The current published version; -1 before the first. */
    public long version() {
        return lineage.isEmpty() ? -1 : lineage.current();
    }

    /** Weight updates between {@code version} and the current one; -1 if not of this lineage. */
    public long staleness(long version) {
        return lineage.status(version) == VersionLineage.Status.LINEAGE ? lineage.staleness(version) : -1;
    }

    public long inFlight() {
        return ledger.count(PromptLedger.Open.IN_FLIGHT);
    }

    public int buffered() {
        return buffer.size();
    }

    public long trainedPrompts() {
        return ledger.trainedCount();
    }

    public long dropped(DropReason reason) {
        return ledger.droppedCounts().get(reason);
    }

    public long duplicates() {
        return duplicates;
    }

    public long ignoredAbandoned() {
        return ignoredAbandoned;
    }

    public long ignoredNotInFlight() {
        return ignoredNotInFlight;
    }

    /** Prompts open at a restore: they must be issued again ([id, index] in issue order). */
    public Map<String, Long> openPrompts() {
        return ledger.openPrompts();
    }

    public String describe() {
        return "step " + step + ", cursor " + cursor + ", in flight " + inFlight() + ", buffered " + buffer.size()
                + ", trained " + ledger.trainedCount() + ", B " + groupsPerStep + ", η " + maxStaleness + ", lag " + samplingLag;
    }

    // ---- checkpoint -------------------------------------------------------------------------

    /**
     * What a checkpoint saves. {@code offsets} are the consumed positions moved back to the earliest
     * buffered group of each partition, so a restore re-reads exactly the groups that were buffered.
     */
    public record Snapshot(String runId, long step, long cursor, long maxIssuedIndex, List<long[]> lineage,
                           long highestPublished, Map<String, Long> openPrompts, Map<String, Boolean> closedPrompts,
                           long trainedPrompts, Map<DropReason, Long> dropped, long duplicates,
                           List<PromptLedger.Pending> pendingTrained, List<PromptLedger.Pending> pendingDropped,
                           Map<Integer, Long> offsets, Map<Integer, Long> promptOffsets) {
    }

    /**
     * The state now, with {@code positions} (partition → next offset of rollouts.scored to read) made safe to
     * resume from, and {@code promptOffsets} (the end of the prompts topic now: a restore scans from there for
     * prompts issued after this snapshot by an incarnation that then crashed). Outcomes not yet audited are
     * kept, so the next incarnation writes them.
     */
    public Snapshot snapshot(Map<Integer, Long> positions, Map<Integer, Long> promptOffsets) {
        Map<Integer, Long> offsets = new HashMap<>(positions);
        for (Buffered b : buffer) {
            offsets.merge(b.partition(), b.offset(), Math::min);
        }
        return new Snapshot(identity.runId(), step, cursor, maxIssuedIndex, lineage.entries(), lineage.highestPublished(),
                ledger.openPrompts(), ledger.closedPrompts(), ledger.trainedCount(), ledger.droppedCounts(), duplicates,
                ledger.pendingTrained(), ledger.pendingDropped(), offsets, Map.copyOf(promptOffsets));
    }

    /** Continues from {@code s}; buffered prompts become in flight again and wait afresh from now. */
    public void restore(Snapshot s) {
        if (!s.runId().equals(identity.runId())) {
            throw new IllegalStateException("checkpoint of run " + s.runId() + " cannot resume run " + identity.runId());
        }
        step = s.step();
        cursor = s.cursor();
        maxIssuedIndex = Math.max(s.maxIssuedIndex(), cursor - 1);
        lineage = VersionLineage.restore(s.lineage(), s.highestPublished());
        buffer.clear();
        ledger.restore(s.openPrompts(), s.closedPrompts(), s.trainedPrompts(), s.dropped(), s.pendingTrained(),
                s.pendingDropped(), time.nanoseconds());
        duplicates = s.duplicates();
        uninformativeSinceStep = 0;
    }
}
