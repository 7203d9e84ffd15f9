package org.rollstream.learner.replay;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.rollstream.learner.grpo.GrpoConfig;

/**
 * What a replay found: per re-executed step, the recorded and the replayed value of each compared
 * metric, and a verdict. Steps between the checkpoint and the first requested step are replayed too
 * (they lead the weights to the requested range) and are compared like the others.
 *
 * @param runId          the run replayed
 * @param checkpoint     the checkpoint the replay started from
 * @param checkpointStep steps trained at that checkpoint
 * @param fromStep       first requested step
 * @param toStep         last requested step
 * @param threads        libtorch intra-op threads the replay ran with (1: the deterministic mode)
 * @param grpo           the GRPO settings the replay trained with
 * @param overridden     true when they differ from the run's own settings (a what-if replay)
 * @param tolerance      what counts as a match when values are not bit-identical
 * @param steps          one row per replayed step, in order
 */
public record ReplayReport(String runId, Path checkpoint, long checkpointStep, long fromStep, long toStep, int threads,
                           GrpoConfig grpo, boolean overridden, Tolerance tolerance, List<Step> steps) {

    /** The metrics compared, by their names in {@code metrics.csv}. */
    public static final List<String> METRICS = List.of("loss", "grad_norm", "kl", "clip_fraction", "importance_weight",
            "mismatch_kl");

    /** How a value, or a whole replay, compares. */
    public enum Verdict { EXACT, WITHIN_TOLERANCE, DIFFERS, NOT_RECORDED }

    /**
     * A match when {@code |recorded − replayed| ≤ absolute + relative · |recorded|}; {@code exactOnly} admits
     * nothing but bit-identical values (the deterministic mode's promise).
     */
    public record Tolerance(double relative, double absolute, boolean exactOnly) {
        public static final Tolerance EXACT = new Tolerance(0, 0, true);

        boolean within(double recorded, double replayed) {
            return Math.abs(recorded - replayed) <= absolute + relative * Math.abs(recorded);
        }

        @Override
        public String toString() {
            return exactOnly ? "bit-exact" : String.format(Locale.ROOT, "|diff| <= %.1e + %.1e * |recorded|", absolute,
                    relative);
        }
    }

    /** One metric of one step. */
    public record Value(String metric, double recorded, double replayed) {
        public double absDiff() {
            return Math.abs(recorded - replayed);
        }

        /** |diff| / |recorded|; 0 when both are 0. */
        public double relDiff() {
            double d = absDiff();
            return d == 0 ? 0 : d / Math.abs(recorded);
        }

        public Verdict verdict(Tolerance t) {
            if (Double.isNaN(recorded)) {
                return Verdict.NOT_RECORDED;
            }
            if (Double.doubleToLongBits(recorded) == Double.doubleToLongBits(replayed)) {
                return Verdict.EXACT;
            }
            return !t.exactOnly() && t.within(recorded, replayed) ? Verdict.WITHIN_TOLERANCE : Verdict.DIFFERS;
        }
    }

    /** One replayed step: {@code leadIn} when it precedes the requested range. */
    public record Step(long step, boolean leadIn, long incarnation, int groups, List<Value> values) {
        public Value value(String metric) {
            return values.stream().filter(v -> v.metric().equals(metric)).findFirst().orElseThrow();
        }

        public Verdict verdict(Tolerance t) {
            return worst(values.stream().map(v -> v.verdict(t)).toList());
        }
    }

    /** The replay's verdict: the worst of its steps' (EXACT only when every value is bit-identical). */
    public Verdict verdict() {
        return worst(steps.stream().map(s -> s.verdict(tolerance)).toList());
    }

    /** True when every replayed value matched (bit-exact, or within the tolerance when that is allowed). */
    public boolean matches() {
        Verdict v = verdict();
        return v == Verdict.EXACT || v == Verdict.WITHIN_TOLERANCE;
    }

    /** The largest relative difference over all values of all steps. */
    public double maxRelDiff() {
        return steps.stream().flatMap(s -> s.values().stream()).filter(v -> !Double.isNaN(v.recorded()))
                .mapToDouble(Value::relDiff).max().orElse(0);
    }

    private static Verdict worst(List<Verdict> vs) {
        Verdict w = Verdict.EXACT;
        for (Verdict v : vs) {
            if (v.ordinal() > w.ordinal()) {
                w = v;
            }
        }
        return w;
    }

    /** Prints the header, a table per step and the verdict. */
    public void print(PrintStream out) {
        out.printf(Locale.ROOT, "replay of run %s, steps %d..%d, from checkpoint %s (step %d), %d libtorch thread%s%s%n",
                runId, fromStep, toStep, checkpoint.getFileName(), checkpointStep, threads, threads == 1 ? "" : "s",
                threads == 1 ? " (deterministic CPU mode)" : "");
        if (overridden) {
            out.println("GRPO settings overridden (what-if replay): " + grpo);
        }
        out.println("tolerance: " + tolerance);
        for (Step s : steps) {
            out.printf(Locale.ROOT, "%nstep %d%s: %d groups (audit of incarnation %d) -> %s%n", s.step(),
                    s.leadIn() ? " (lead-in from the checkpoint)" : "", s.groups(), s.incarnation(), s.verdict(tolerance));
            out.printf(Locale.ROOT, "  %-18s %24s %24s %12s %12s  %s%n", "metric", "recorded", "replayed", "abs diff",
                    "rel diff", "");
            for (Value v : s.values()) {
                out.printf(Locale.ROOT, "  %-18s %24s %24s %12.3e %12.3e  %s%n", v.metric(), v.recorded(), v.replayed(),
                        v.absDiff(), v.relDiff(), v.verdict(tolerance));
            }
        }
        out.printf(Locale.ROOT, "%nverdict: %s over %d step%s (largest relative difference %.3e)%n", verdict(), steps.size(),
                steps.size() == 1 ? "" : "s", maxRelDiff());
    }
}
