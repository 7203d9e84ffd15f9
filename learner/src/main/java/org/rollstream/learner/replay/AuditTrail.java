package org.rollstream.learner.replay;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.StepAudit;

/**
 * The effective audit log of one run: per learner step, the {@code STEP} record of the highest
 * incarnation that wrote one (a restarted incarnation supersedes what a crashed one logged for the
 * same step). Records of other runs and {@code END} records are ignored.
 */
public final class AuditTrail {
    private final String runId;
    private final Map<Long, StepAudit> byStep;

    private AuditTrail(String runId, Map<Long, StepAudit> byStep) {
        this.runId = runId;
        this.byStep = byStep;
    }

    /** Builds the effective log of {@code runId} from records in log order. */
    public static AuditTrail of(String runId, Iterable<StepAudit> records) {
        Map<Long, StepAudit> best = new HashMap<>();
        for (StepAudit a : records) {
            if (!runId.contentEquals(a.getRunId()) || a.getKind() != AuditKind.STEP) {
                continue;
            }
            // equal incarnations: the later record wins (a re-sent one carries the same content)
            best.merge(a.getStep(), a, (old, now) -> now.getIncarnation() >= old.getIncarnation() ? now : old);
        }
        return new AuditTrail(runId, new TreeMap<>(best));
    }

    /**
     * The groups step {@code step} trained, in the order the trainer saw them.
     *
     * @throws ReplayException when the log has no record of that step
     */
    public List<AuditEntry> trained(long step) {
        StepAudit a = byStep.get(step);
        if (a == null) {
            throw new ReplayException("no StepAudit record of step " + step + " of run " + runId + " on learner.audit"
                    + (byStep.isEmpty() ? " (the topic has none for this run)" : " (it has steps " + firstStep() + ".."
                    + lastStep() + ", " + byStep.size() + " records)"));
        }
        return a.getTrained();
    }

    /** The incarnation whose record of {@code step} is effective, or -1. */
    public long incarnation(long step) {
        StepAudit a = byStep.get(step);
        return a == null ? -1 : a.getIncarnation();
    }

    public long firstStep() {
        return byStep.isEmpty() ? -1 : ((TreeMap<Long, StepAudit>) byStep).firstKey();
    }

    public long lastStep() {
        return byStep.isEmpty() ? -1 : ((TreeMap<Long, StepAudit>) byStep).lastKey();
    }

    /** The step that trained {@code groupId}, or -1. */
    public long stepOfGroup(String groupId) {
        for (Map.Entry<Long, StepAudit> e : byStep.entrySet()) {
            for (AuditEntry t : e.getValue().getTrained()) {
                if (groupId.contentEquals(t.getGroupId())) {
                    return e.getKey();
                }
            }
        }
        return -1;
    }
}
