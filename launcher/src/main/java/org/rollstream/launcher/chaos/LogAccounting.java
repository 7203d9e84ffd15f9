package org.rollstream.launcher.chaos;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.AuditKind;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.records.StepAudit;

/**
 * Accounts for every prompt a run issued, from the log alone: the prompts on {@code prompts}, the
 * learner's {@link StepAudit} records on {@code learner.audit} and the announcements on
 * {@code policy.versions}. Process output is never consulted, so a learner cannot pass by saying so.
 *
 * <p><b>Effective audit log.</b> A restarted learner incarnation resumes from a checkpoint and
 * trains the steps after it again; its records replace the earlier incarnation's. A record of
 * incarnation {@code i} counts unless a later incarnation {@code j > i} replaces it:
 * <ul>
 *   <li>a STEP record at step {@code s} is replaced if {@code j} resumed from a checkpoint before
 *       {@code s}: {@code j} has a STEP record at a step {@code <= s}, or an END record at a step
 *       {@code < s} (an END repeats the step the incarnation stopped at);</li>
 *   <li>an END record is replaced by any record of a later incarnation (the run went on).</li>
 * </ul>
 * This is "per step, the record of the highest incarnation", with STEP and END kept apart (a run
 * resumed at its final checkpoint writes only an END at the last step, which must not void that
 * step's training) and with a resume point that also voids steps nobody wrote again.
 *
 * <p><b>What must hold</b> (each failure is listed in {@link Result#violations()}): every issued
 * prompt id is trained exactly once or dropped with a known reason, never both; nothing is trained
 * that was never issued; every trained group was sampled with a version this run published; the
 * run's published versions strictly increase in publish order; no incarnation writes the same
 * step twice.
 *
 * <p>Pure and deterministic: it only reads the lists it is given.
 */
public final class LogAccounting {
    /** Reasons a learner may give for dropping a prompt (StepAudit's contract). */
    public static final Set<String> KNOWN_REASONS = Set.of(
            "stale", "abandoned-version", "uninformative", "invalid", "timed-out", "run-ended");

    private LogAccounting() {
    }

    /**
     * What the log says about one run.
     *
     * @param issued              distinct prompt ids issued by the run
     * @param trained             prompt ids trained exactly once (and never dropped)
     * @param droppedByReason     prompt ids dropped (never trained), by the reason of their first drop
     * @param lost                issued, neither trained nor dropped
     * @param trainedTwice        trained in two or more effective steps
     * @param droppedAndTrained   both dropped and trained in the effective log
     * @param droppedWithoutReason dropped only with an empty or unknown reason
     * @param trainedNeverIssued  trained, but never seen on {@code prompts} for this run
     * @param unpublishedVersions "promptId@version" of trained groups whose version this run never published
     * @param versionProblems     published versions that did not increase, in publish order
     * @param duplicateRecords    "incarnation/kind/step" written more than once
     * @param auditRecords        audit records of the run in the log
     * @param supersededRecords   of those, replaced by a later incarnation
     * @param effectiveSteps      STEP records in the effective log
     * @param incarnations        distinct incarnations that wrote audit records
     * @param published           versions this run published
     * @param ended               the effective log has an END record
     */
    public record Result(int issued, Set<String> trained, Map<String, Set<String>> droppedByReason,
                         List<String> lost, List<String> trainedTwice, List<String> droppedAndTrained,
                         List<String> droppedWithoutReason, List<String> trainedNeverIssued,
                         List<String> unpublishedVersions, List<String> versionProblems,
                         List<String> duplicateRecords, int auditRecords, int supersededRecords,
                         int effectiveSteps, int incarnations, int published, boolean ended) {

        public int droppedTotal() {
            return droppedByReason.values().stream().mapToInt(Set::size).sum();
        }

        /** Every broken promise, one line each (ids abbreviated); empty when the run accounts for everything. */
        public List<String> violations() {
            List<String> v = new ArrayList<>();
            if (auditRecords == 0) {
                v.add("no StepAudit records for this run on learner.audit: nothing can be accounted for");
            }
            if (issued == 0) {
                v.add("no prompts of this run on the prompts topic");
            }
            add(v, "lost (issued, neither trained nor dropped)", lost);
            add(v, "trained twice", trainedTwice);
            add(v, "dropped and also trained", droppedAndTrained);
            add(v, "dropped without a known reason", droppedWithoutReason);
            add(v, "trained but never issued", trainedNeverIssued);
            add(v, "trained with a version this run never published", unpublishedVersions);
            add(v, "published versions not strictly increasing", versionProblems);
            add(v, "audit record written twice by one incarnation", duplicateRecords);
            return v;
        }

        public boolean ok() {
            return violations().isEmpty();
        }

        private static void add(List<String> out, String what, List<String> ids) {
            if (!ids.isEmpty()) {
                List<String> shown = ids.subList(0, Math.min(8, ids.size()));
                out.add(ids.size() + " " + what + ": " + String.join(", ", shown) + (ids.size() > shown.size() ? ", ..." : ""));
            }
        }
    }

    /**
     * Accounts for run {@code runId}. Records of other runs are ignored. A prompt belongs to the run
     * if its {@code runId} is the run's, or, for prompts written before prompts carried a run id,
     * if its id starts with {@code runId + "/"}.
     *
     * @param prompts  records of {@code prompts}, any order (re-issued ids count once)
     * @param audits   records of {@code learner.audit} in log order
     * @param versions records of {@code policy.versions} in log (publish) order
     */
    public static Result account(String runId, Collection<Prompt> prompts, List<StepAudit> audits,
                                 List<PolicyVersion> versions) {
        Set<String> issued = new LinkedHashSet<>();
        for (Prompt p : prompts) {
            String pr = p.getRunId();
            if (runId.equals(pr) || (pr.isEmpty() && p.getId().startsWith(runId + "/"))) {
                issued.add(p.getId());
            }
        }

        List<StepAudit> mine = audits.stream().filter(a -> runId.equals(a.getRunId())).toList();
        List<String> duplicates = new ArrayList<>();
        Map<String, StepAudit> unique = new LinkedHashMap<>(); // the last of each (incarnation, kind, step)
        for (StepAudit a : mine) {
            String key = a.getIncarnation() + "/" + a.getKind() + "/" + a.getStep();
            if (unique.put(key, a) != null) {
                duplicates.add(key);
            }
        }
        List<StepAudit> effective = effective(unique.values());

        Map<String, Integer> trainedCount = new HashMap<>();
        Map<String, List<String>> dropReasons = new HashMap<>();
        Set<Long> published = new HashSet<>();
        List<String> versionProblems = new ArrayList<>();
        long highest = Long.MIN_VALUE;
        for (PolicyVersion pv : versions) {
            if (!runId.equals(pv.getRunId())) {
                continue;
            }
            if (pv.getVersion() <= highest) {
                versionProblems.add("v" + pv.getVersion() + " (incarnation " + pv.getIncarnation()
                        + ") after v" + highest);
            }
            highest = Math.max(highest, pv.getVersion());
            published.add(pv.getVersion());
        }
        List<String> unpublished = new ArrayList<>();
        for (StepAudit a : effective) {
            for (AuditEntry e : a.getTrained()) {
                trainedCount.merge(e.getPromptId(), 1, Integer::sum);
                if (!published.contains(e.getPolicyVersion())) {
                    unpublished.add(e.getPromptId() + "@" + e.getPolicyVersion());
                }
            }
            for (AuditEntry e : a.getDropped()) {
                dropReasons.computeIfAbsent(e.getPromptId(), k -> new ArrayList<>()).add(e.getReason());
            }
        }

        Set<String> trained = new LinkedHashSet<>();
        Map<String, Set<String>> droppedByReason = new TreeMap<>();
        List<String> lost = new ArrayList<>();
        List<String> twice = new ArrayList<>();
        List<String> droppedAndTrained = new ArrayList<>();
        List<String> noReason = new ArrayList<>();
        for (String id : issued) {
            int t = trainedCount.getOrDefault(id, 0);
            List<String> reasons = dropReasons.getOrDefault(id, List.of());
            if (t > 1) {
                twice.add(id + " (" + t + "x)");
            } else if (t == 1 && !reasons.isEmpty()) {
                droppedAndTrained.add(id + " (" + reasons.get(0) + ")");
            } else if (t == 1) {
                trained.add(id);
            } else if (reasons.isEmpty()) {
                lost.add(id);
            } else if (reasons.stream().noneMatch(KNOWN_REASONS::contains)) {
                noReason.add(id + " (\"" + reasons.get(0) + "\")");
            } else {
                String reason = reasons.stream().filter(KNOWN_REASONS::contains).findFirst().orElseThrow();
                droppedByReason.computeIfAbsent(reason, k -> new LinkedHashSet<>()).add(id);
            }
        }
        List<String> neverIssued = new ArrayList<>();
        trainedCount.forEach((id, n) -> {
            if (!issued.contains(id)) {
                neverIssued.add(id);
            }
        });
        neverIssued.sort(null);

        Set<Long> incarnations = new HashSet<>();
        mine.forEach(a -> incarnations.add(a.getIncarnation()));
        boolean ended = effective.stream().anyMatch(a -> a.getKind() == AuditKind.END);
        int steps = (int) effective.stream().filter(a -> a.getKind() == AuditKind.STEP).count();
        return new Result(issued.size(), trained, droppedByReason, lost, twice, droppedAndTrained, noReason, neverIssued,
                unpublished, versionProblems, duplicates, mine.size(), unique.size() - effective.size(), steps,
                incarnations.size(), published.size(), ended);
    }

    /** The records no later incarnation replaced (see the class comment), in their given order. */
    static List<StepAudit> effective(Collection<StepAudit> records) {
        // per incarnation: the earliest STEP it wrote, and the step of its END (if any)
        Map<Long, Long> firstStep = new HashMap<>();
        Map<Long, Long> endStep = new HashMap<>();
        for (StepAudit a : records) {
            if (a.getKind() == AuditKind.STEP) {
                firstStep.merge(a.getIncarnation(), a.getStep(), Math::min);
            } else {
                endStep.merge(a.getIncarnation(), a.getStep(), Math::min);
            }
        }
        Set<Long> writers = new HashSet<>(firstStep.keySet());
        writers.addAll(endStep.keySet());
        List<StepAudit> kept = new ArrayList<>();
        for (StepAudit a : records) {
            long i = a.getIncarnation();
            boolean replaced;
            if (a.getKind() == AuditKind.END) {
                replaced = writers.stream().anyMatch(j -> j > i);
            } else {
                long s = a.getStep();
                replaced = firstStep.entrySet().stream().anyMatch(f -> f.getKey() > i && f.getValue() <= s)
                        || endStep.entrySet().stream().anyMatch(f -> f.getKey() > i && f.getValue() < s);
            }
            if (!replaced) {
                kept.add(a);
            }
        }
        return kept;
    }
}
