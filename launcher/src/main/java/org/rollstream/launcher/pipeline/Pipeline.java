package org.rollstream.launcher.pipeline;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.rollstream.transport.KafkaSettings;

/**
 * Runs stages in order in one pipeline directory, each once: a stage whose {@code stage.json}
 * exists is skipped (its saved result is used) unless the selection asks for it to run again.
 *
 * <p>Selection: by default every stage runs, completed ones skipped (resume). {@code only} runs just
 * those stages and {@code from} that stage and every later one, in both cases again even when completed;
 * {@code skip} never runs the named stages (their saved results are still read by later stages).
 * Before anything runs, every stage that will run is checked to have its inputs: each stage it
 * needs either runs before it in this invocation or has completed in the directory; otherwise a
 * {@link PipelineException} names the missing stage and nothing has started.
 */
public final class Pipeline {

    /**
     * Which stages run.
     *
     * @param only stages to run (again), nothing else; empty for no restriction
     * @param from run this stage (again) and every later one; null for none
     * @param skip stages never to run
     */
    public record Selection(Set<String> only, String from, Set<String> skip) {
        public Selection {
            only = Set.copyOf(only);
            skip = Set.copyOf(skip);
        }

        public static Selection all() {
            return new Selection(Set.of(), null, Set.of());
        }
    }

    /** What a stage did in one invocation. */
    public enum Outcome { RAN, SKIPPED_COMPLETED, SKIPPED_BY_REQUEST, NOT_SELECTED }

    private final List<Stage> stages;
    private final Path dir;

    public Pipeline(List<Stage> stages, Path dir) {
        Set<String> names = new LinkedHashSet<>();
        for (Stage s : stages) {
            if (!names.add(s.name())) {
                throw new IllegalArgumentException("two stages named " + s.name());
            }
        }
        this.stages = List.copyOf(stages);
        this.dir = dir;
    }

    public List<Stage> stages() {
        return stages;
    }

    /** The stage names, in order. */
    public List<String> names() {
        return stages.stream().map(Stage::name).toList();
    }

    /**
     * What each stage will do under {@code selection}, in order; checks the inputs of the stages that will run.
     *
     * @throws PipelineException for an unknown stage name or a stage whose input is neither produced
     *                           earlier in this invocation nor saved in the directory
     */
    public Map<String, Outcome> plan(Selection selection) {
        List<String> names = names();
        List<String> named = new ArrayList<>(selection.only());
        named.addAll(selection.skip());
        if (selection.from() != null) {
            named.add(selection.from());
        }
        for (String n : named) {
            if (!names.contains(n)) {
                throw new PipelineException("unknown stage '" + n + "' (stages: " + String.join(", ", names) + ")");
            }
        }
        int fromIndex = selection.from() == null ? -1 : names.indexOf(selection.from());
        Map<String, Outcome> plan = new LinkedHashMap<>();
        Set<String> available = new LinkedHashSet<>();
        for (int i = 0; i < stages.size(); i++) {
            Stage s = stages.get(i);
            boolean completed = StageResult.load(dir.resolve(s.name())) != null;
            boolean forced = selection.only().contains(s.name()) || (fromIndex >= 0 && i >= fromIndex);
            boolean selected = !selection.only().isEmpty() ? selection.only().contains(s.name())
                    : fromIndex < 0 || i >= fromIndex;
            Outcome o;
            if (selection.skip().contains(s.name())) {
                o = Outcome.SKIPPED_BY_REQUEST;
            } else if (!selected) {
                o = Outcome.NOT_SELECTED;
            } else if (completed && !forced) {
                o = Outcome.SKIPPED_COMPLETED;
            } else {
                o = Outcome.RAN;
                for (String need : s.needs()) {
                    if (!available.contains(need) && StageResult.load(dir.resolve(need)) == null) {
                        throw new PipelineException("stage '" + s.name() + "' needs the output of stage '" + need
                                + "', which has not run in " + dir.toAbsolutePath() + " (no " + need + "/stage.json)"
                                + (selection.skip().contains(need) ? " and is skipped by --skip" : "")
                                + ": run it first, e.g. rollstream pipeline --dir " + dir + " --only " + need);
                    }
                }
            }
            if (o == Outcome.RAN || completed) {
                available.add(s.name());
            }
            plan.put(s.name(), o);
        }
        return plan;
    }

    /**
     * Runs the plan of {@code selection}. {@code kafka} is asked for only when some stage runs, so a
     * fully resumed pipeline starts no broker.
     *
     * @return the result of every stage that ran or had completed, in stage order
     */
    public Map<String, StageResult> run(Selection selection, Supplier<KafkaSettings> kafka, long seed, double scale,
                                        PrintStream out) throws Exception {
        Map<String, Outcome> plan = plan(selection);
        Map<String, StageResult> results = new LinkedHashMap<>();
        KafkaSettings cluster = null;
        int toRun = (int) plan.values().stream().filter(o -> o == Outcome.RAN).count();
        int n = 0;
        for (Stage s : stages) {
            Outcome o = plan.get(s.name());
            if (o != Outcome.RAN) {
                StageResult saved = StageResult.load(dir.resolve(s.name()));
                if (saved != null) {
                    results.put(s.name(), saved);
                }
                out.printf(Locale.ROOT, "[pipeline] %-13s %s%n", s.name(), describe(o, saved != null));
                continue;
            }
            if (cluster == null) {
                cluster = kafka.get();
            }
            n++;
            out.printf(Locale.ROOT, "[pipeline] %-13s running (%d of %d to run) ...%n", s.name(), n, toRun);
            long t0 = System.nanoTime();
            StageContext context = new StageContext(dir, cluster, seed, scale, Map.copyOf(results), out);
            StageResult r = s.run(context);
            r.save(context.stageDir(s));
            results.put(s.name(), r);
            out.printf(Locale.ROOT, "[pipeline] %-13s done in %.0f s: %s%n", s.name(), (System.nanoTime() - t0) / 1e9,
                    headline(r));
        }
        return results;
    }

    private static String describe(Outcome o, boolean saved) {
        return switch (o) {
            case SKIPPED_COMPLETED -> "already complete (stage.json), skipped";
            case SKIPPED_BY_REQUEST -> "skipped (--skip)" + (saved ? ", its saved result is used" : "");
            case NOT_SELECTED -> "not selected" + (saved ? ", its saved result is used" : "");
            case RAN -> "ran";
        };
    }

    /** Accuracy and time of a result, for the progress line. */
    static String headline(StageResult r) {
        Double acc = r.metrics().get(Metrics.ACCURACY);
        Double sec = r.metrics().get(Metrics.SECONDS);
        return String.format(Locale.ROOT, "held-out accuracy %s, %s, artifacts %s",
                acc == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * acc),
                sec == null ? "-" : String.format(Locale.ROOT, "%.0f s", sec), r.artifacts().keySet());
    }

    /** Splits a comma-separated list of stage names, trimming blanks. */
    public static Set<String> names(Collection<String> values) {
        Set<String> out = new LinkedHashSet<>();
        for (String v : values) {
            for (String p : v.split(",")) {
                if (!p.isBlank()) {
                    out.add(p.trim());
                }
            }
        }
        return out;
    }
}
