package org.rollstream.reward;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The configured rewards applied together: every component is computed (weight 0 included) and
 * {@code total = Σ weight · component}. A function that throws or returns a non-finite value fails
 * the whole score with a {@link RewardException} naming it; it is never counted as zero.
 */
public final class CompositeReward {

    private final RewardConfig config;
    private final Map<String, RewardFunction> functions = new LinkedHashMap<>();

    /** With the functions found by {@link RewardFunctions#discover()}. */
    public CompositeReward(RewardConfig config) {
        this(config, RewardFunctions.discover().values());
    }

    /** @throws IllegalArgumentException for a configured name that is not available, listing those that are */
    public CompositeReward(RewardConfig config, Collection<? extends RewardFunction> available) {
        Map<String, RewardFunction> byName = new TreeMap<>();
        for (RewardFunction f : available) {
            byName.put(f.name(), f);
        }
        for (String name : config.weights().keySet()) {
            RewardFunction f = byName.get(name);
            if (f == null) {
                throw new IllegalArgumentException("unknown reward '" + name + "'; available: " + String.join(", ", byName.keySet()));
            }
            functions.put(name, f.withOptions(config.options(name)));
        }
        this.config = config;
    }

    public RewardConfig config() {
        return config;
    }

    public List<String> names() {
        return new ArrayList<>(functions.keySet());
    }

    /** @throws RewardException naming the first function that failed */
    public RewardScore score(RewardInput in) {
        Map<String, Double> components = new LinkedHashMap<>();
        double total = 0;
        for (Map.Entry<String, RewardFunction> e : functions.entrySet()) {
            String name = e.getKey();
            double v;
            try {
                v = e.getValue().score(in);
            } catch (RuntimeException ex) {
                throw new RewardException(name, String.valueOf(ex.getMessage()), ex);
            }
            if (!Double.isFinite(v)) {
                throw new RewardException(name, "returned " + v, null);
            }
            components.put(name, v);
            total += config.weights().get(name) * v;
        }
        return new RewardScore(components, total);
    }
}
