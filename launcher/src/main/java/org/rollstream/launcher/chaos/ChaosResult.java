package org.rollstream.launcher.chaos;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a chaos run did and what the log says about it.
 *
 * @param runId            the learner run accounted for
 * @param plannedKills     kills scheduled
 * @param roles            per role (learner, scorer, actor, broker): kills and resume times
 * @param unexpectedExits  processes that died without being killed, with their exit code and last lines
 * @param learnerFinished  the learner ran all its steps and exited 0 by itself
 * @param notes            anything that cut the run short (deadline, a role that never resumed)
 * @param accounting       the log's account of every prompt; null if the log could not be read
 * @param seconds          wall time of the whole run
 */
public record ChaosResult(String runId, int plannedKills, Map<String, RoleFigures> roles, List<String> unexpectedExits,
                          boolean learnerFinished, List<String> notes, LogAccounting.Result accounting, double seconds) {

    /**
     * One role's kills.
     *
     * @param kills     kill -9s done
     * @param resumed   of those, how many were productive again within the resume timeout
     * @param resumeMs  kill to productive again, one per resumed kill
     * @param secondary for the broker: kill to the learner's next step
     */
    public record RoleFigures(int kills, int resumed, List<Long> resumeMs, List<Long> secondary) {
        double mean(List<Long> xs) {
            return xs.stream().mapToLong(Long::longValue).average().orElse(Double.NaN);
        }

        public double meanResumeMs() {
            return mean(resumeMs);
        }

        public long maxResumeMs() {
            return resumeMs.stream().mapToLong(Long::longValue).max().orElse(-1);
        }
    }

    public int killsDone() {
        return roles.values().stream().mapToInt(RoleFigures::kills).sum();
    }

    /** Every way the run fell short of the promise: process control, resumes and the log's account. */
    public List<String> problems() {
        List<String> p = new java.util.ArrayList<>(notes);
        if (killsDone() < plannedKills) {
            p.add("only " + killsDone() + " of " + plannedKills + " planned kills were done");
        }
        roles.forEach((role, f) -> {
            if (f.resumed() < f.kills()) {
                p.add(role + ": " + (f.kills() - f.resumed()) + " of " + f.kills() + " kills not followed by a resume");
            }
        });
        unexpectedExits.forEach(e -> p.add("unexpected exit: " + e.lines().findFirst().orElse(e)));
        if (!learnerFinished) {
            p.add("the learner did not finish its steps");
        }
        if (accounting == null) {
            p.add("the log could not be read for accounting");
        } else {
            p.addAll(accounting.violations());
        }
        return p;
    }

    /** The figure table: kills survived and resume times per role, then the prompt accounting. */
    public String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "chaos run %s: %d of %d kills in %.0f s%n", runId, killsDone(), plannedKills, seconds));
        b.append(String.format(Locale.ROOT, "%-8s %6s %9s %15s %14s%n", "role", "kills", "survived", "mean resume s", "max resume s"));
        roles.forEach((role, f) -> {
            b.append(String.format(Locale.ROOT, "%-8s %6d %9d %15s %14s", role, f.kills(), f.resumed(),
                    seconds(f.meanResumeMs()), seconds(f.maxResumeMs())));
            if (!f.secondary().isEmpty()) {
                b.append(String.format(Locale.ROOT, "   (learner's next step after: mean %s s)", seconds(f.mean(f.secondary()))));
            }
            b.append(System.lineSeparator());
        });
        if (accounting != null) {
            LogAccounting.Result a = accounting;
            String reasons = a.droppedByReason().entrySet().stream()
                    .map(e -> e.getKey() + " " + e.getValue().size()).collect(Collectors.joining(", "));
            b.append(String.format(Locale.ROOT, "prompts: issued %d, trained %d, dropped %d%s, lost %d, trained twice %d%n",
                    a.issued(), a.trained().size(), a.droppedTotal(), reasons.isEmpty() ? "" : " (" + reasons + ")",
                    a.lost().size(), a.trainedTwice().size()));
            b.append(String.format(Locale.ROOT,
                    "audit: %d records from %d incarnations, %d superseded, %d effective steps, end %s; versions published %d, out of order %d%n",
                    a.auditRecords(), a.incarnations(), a.supersededRecords(), a.effectiveSteps(), a.ended() ? "yes" : "no",
                    a.published(), a.versionProblems().size()));
        }
        List<String> problems = problems();
        b.append(problems.isEmpty() ? "all accounted for: 0 lost, 0 trained twice" : "problems:");
        b.append(System.lineSeparator());
        problems.forEach(p -> b.append("  - ").append(p).append(System.lineSeparator()));
        return b.toString();
    }

    private static String seconds(double ms) {
        return Double.isNaN(ms) || ms < 0 ? "-" : String.format(Locale.ROOT, "%.1f", ms / 1000.0);
    }
}
