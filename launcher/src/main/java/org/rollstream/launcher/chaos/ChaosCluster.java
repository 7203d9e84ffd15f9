package org.rollstream.launcher.chaos;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The processes of one chaos run: a broker on a fixed port with its log in the work directory, a
 * learner, a scorer and two actors ({@code actor-1}, {@code actor-2}), each a child JVM running the
 * {@code rollstream} command. Knows how to start them, notice one that died on its own (and start it
 * again), and stop them all; it decides nothing about when to kill what.
 */
final class ChaosCluster implements AutoCloseable {
    static final Pattern BROKER_READY = Pattern.compile("Kafka broker ready: bootstrap servers (\\S+)");
    static final List<String> ROLES_BUT_BROKER = List.of("learner", "scorer", "actor-1", "actor-2");
    private static final String MAIN = "org.rollstream.launcher.Rollstream";

    private final ChaosSettings settings;
    private final Path runDir;
    private final Consumer<String> say;
    private final Map<String, RoleProcess> processes = new LinkedHashMap<>();
    private final List<String> unexpectedExits = new ArrayList<>();
    private final int port = freePort();
    /** Ctrl-C or a killed test JVM must not leave five JVMs behind. */
    private final Thread killOnExit = new Thread(() -> processes.values().forEach(RoleProcess::killNow), "chaos-kill-children");
    private boolean learnerFinished;

    ChaosCluster(ChaosSettings settings, Path runDir, Consumer<String> say) {
        this.settings = settings;
        this.runDir = runDir;
        this.say = say;
    }

    String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    RoleProcess process(String name) {
        return processes.get(name);
    }

    /**
     * Starts the broker, waits until it serves, then starts the other roles.
     *
     * @throws IllegalStateException if the broker does not come up within two minutes
     */
    void start() throws InterruptedException {
        Path logs = settings.workDir().resolve("logs");
        try {
            Files.createDirectories(settings.workDir().resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + settings.workDir(), e);
        }
        say.accept("process output in " + logs + ", learner run directory " + runDir);
        Runtime.getRuntime().addShutdownHook(killOnExit);
        RoleProcess broker = new RoleProcess("broker", command("512m", List.of("broker", "--port", Integer.toString(port),
                "--log-dir", settings.workDir().resolve("kafka").toString(), "--partitions", "4")), Map.of(), logs);
        processes.put("broker", broker);
        broker.start();
        if (broker.awaitLine(BROKER_READY, Duration.ofMinutes(2)).isEmpty()) {
            throw new IllegalStateException("the broker did not start: " + broker.tail());
        }
        List<String> cluster = List.of("--bootstrap-servers", bootstrapServers());
        List<String> learner = new ArrayList<>(List.of("learner"));
        learner.addAll(cluster);
        learner.addAll(List.of("--run-dir", runDir.toString()));
        learner.addAll(settings.learnerFlags());
        processes.put("learner", new RoleProcess("learner", command("1g", learner), Map.of("OMP_NUM_THREADS", "2"), logs));
        List<String> scorer = new ArrayList<>(List.of("scorer", "--id", "chaos-scorer"));
        scorer.addAll(cluster);
        scorer.addAll(settings.groupMemberClientFlags());
        scorer.addAll(settings.scorerFlags());
        processes.put("scorer", new RoleProcess("scorer", command("384m", scorer), Map.of("OMP_NUM_THREADS", "1"), logs));
        for (String a : List.of("actor-1", "actor-2")) {
            List<String> actor = new ArrayList<>(List.of("actor", "--id", actorIdPrefix(a), "--seed",
                    Long.toString(settings.seed() * 31 + a.hashCode())));
            actor.addAll(cluster);
            actor.addAll(settings.groupMemberClientFlags());
            actor.addAll(settings.actorFlags());
            processes.put(a, new RoleProcess(a, command("512m", actor), Map.of("OMP_NUM_THREADS", "1"), logs));
        }
        ROLES_BUT_BROKER.forEach(r -> processes.get(r).start());
    }

    /** The id an actor process stamps on its groups: {@code <prefix>-<pid>}. */
    static String actorIdPrefix(String actor) {
        return "chaos-" + actor;
    }

    private List<String> command(String heap, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                // ONNX Runtime unpacks its natives into a temp directory that a kill -9 never removes
                "-Djava.io.tmpdir=" + settings.workDir().resolve("tmp"),
                "-cp", settings.classpath(), MAIN));
        cmd.addAll(args);
        return cmd;
    }

    /**
     * Starts again every process that died without being killed, and notes it as an unexpected exit;
     * a learner that exited 0 finished its steps and stays down.
     */
    void reviveDead() {
        for (RoleProcess p : processes.values()) {
            if (!p.diedOnItsOwn()) {
                continue;
            }
            int code = p.exitCode();
            if ("learner".equals(p.name()) && code == 0) {
                if (!learnerFinished) {
                    learnerFinished = true;
                    say.accept("learner finished its steps");
                }
                continue;
            }
            unexpectedExits.add(p.name() + " exited with code " + code + " (start " + p.starts() + ")\n" + p.tail());
            say.accept(p.name() + " died on its own with exit code " + code + "; restarting it");
            p.start();
        }
    }

    boolean learnerFinished() {
        return learnerFinished;
    }

    /** Processes that died without being killed, each with its exit code and last lines. */
    List<String> unexpectedExits() {
        return List.copyOf(unexpectedExits);
    }

    /** Stops actors, scorer and learner (SIGTERM, then -9 after 10 s); the broker keeps serving the log. */
    void stopRoles() throws InterruptedException {
        for (String r : List.of("actor-1", "actor-2", "scorer", "learner")) {
            RoleProcess p = processes.get(r);
            if (p != null) {
                p.stop(Duration.ofSeconds(10));
            }
        }
    }

    /** Stops everything, broker last, and removes the children's temp directory. */
    @Override
    public void close() throws InterruptedException {
        stopRoles();
        RoleProcess broker = processes.get("broker");
        if (broker != null) {
            broker.stop(Duration.ofSeconds(20));
        }
        deleteRecursively(settings.workDir().resolve("tmp")); // natives unpacked by each start, ~25 MB a time
        try {
            Runtime.getRuntime().removeShutdownHook(killOnExit);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // the JVM is exiting (the hook runs anyway) or start() never registered it
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: it is inside the work directory either way
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }
}
