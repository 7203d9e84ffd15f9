package org.rollstream.learner.state;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rollstream.schemas.records.AuditEntry;

/**
 * The life of every prompt a run issued: in flight (waiting for a group), buffered (a group was
 * accepted and waits for a step), then exactly one final outcome, trained or dropped with a reason.
 *
 * <p>Final outcomes are remembered in a bounded window, so a group delivered twice, or a second
 * group sampled for the same prompt, is recognised and never trained. Each final outcome is also
 * queued for the next {@code StepAudit} record ({@link #drainTrained()}, {@link #drainDropped()}).
 * Not thread-safe: the learner's loop owns it.
 */
final class PromptLedger {
    enum Open { IN_FLIGHT, BUFFERED }

    private record OpenPrompt(long index, long issuedAtNs, Open state) {
    }

    private final int closedWindow;
    private final LinkedHashMap<String, OpenPrompt> open = new LinkedHashMap<>();
    private final LinkedHashMap<String, Boolean> closed = new LinkedHashMap<>(); // id -> trained?
    private final List<AuditEntry> trainedSinceAudit = new ArrayList<>();
    private final List<AuditEntry> droppedSinceAudit = new ArrayList<>();
    private final EnumMap<DropReason, Long> dropped = new EnumMap<>(DropReason.class);
    private long trained;

    PromptLedger(int closedWindow) {
        this.closedWindow = closedWindow;
        for (DropReason r : DropReason.values()) {
            dropped.put(r, 0L);
        }
    }

    void issued(String promptId, long index, long nowNs) {
        if (open.containsKey(promptId) || closed.containsKey(promptId)) {
            throw new IllegalStateException("prompt " + promptId + " issued twice");
        }
        open.put(promptId, new OpenPrompt(index, nowNs, Open.IN_FLIGHT));
    }

    /** IN_FLIGHT or BUFFERED for an open prompt, null if closed or never issued by this lineage. */
    Open state(String promptId) {
        OpenPrompt p = open.get(promptId);
        return p == null ? null : p.state();
    }

    boolean isClosed(String promptId) {
        return closed.containsKey(promptId);
    }

    void buffered(String promptId) {
        OpenPrompt p = requireOpen(promptId);
        open.put(promptId, new OpenPrompt(p.index(), p.issuedAtNs(), Open.BUFFERED));
    }

    void trained(String promptId, String groupId, long version) {
        requireOpen(promptId);
        close(promptId, true);
        trained++;
        trainedSinceAudit.add(entry(promptId, groupId, version, ""));
    }

    void dropped(String promptId, String groupId, long version, DropReason reason) {
        requireOpen(promptId);
        close(promptId, false);
        dropped.merge(reason, 1L, Long::sum);
        droppedSinceAudit.add(entry(promptId, groupId, version, reason.word()));
    }

    /** Drops every in-flight prompt issued {@code timeoutNs} or longer before {@code nowNs}; returns their ids. */
    List<String> expire(long nowNs, long timeoutNs) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, OpenPrompt> e : open.entrySet()) {
            if (e.getValue().state() == Open.IN_FLIGHT && nowNs - e.getValue().issuedAtNs() >= timeoutNs) {
                out.add(e.getKey());
            }
        }
        out.forEach(id -> dropped(id, "", -1, DropReason.TIMED_OUT));
        return out;
    }

    /** Drops everything still open (the run ended); returns how many. */
    int endRun() {
        List<String> ids = new ArrayList<>(open.keySet());
        ids.forEach(id -> dropped(id, "", -1, DropReason.RUN_ENDED));
        return ids.size();
    }

    /** Records a drop for a prompt this lineage never issued but an earlier incarnation did. */
    void droppedUnissued(String promptId, DropReason reason) {
        if (open.containsKey(promptId) || closed.containsKey(promptId)) {
            return;
        }
        rememberClosed(promptId, false);
        dropped.merge(reason, 1L, Long::sum);
        droppedSinceAudit.add(entry(promptId, "", -1, reason.word()));
    }

    long count(Open state) {
        return open.values().stream().filter(p -> p.state() == state).count();
    }

    long trainedCount() {
        return trained;
    }

    Map<DropReason, Long> droppedCounts() {
        return new EnumMap<>(dropped);
    }

    List<AuditEntry> drainTrained() {
        List<AuditEntry> out = List.copyOf(trainedSinceAudit);
        trainedSinceAudit.clear();
        return out;
    }

    List<AuditEntry> drainDropped() {
        List<AuditEntry> out = List.copyOf(droppedSinceAudit);
        droppedSinceAudit.clear();
        return out;
    }

    /** Open prompts as [id, index] in issue order (a checkpoint restores them all as in flight). */
    Map<String, Long> openPrompts() {
        Map<String, Long> out = new LinkedHashMap<>();
        open.forEach((id, p) -> out.put(id, p.index()));
        return out;
    }

    Map<String, Boolean> closedPrompts() {
        return new LinkedHashMap<>(closed);
    }

    /** An audit entry not yet written, as a checkpoint keeps it. */
    record Pending(String promptId, String groupId, long policyVersion, String reason) {
        static Pending of(AuditEntry e) {
            return new Pending(e.getPromptId().toString(), e.getGroupId().toString(), e.getPolicyVersion(),
                    e.getReason().toString());
        }

        AuditEntry entry() {
            return PromptLedger.entry(promptId, groupId, policyVersion, reason);
        }
    }

    List<Pending> pendingTrained() {
        return trainedSinceAudit.stream().map(Pending::of).toList();
    }

    List<Pending> pendingDropped() {
        return droppedSinceAudit.stream().map(Pending::of).toList();
    }

    void restore(Map<String, Long> openPrompts, Map<String, Boolean> closedPrompts, long trainedCount,
                 Map<DropReason, Long> droppedCounts, List<Pending> pendingTrained, List<Pending> pendingDropped,
                 long nowNs) {
        open.clear();
        closed.clear();
        trainedSinceAudit.clear();
        droppedSinceAudit.clear();
        // outcomes decided before the checkpoint but not yet audited go into the next record
        pendingTrained.forEach(p -> trainedSinceAudit.add(p.entry()));
        pendingDropped.forEach(p -> droppedSinceAudit.add(p.entry()));
        // waiting restarts now: a prompt must not time out for the time the learner was down
        openPrompts.forEach((id, index) -> open.put(id, new OpenPrompt(index, nowNs, Open.IN_FLIGHT)));
        closedPrompts.forEach(this::rememberClosed);
        trained = trainedCount;
        dropped.putAll(droppedCounts);
    }

    private void close(String promptId, boolean wasTrained) {
        open.remove(promptId);
        rememberClosed(promptId, wasTrained);
    }

    private void rememberClosed(String promptId, boolean wasTrained) {
        closed.put(promptId, wasTrained);
        for (Iterator<String> it = closed.keySet().iterator(); closed.size() > closedWindow && it.hasNext(); ) {
            it.next();
            it.remove();
        }
    }

    private OpenPrompt requireOpen(String promptId) {
        OpenPrompt p = open.get(promptId);
        if (p == null) {
            throw new IllegalStateException("prompt " + promptId + " is not open");
        }
        return p;
    }

    private static AuditEntry entry(String promptId, String groupId, long version, String reason) {
        return AuditEntry.newBuilder().setPromptId(promptId).setGroupId(groupId).setPolicyVersion(version)
                .setReason(reason).build();
    }
}
