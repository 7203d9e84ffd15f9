package org.rollstream.reward.rejection;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * How many completions came in, how many each filter removed (in the order the filters apply, a
 * completion counted by the first it fails) and how many were kept: input = Σ removed + kept.
 * Thread-safe.
 */
public final class FilterFunnel {

    /** The filters, in the order they apply. */
    public enum Filter {
        /** the prompt's group pass rate is outside the band (only with a band) */
        PASS_BAND("pass-band"),
        /** stopped by the length limit, not by {@code <eos>} */
        TRUNCATED("truncated"),
        /** not {@code <think>…</think><answer>…</answer>} */
        FORMAT("format"),
        /** the task's verifier rejects the answer */
        INCORRECT("incorrect"),
        /** reasoning letters outside the target script */
        LANGUAGE("language"),
        /** shorter or longer than the length bounds */
        LENGTH("length"),
        /** the same text was already kept for the prompt */
        DUPLICATE("duplicate"),
        /** the prompt already has m samples */
        PER_PROMPT_CAP("per-prompt-cap");

        private final String key;

        Filter(String key) {
            this.key = key;
        }

        /** The name in reports and metric keys ({@code funnel.removed.<key>}). */
        public String key() {
            return key;
        }
    }

    private long input;
    private long kept;
    private final EnumMap<Filter, Long> removed = new EnumMap<>(Filter.class);

    public FilterFunnel() {
        for (Filter f : Filter.values()) {
            removed.put(f, 0L);
        }
    }

    synchronized void in(int completions) {
        input += completions;
    }

    synchronized void removedBy(Filter f) {
        removed.merge(f, 1L, Long::sum);
    }

    synchronized void kept() {
        kept++;
    }

    public synchronized long input() {
        return input;
    }

    public synchronized long keptCount() {
        return kept;
    }

    public synchronized long removed(Filter f) {
        return removed.get(f);
    }

    /** {@code funnel.input}, {@code funnel.removed.<filter>} for each filter in order, {@code funnel.kept}. */
    public synchronized Map<String, Double> metrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("funnel.input", (double) input);
        removed.forEach((f, n) -> m.put("funnel.removed." + f.key(), (double) n));
        m.put("funnel.kept", (double) kept);
        return m;
    }

    /** The funnel as JSON: {@code {"input":N,"removed":{"truncated":n,...},"kept":K}}, filters in order. */
    public synchronized String toJson() {
        StringBuilder b = new StringBuilder("{\n  \"input\": ").append(input).append(",\n  \"removed\": {");
        String sep = "\n";
        for (Map.Entry<Filter, Long> e : removed.entrySet()) {
            b.append(sep).append("    \"").append(e.getKey().key()).append("\": ").append(e.getValue());
            sep = ",\n";
        }
        return b.append("\n  },\n  \"kept\": ").append(kept).append("\n}\n").toString();
    }

    /** A table for the terminal: each filter's removals and what is left after it. */
    public synchronized String table() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "  %-16s %8d%n", "sampled", input));
        long left = input;
        for (Map.Entry<Filter, Long> e : removed.entrySet()) {
            left -= e.getValue();
            b.append(String.format(Locale.ROOT, "  %-16s %8d  removed, %d left%n", e.getKey().key(), e.getValue(), left));
        }
        b.append(String.format(Locale.ROOT, "  %-16s %8d%n", "kept", kept));
        return b.toString();
    }
}
