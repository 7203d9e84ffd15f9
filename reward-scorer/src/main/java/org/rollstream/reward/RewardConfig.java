package org.rollstream.reward;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Reward weights and per-reward options, parsed from text such as
 * {@code accuracy=1.0,format=0.2,language=0.0,length=0.1,length.buffer=64}. A key without a dot is
 * a weight; {@code name.option=value} configures that reward. Order is kept: it is the order of
 * the components in scored records. A weight of 0 still computes the component (useful as a metric).
 */
public final class RewardConfig {

    /** Accuracy dominates; format nudges towards the parseable shape. */
    public static final String DEFAULT = "accuracy=1.0,format=0.2";

    private final Map<String, Double> weights;
    private final Map<String, Map<String, String>> options;

    private RewardConfig(Map<String, Double> weights, Map<String, Map<String, String>> options) {
        if (weights.isEmpty()) {
            throw new IllegalArgumentException("reward configuration names no reward");
        }
        for (String name : options.keySet()) {
            if (!weights.containsKey(name)) {
                throw new IllegalArgumentException("options given for reward '" + name + "', which has no weight");
            }
        }
        this.weights = Collections.unmodifiableMap(weights);
        this.options = Collections.unmodifiableMap(options);
    }

    public static RewardConfig defaults() {
        return parse(DEFAULT);
    }

    /** @throws IllegalArgumentException for a malformed entry, a non-finite weight or a repeated key */
    public static RewardConfig parse(String text) {
        Objects.requireNonNull(text, "reward configuration");
        Map<String, Double> weights = new LinkedHashMap<>();
        Map<String, Map<String, String>> options = new LinkedHashMap<>();
        for (String entry : text.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            int eq = entry.indexOf('=');
            String key = eq < 0 ? "" : entry.substring(0, eq).strip();
            String value = eq < 0 ? "" : entry.substring(eq + 1).strip();
            if (key.isEmpty() || value.isEmpty()) {
                throw new IllegalArgumentException("reward configuration entry '" + entry.strip() + "' is not name=value");
            }
            int dot = key.indexOf('.');
            if (dot > 0) {
                String previous = options.computeIfAbsent(key.substring(0, dot), k -> new LinkedHashMap<>()).put(key.substring(dot + 1), value);
                if (previous != null) {
                    throw new IllegalArgumentException("reward option '" + key + "' given twice");
                }
            } else if (weights.put(key, weight(key, value)) != null) {
                throw new IllegalArgumentException("reward '" + key + "' given twice");
            }
        }
        return new RewardConfig(weights, options);
    }

    public static RewardConfig of(Map<String, Double> weights) {
        Map<String, Double> w = new LinkedHashMap<>();
        weights.forEach((k, v) -> w.put(k, weight(k, String.valueOf(v))));
        return new RewardConfig(w, Map.of());
    }

    private static double weight(String name, String value) {
        try {
            double w = Double.parseDouble(value);
            if (Double.isFinite(w)) {
                return w;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("weight of reward '" + name + "' is not a finite number: " + value);
    }

    /** Reward name → weight, in configuration order. */
    public Map<String, Double> weights() {
        return weights;
    }

    /** Options of one reward, without the {@code name.} prefix; empty when none. */
    public Map<String, String> options(String reward) {
        return options.getOrDefault(reward, Map.of());
    }

    /** Canonical text; {@code parse(toString())} gives an equal configuration. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        weights.forEach((name, w) -> {
            sb.append(sb.length() == 0 ? "" : ",").append(name).append('=').append(w);
            options(name).forEach((k, v) -> sb.append(',').append(name).append('.').append(k).append('=').append(v));
        });
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RewardConfig c && weights.equals(c.weights) && options.equals(c.options);
    }

    @Override
    public int hashCode() {
        return weights.hashCode() * 31 + options.hashCode();
    }
}
