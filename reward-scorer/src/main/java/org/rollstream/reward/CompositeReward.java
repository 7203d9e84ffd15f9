package org.rollstream.reward;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.rollstream.reward.topic.ComponentJoin;

/**
 * The configured rewards applied together: every component is computed (weight 0 included) and
 * {@code total = Σ weight · component}. A function that throws or returns a non-finite value fails
 * the whole score with a {@link RewardException} naming it; it is never counted as zero.
 *
 * <p>Besides the functions found on the class path, a configured name may be an external reward:
 * {@code judge=0.5,judge.type=http,judge.url=...} (see {@link ExternalRewardTypes} for the types).
 * Those are {@link GroupRewardFunction}s, called once per group by {@link #scoreGroup}; their
 * failures keep their type ({@link RewardUnavailableException} for "try again later"). Close the
 * composite to release their clients and sessions.
 *
 * <p>Any reward may be limited to some tasks with {@code <name>.tasks=general} (or
 * {@code arithmetic|logic}, or {@code !general}): completions of other tasks get no such component
 * and no term in their total (see {@link TaskFilter}).
 */
public final class CompositeReward implements AutoCloseable {

    private final RewardConfig config;
    private final Map<String, RewardFunction> functions = new LinkedHashMap<>();
    private final Map<String, TaskFilter> filters = new HashMap<>();

    /** With the functions found by {@link RewardFunctions#discover()}. */
    public CompositeReward(RewardConfig config) {
        this(config, RewardFunctions.discover().values());
    }

    /** @throws IllegalArgumentException for a configured name that is not available, listing those that are */
    public CompositeReward(RewardConfig config, Collection<? extends RewardFunction> available) {
        this(config, available, null);
    }

    /**
     * @param join where components of the topic protocol arrive; null when there is none (a
     *             {@code type=topic} reward then fails every group it is asked to score)
     * @throws IllegalArgumentException for a configured name that is not available, listing those
     *                                  that are, or a bad option of an external reward
     */
    public CompositeReward(RewardConfig config, Collection<? extends RewardFunction> available, ComponentJoin join) {
        Map<String, RewardFunction> byName = new TreeMap<>();
        for (RewardFunction f : available) {
            byName.put(f.name(), f);
        }
        try {
            for (String name : config.weights().keySet()) {
                Map<String, String> options = config.options(name);
                if (options.containsKey(TaskFilter.OPTION)) {
                    filters.put(name, TaskFilter.parse(name, options.get(TaskFilter.OPTION)));
                    options = new HashMap<>(options);
                    options.remove(TaskFilter.OPTION);
                }
                String type = options.get(ExternalRewardTypes.TYPE_OPTION);
                if (type == null && !byName.containsKey(name) && ExternalRewardTypes.isType(name)) {
                    type = name; // "http=1,http.url=..." needs no type option
                }
                if (type != null) {
                    Map<String, String> rest = new HashMap<>(options);
                    rest.remove(ExternalRewardTypes.TYPE_OPTION);
                    functions.put(name, ExternalRewardTypes.create(type, name, rest, join));
                    continue;
                }
                RewardFunction f = byName.get(name);
                if (f == null) {
                    throw new IllegalArgumentException("unknown reward '" + name + "'; available: " + String.join(", ", byName.keySet())
                            + ", or an external reward: " + name + ".type=" + String.join("|", ExternalRewardTypes.types()));
                }
                functions.put(name, f.withOptions(options));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.config = config;
    }

    public RewardConfig config() {
        return config;
    }

    public List<String> names() {
        return new ArrayList<>(functions.keySet());
    }

    /** True when some reward is external (HTTP, model, topic): scoring may block and may be retried. */
    public boolean hasExternal() {
        return functions.values().stream().anyMatch(f -> f instanceof GroupRewardFunction);
    }

    /** True when some component comes over the topic protocol: the scorer must read {@code rewards.partial}. */
    public boolean awaitsTopic() {
        return functions.values().stream().anyMatch(f -> f instanceof org.rollstream.reward.topic.TopicComponent);
    }

    /** @throws RewardException naming the first function that failed */
    public RewardScore score(RewardInput in) {
        return scoreGroup(List.of(in)).get(0);
    }

    /**
     * Scores the completions of one group: per-completion rewards one input at a time, group
     * rewards in one call each.
     *
     * @throws RewardUnavailableException when an external reward cannot answer now (retry the group later)
     * @throws RewardException            naming the first function that failed or answered unusably
     */
    public List<RewardScore> scoreGroup(List<RewardInput> group) {
        int n = group.size();
        List<Map<String, Double>> components = new ArrayList<>(n);
        double[] totals = new double[n];
        for (int i = 0; i < n; i++) {
            components.add(new LinkedHashMap<>());
        }
        for (Map.Entry<String, RewardFunction> e : functions.entrySet()) {
            String name = e.getKey();
            double weight = config.weights().get(name);
            TaskFilter filter = filters.get(name);
            List<Integer> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                if (filter == null || filter.applies(group.get(i).task())) {
                    rows.add(i);
                }
            }
            if (rows.isEmpty()) {
                continue;
            }
            if (e.getValue() instanceof GroupRewardFunction g) {
                List<RewardInput> part = rows.size() == n ? group : rows.stream().map(group::get).toList();
                List<ComponentScore> scores = groupScores(name, g, part);
                if (scores == null) {
                    continue; // declared "score with the rest": no entry, no term
                }
                for (int j = 0; j < rows.size(); j++) {
                    int i = rows.get(j);
                    ComponentScore s = scores.get(j);
                    components.get(i).put(name, s.value());
                    s.parts().forEach((p, v) -> components.get(i).put(name + "." + p, v));
                    totals[i] += weight * s.value();
                }
            } else {
                for (int i : rows) {
                    double v = single(name, e.getValue(), group.get(i));
                    components.get(i).put(name, v);
                    totals[i] += weight * v;
                }
            }
        }
        List<RewardScore> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new RewardScore(components.get(i), totals[i]));
        }
        return out;
    }

    private static double single(String name, RewardFunction f, RewardInput in) {
        double v;
        try {
            v = f.score(in);
        } catch (RuntimeException ex) {
            throw new RewardException(name, String.valueOf(ex.getMessage()), ex);
        }
        if (!Double.isFinite(v)) {
            throw new RewardException(name, "returned " + v, null);
        }
        return v;
    }

    /** @return the scores, or null when the component is missing and declared skippable */
    private static List<ComponentScore> groupScores(String name, GroupRewardFunction f, List<RewardInput> group) {
        List<ComponentScore> scores;
        try {
            scores = f.scoreGroup(group);
        } catch (RewardUnavailableException | RewardException ex) {
            throw ex;
        } catch (ComponentMissingException ex) {
            return null;
        } catch (RuntimeException ex) {
            throw new RewardException(name, String.valueOf(ex.getMessage()), ex);
        }
        if (scores == null || scores.size() != group.size()) {
            throw new RewardException(name, "returned " + (scores == null ? "no" : scores.size()) + " scores for "
                    + group.size() + " completions", null);
        }
        return scores;
    }

    /** Closes the external rewards' clients and sessions; the built-ins hold nothing. Idempotent. */
    @Override
    public void close() {
        for (RewardFunction f : functions.values()) {
            if (f instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // closing is best effort: nothing more can be done with a failing close
                }
            }
        }
    }
}
