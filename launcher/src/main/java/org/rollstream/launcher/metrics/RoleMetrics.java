package org.rollstream.launcher.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.rollstream.actor.ActorStats;
import org.rollstream.reward.service.ScorerStats;
import org.rollstream.schemas.records.MetricEvent;
import org.rollstream.transport.KafkaSettings;

/**
 * The metrics of one role process, in a Prometheus registry. Roles keep counting in their own
 * stats objects ({@link ActorStats}, {@link ScorerStats}, the learner's metric events); this class
 * binds them to named series, read at scrape time, so a role pays nothing when nobody scrapes.
 *
 * <p>Series (all prefixed {@code rollstream_}; counters end in {@code _total}):
 * <ul>
 *   <li>every role: {@code records_consumed_total{role,topic}} (records/s is its rate),
 *       {@code dlq_records_total{role,topic}}, {@code consumer_lag_records{group,topic}};</li>
 *   <li>actor: {@code sampled_tokens_total}, {@code sampled_tokens_per_second},
 *       {@code actor_groups_published_total}, {@code actor_policy_version},
 *       {@code actor_versions_refused_total};</li>
 *   <li>scorer: {@code scorer_groups_scored_total}, {@code scorer_completions_total};</li>
 *   <li>learner: {@code learner_step}, {@code learner_reward}, {@code learner_kl},
 *       {@code trained_tokens_per_second}, {@code learner_staleness} (histogram of each step's
 *       mean staleness), {@code learner_step_seconds} (time between GRPO steps), and one gauge
 *       {@code learner_<kind>_<name>} for every other value the learner reports;</li>
 *   <li>{@code weights_handover_seconds}: announcement to serving, recorded by a bound actor each time it
 *       serves a new version (also open to other recorders through {@link #weightHandover()}).</li>
 * </ul>
 */
public final class RoleMetrics implements AutoCloseable {
    private static final Pattern NOT_NAME = Pattern.compile("[^a-zA-Z0-9_]");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, AtomicDouble> learnerGauges = new ConcurrentHashMap<>();
    private final Timer handover;
    private MetricsServer server;
    private ConsumerLag lag;

    public RoleMetrics() {
        handover = Timer.builder("rollstream.weights.handover").description("Policy version published until an actor serves it")
                .publishPercentileHistogram().register(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The registry in the Prometheus text format, as the endpoint serves it. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Serves {@code /metrics} on {@code port} (0 = a free one).
     *
     * @return the bound port
     */
    public synchronized int serve(int port) {
        if (server != null) {
            throw new IllegalStateException("metrics already served on port " + server.port());
        }
        server = MetricsServer.start(registry, port);
        return server.port();
    }

    /** Timer of the weight hand-over (learner publishes a version until an actor serves it). */
    public Timer weightHandover() {
        return handover;
    }

    /** Binds an actor's counters. */
    public void bindActor(ActorStats s) {
        Tags role = Tags.of("role", "actor");
        FunctionCounter.builder("rollstream.records.consumed", s, ActorStats::promptsConsumed).tags(role.and("topic", "prompts"))
                .description("Records consumed").register(registry);
        FunctionCounter.builder("rollstream.dlq.records", s, ActorStats::deadLettered).tags(role.and("topic", "prompts.dlq"))
                .description("Records sent to a dead-letter topic").register(registry);
        FunctionCounter.builder("rollstream.sampled.tokens", s, ActorStats::tokensGenerated).tags(role)
                .description("Tokens sampled").register(registry);
        Gauge.builder("rollstream.sampled.tokens.per.second", s, ActorStats::tokensPerSecond).tags(role)
                .description("Tokens sampled per second of sampling time").register(registry);
        FunctionCounter.builder("rollstream.actor.groups.published", s, ActorStats::groupsPublished).tags(role)
                .register(registry);
        Gauge.builder("rollstream.actor.policy.version", s, ActorStats::currentVersion).tags(role)
                .description("Policy version served; -1 before the first").register(registry);
        FunctionCounter.builder("rollstream.actor.versions.refused", s, ActorStats::versionsRefused).tags(role)
                .register(registry);
        FunctionCounter.builder("rollstream.actor.batch.failures", s, ActorStats::batchFailures).tags(role).register(registry);
        s.onHandOver(nanos -> handover.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS));
    }

    /** Binds a scorer's counters. */
    public void bindScorer(ScorerStats s) {
        Tags role = Tags.of("role", "scorer");
        FunctionCounter.builder("rollstream.records.consumed", s, ScorerStats::received).tags(role.and("topic", "rollouts.sampled"))
                .description("Records consumed").register(registry);
        FunctionCounter.builder("rollstream.dlq.records", s, ScorerStats::deadLettered).tags(role.and("topic", "rollouts.sampled.dlq"))
                .description("Records sent to a dead-letter topic").register(registry);
        FunctionCounter.builder("rollstream.scorer.groups.scored", s, ScorerStats::scored).tags(role).register(registry);
        FunctionCounter.builder("rollstream.scorer.completions", s, ScorerStats::completions).tags(role).register(registry);
        FunctionCounter.builder("rollstream.scorer.failures", s, ScorerStats::publishFailures).tags(role).register(registry);
    }

    /**
     * A listener for the learner's metric events: {@code train} events feed the step, reward, KL,
     * tokens/s, staleness and step-time series; every value of every kind gets its own gauge.
     * Safe to call from the learner's thread; costs a map lookup per value.
     */
    public Consumer<MetricEvent> learnerListener() {
        Tags role = Tags.of("role", "learner");
        DistributionSummary staleness = DistributionSummary.builder("rollstream.learner.staleness")
                .description("Mean policy-version lag of the groups of a GRPO step").tags(role)
                .serviceLevelObjectives(0.5, 1, 1.5, 2, 3, 4, 6, 8, 16).register(registry);
        Timer stepTime = Timer.builder("rollstream.learner.step").description("Wall time from one GRPO step to the next").tags(role)
                .publishPercentileHistogram().register(registry);
        AtomicLong lastStepNanos = new AtomicLong();
        AtomicDouble step = gauge("rollstream.learner.step.number", "GRPO step", role);
        AtomicDouble reward = gauge("rollstream.learner.reward", "Mean reward of the groups of the last step", role);
        AtomicDouble kl = gauge("rollstream.learner.kl", "KL to the reference policy at the last step", role);
        AtomicDouble tps = gauge("rollstream.trained.tokens.per.second", "Completion tokens trained per second", role);
        return e -> {
            String kind = e.getKind();
            Map<String, Double> values = e.getValues();
            if ("train".equals(kind)) {
                long now = System.nanoTime();
                long last = lastStepNanos.getAndSet(now);
                if (last != 0) {
                    stepTime.record(Duration.ofNanos(now - last));
                }
                step.set(e.getStep());
                setIfPresent(reward, values.get("reward"));
                setIfPresent(kl, values.get("kl"));
                setIfPresent(tps, values.get("tokens_per_s"));
                Double s = values.get("staleness");
                if (s != null && Double.isFinite(s)) {
                    staleness.record(s);
                }
            }
            for (Map.Entry<String, Double> v : values.entrySet()) {
                String name = "rollstream.learner." + NOT_NAME.matcher(kind + "." + v.getKey()).replaceAll("_");
                learnerGauges.computeIfAbsent(name, n -> gauge(n, kind + " value " + v.getKey(), role)).set(v.getValue());
            }
        };
    }

    /** Polls the lag of consumer {@code group} every {@code every}, as {@code consumer_lag_records{group,topic}}. */
    public synchronized void bindConsumerLag(KafkaSettings settings, String group, Duration every) {
        if (lag == null) {
            lag = new ConsumerLag(settings, registry, every);
        }
        lag.watch(group);
    }

    private AtomicDouble gauge(String name, String description, Tags tags) {
        AtomicDouble value = new AtomicDouble();
        Gauge.builder(name, value, AtomicDouble::get).description(description).tags(tags).register(registry);
        return value;
    }

    private static void setIfPresent(AtomicDouble g, Double v) {
        if (v != null) {
            g.set(v);
        }
    }

    @Override
    public synchronized void close() {
        if (lag != null) {
            lag.close();
        }
        if (server != null) {
            server.close();
        }
        registry.close();
    }

    /** A double readable by a gauge from any thread. */
    static final class AtomicDouble {
        private final AtomicLong bits = new AtomicLong(Double.doubleToLongBits(Double.NaN));

        double get() {
            return Double.longBitsToDouble(bits.get());
        }

        void set(double v) {
            bits.set(Double.doubleToLongBits(v));
        }
    }
}
