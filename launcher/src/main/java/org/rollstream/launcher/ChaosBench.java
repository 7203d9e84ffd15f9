package org.rollstream.launcher;

import java.io.File;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.rollstream.launcher.chaos.ChaosResult;
import org.rollstream.launcher.chaos.ChaosRun;
import org.rollstream.launcher.chaos.ChaosSettings;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "chaos", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Broker, learner, scorer and two actors as separate processes; kill -9 the learner, the scorer and",
                "the actors --kills times each at seeded random points, plus one broker restart on the same log directory",
                "and port. Prints kills survived and mean resume time per role, then accounts for every prompt of the run",
                "from the log (learner.audit): trained exactly once or dropped with a reason, lost, trained twice.",
                "Exits 1 if anything is unaccounted for."})
final class ChaosBench implements Callable<Integer> {
    @Option(names = "--kills", defaultValue = "20", description = "kill -9s per role: learner, scorer, actors (default: ${DEFAULT-VALUE}).")
    int kills;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the kill schedule and of the run (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--steps", defaultValue = "0", description = "GRPO steps; 0 = enough for the kills (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--no-broker-restart", description = "Do not kill and restart the broker.")
    boolean noBrokerRestart;

    @Option(names = "--work-dir", paramLabel = "DIR", description = "Broker log, run directory and process logs (default: runs/chaos-<time>).")
    Path workDir;

    @Option(names = "--deadline-minutes", defaultValue = "0", description = "Stop the run after this long; 0 = 8 + 1.5 per kill (default: ${DEFAULT-VALUE}).")
    int deadlineMinutes;

    @Override
    public Integer call() throws InterruptedException {
        if (kills < 0) {
            throw new UsageException("--kills must be at least 0, got " + kills);
        }
        if (steps < 0) {
            throw new UsageException("--steps must be at least 0, got " + steps);
        }
        if (deadlineMinutes < 0) {
            throw new UsageException("--deadline-minutes must be at least 0, got " + deadlineMinutes);
        }
        Path dir = workDir != null ? workDir
                : Path.of("runs", "chaos-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        // absolute, so the children find it whatever their working directory (./rollstream passes a relative jar)
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString()).collect(Collectors.joining(File.pathSeparator));
        ChaosSettings settings = ChaosSettings.small(dir.toAbsolutePath(), classpath)
                .withSeed(seed).withKillsPerRole(kills).withBrokerRestart(!noBrokerRestart).withGrpoSteps(steps);
        long minutes = deadlineMinutes > 0 ? deadlineMinutes : 8 + (long) Math.ceil(1.5 * settings.plannedKills());
        settings = settings.withDeadline(Duration.ofMinutes(minutes));
        System.out.println("chaos: " + settings.plannedKills() + " kills, " + settings.effectiveGrpoSteps()
                + " GRPO steps, deadline " + minutes + " min; process logs in " + dir.resolve("logs").toAbsolutePath());
        ChaosResult result = new ChaosRun(settings, System.out).run();
        System.out.println();
        System.out.print(result.table());
        List<String> problems = result.problems();
        return problems.isEmpty() ? 0 : 1;
    }
}
