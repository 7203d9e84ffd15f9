package org.rollstream.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.transport.KafkaSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "loop", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The whole GRPO loop, asynchronous (η = --async-eta) against synchronous (η = 0), side by side on one",
                "machine: trained groups/s, time to reach --target-accuracy, and the share of wall time spent outside",
                "generation and training. Each setting runs --runs times from the same cold start; medians are printed."})
final class LoopBench implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Mixin
    TrainingOptions training;

    @Mixin
    RoleOptions roles;

    @Option(names = "--async-eta", defaultValue = "2", description = "η of the asynchronous setting (default: ${DEFAULT-VALUE}).")
    int asyncEta;

    @Option(names = "--runs", defaultValue = "3", description = "Runs per setting (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--target-accuracy", defaultValue = "0.6", description = "Held-out accuracy whose time-to-reach is reported (default: ${DEFAULT-VALUE}).")
    double target;

    @Option(names = "--actors", defaultValue = "1", description = "Actor threads (default: ${DEFAULT-VALUE}).")
    int actors;

    /** One measured run. */
    record Figures(double groupsPerSecond, double secondsToTarget, double overheadShare, double finalAccuracy,
                   double generationSeconds, double trainSeconds, double wallSeconds) {
    }

    @Override
    public Integer call() throws Exception {
        if (runs < 1) {
            throw new UsageException("--runs must be at least 1");
        }
        roles.validate();
        Path base = training.resolvedRunDir();
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(null, false)) {
            List<Figures> sync = new ArrayList<>();
            List<Figures> async = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                // alternate the order so neither setting always runs on a warmer machine
                int[] order = r % 2 == 0 ? new int[] {asyncEta, 0} : new int[] {0, asyncEta};
                for (int eta : order) {
                    Figures f = once(cluster.settings(), base.resolve("eta" + eta + "-run" + r), eta, r);
                    (eta == 0 ? sync : async).add(f);
                    System.out.printf(Locale.ROOT, "run %d η=%d: %.2f groups/s, %s to %.0f%%, overhead %.1f%%, final acc %.1f%%%n",
                            r + 1, eta, f.groupsPerSecond(), secs(f.secondsToTarget()), 100 * target,
                            100 * f.overheadShare(), 100 * f.finalAccuracy());
                }
            }
            System.out.println();
            System.out.printf(Locale.ROOT, "loop benchmark (%d runs each, medians; GRPO phase only, cold start excluded)%n", runs);
            System.out.printf(Locale.ROOT, "  %-14s %14s %18s %12s %12s %10s%n", "setting", "groups/s", "time to " + Math.round(100 * target) + "%",
                    "overhead", "final acc", "wall s");
            print("η=" + asyncEta + " (async)", async);
            print("η=0 (sync)", sync);
            System.out.printf(Locale.ROOT, "  async/sync throughput ratio: %.2f%n",
                    median(async.stream().mapToDouble(Figures::groupsPerSecond).toArray())
                            / median(sync.stream().mapToDouble(Figures::groupsPerSecond).toArray()));
            return 0;
        }
    }

    private Figures once(KafkaSettings settings, Path dir, int eta, int run) throws Exception {
        Files.createDirectories(dir);
        LearnerConfig base = training.learnerConfig();
        String runId = "loop-eta" + eta + "-run" + run;
        LearnerConfig config = base.withRunDir(dir, runId).withGrpo(base.grpo().withMaxStaleness(eta));
        LocalRun.Result r = LocalRun.run(settings, config,
                roles.actorConfig("bench-" + eta + "-" + run, config.policyName(), config.maxNewTokens(), config.seed()),
                actors, roles.scorerConfig("bench-scorer", config.maxNewTokens()).withConsumerGroup("bench-scorer-" + eta + "-" + run),
                4, null, null, false);
        var s = r.learner();
        double wall = s.grpoSeconds();
        double busy = r.samplingSeconds() + s.trainSeconds() + s.evalSeconds();
        long toTarget = s.millisToAccuracy(target);
        return new Figures(s.groupsTrained() / wall, toTarget < 0 ? Double.NaN : toTarget / 1000.0,
                Math.max(0, 1 - busy / wall), s.finalAccuracy(), r.samplingSeconds(), s.trainSeconds(), wall);
    }

    private static void print(String name, List<Figures> fs) {
        System.out.printf(Locale.ROOT, "  %-14s %14.2f %18s %11.1f%% %11.1f%% %10.1f%n", name,
                median(fs.stream().mapToDouble(Figures::groupsPerSecond).toArray()),
                secs(median(fs.stream().mapToDouble(Figures::secondsToTarget).toArray())),
                100 * median(fs.stream().mapToDouble(Figures::overheadShare).toArray()),
                100 * median(fs.stream().mapToDouble(Figures::finalAccuracy).toArray()),
                median(fs.stream().mapToDouble(Figures::wallSeconds).toArray()));
    }

    static double median(double[] a) {
        double[] s = Arrays.stream(a).filter(d -> !Double.isNaN(d)).sorted().toArray();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String secs(double s) {
        return Double.isNaN(s) ? "not reached" : String.format(Locale.ROOT, "%.1f s", s);
    }
}
