package org.rollstream.launcher;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.rollstream.schemas.records.AuditEntry;
import org.rollstream.schemas.records.Completion;
import org.rollstream.schemas.records.CompletionScore;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.records.ScoredGroup;
import org.rollstream.schemas.records.StepAudit;

/**
 * Figures over the records of one topic for {@code inspect --stats}: counts, and by record type the
 * reward distribution, completion lengths, finish reasons, sampling versions and audit outcomes.
 */
final class TopicStats {
    long records;
    long undecodable;
    long firstTimestamp = Long.MAX_VALUE;
    long lastTimestamp = Long.MIN_VALUE;
    private long groups;
    private long uninformative;
    private final List<Double> rewards = new ArrayList<>();
    private final List<Double> groupRewards = new ArrayList<>();
    private final List<Double> lengths = new ArrayList<>();
    private final Map<String, Long> finish = new TreeMap<>();
    private final Map<Long, Long> versions = new TreeMap<>();
    private final Map<String, Long> scorers = new TreeMap<>();
    private final Map<String, Long> dropReasons = new TreeMap<>();
    private long auditSteps;
    private long auditTrained;

    /** Adds a decoded record (any type) with its timestamp. */
    void add(Object record, long timestamp) {
        records++;
        firstTimestamp = Math.min(firstTimestamp, timestamp);
        lastTimestamp = Math.max(lastTimestamp, timestamp);
        if (record instanceof ScoredGroup sg) {
            sampled(sg.getGroup());
            scorers.merge(sg.getScorer().getConfig().toString(), 1L, Long::sum);
            double sum = 0;
            double first = Double.NaN;
            boolean allEqual = true;
            for (CompletionScore s : sg.getScores()) {
                rewards.add(s.getTotal());
                sum += s.getTotal();
                allEqual &= Double.isNaN(first) || s.getTotal() == first;
                first = Double.isNaN(first) ? s.getTotal() : first;
            }
            groupRewards.add(sg.getScores().isEmpty() ? Double.NaN : sum / sg.getScores().size());
            uninformative += allEqual ? 1 : 0;
        } else if (record instanceof SampledGroup g) {
            sampled(g);
        } else if (record instanceof StepAudit a) {
            auditSteps++;
            auditTrained += a.getTrained().size();
            for (AuditEntry d : a.getDropped()) {
                dropReasons.merge(d.getReason().toString(), 1L, Long::sum);
            }
        }
    }

    private void sampled(SampledGroup g) {
        groups++;
        versions.merge(g.getPolicyVersion(), 1L, Long::sum);
        for (Completion c : g.getCompletions()) {
            lengths.add((double) c.getTokenIds().size());
            finish.merge(c.getFinishReason().name(), 1L, Long::sum);
        }
    }

    void print(PrintStream out) {
        out.printf(Locale.ROOT, "records               %d%s%n", records, undecodable == 0 ? "" : " (" + undecodable + " undecodable)");
        if (records > 0) {
            out.printf(Locale.ROOT, "time span             %d ms (%s .. %s)%n", lastTimestamp - firstTimestamp,
                    java.time.Instant.ofEpochMilli(firstTimestamp), java.time.Instant.ofEpochMilli(lastTimestamp));
        }
        if (groups > 0) {
            out.printf(Locale.ROOT, "groups                %d, %d completions%n", groups, lengths.size());
            out.println("completion tokens     " + distribution(lengths));
            out.println("finish reasons        " + finish);
            out.println("policy versions       " + versionsLine());
        }
        if (!rewards.isEmpty()) {
            out.println("reward / completion   " + distribution(rewards));
            out.println("reward / group mean   " + distribution(groupRewards));
            out.printf(Locale.ROOT, "all-equal groups      %d (%.1f%%: no learning signal)%n", uninformative,
                    100.0 * uninformative / groups);
            out.println("scorer configs        " + scorers);
        }
        if (auditSteps > 0) {
            out.printf(Locale.ROOT, "audit                 %d records, %d groups trained, dropped by reason %s%n", auditSteps,
                    auditTrained, dropReasons);
        }
    }

    private String versionsLine() {
        if (versions.size() <= 12) {
            return versions.toString();
        }
        long first = ((TreeMap<Long, Long>) versions).firstKey();
        long last = ((TreeMap<Long, Long>) versions).lastKey();
        return versions.size() + " versions, v" + first + "..v" + last;
    }

    /** mean, std, min, p10, p50, p90, max. */
    static String distribution(List<Double> values) {
        List<Double> v = values.stream().filter(d -> !Double.isNaN(d)).sorted().toList();
        if (v.isEmpty()) {
            return "-";
        }
        double mean = v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        double var = v.stream().mapToDouble(d -> (d - mean) * (d - mean)).sum() / v.size();
        return String.format(Locale.ROOT, "mean %.4f  std %.4f  min %.4f  p10 %.4f  p50 %.4f  p90 %.4f  max %.4f", mean,
                Math.sqrt(var), v.get(0), pct(v, 0.1), pct(v, 0.5), pct(v, 0.9), v.get(v.size() - 1));
    }

    private static double pct(List<Double> sorted, double q) {
        return sorted.get((int) Math.min(sorted.size() - 1, Math.floor(q * sorted.size())));
    }
}
