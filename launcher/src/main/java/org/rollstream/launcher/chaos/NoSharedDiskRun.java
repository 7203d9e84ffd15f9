package org.rollstream.launcher.chaos;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;

/**
 * A cluster without a shared disk, on one machine: broker, learner, scorer and actors as separate
 * processes, each in a working directory of its own and given only relative paths, so none can
 * read another's files. The learner publishes weights on the {@code policy.weights} topic and signs
 * its announcements; each actor has its own copy of the key. Two actors train with it from the
 * start; once the learner has announced a few versions a third actor joins late, and a fourth with
 * a wrong key, which must refuse every version. The run ends when the learner has finished its
 * steps and the late actor serves the final version, or at the deadline.
 */
public final class NoSharedDiskRun {
    static final Pattern SERVING = Pattern.compile("now serving policy '([^']*)' (?:run '([^']*)' )?v(\\d+)");
    static final Pattern REFUSED = Pattern.compile("refused policy '([^']*)' .*v(\\d+)");
    static final Pattern LEARNER_DONE = Pattern.compile("learner done: (\\d+) steps");
    private static final String MAIN = "org.rollstream.launcher.Rollstream";
    private static final String POLICY = "default";

    /**
     * @param workDir   holds one directory per role (and the logs); nothing else is shared
     * @param classpath class path of the {@code rollstream} command for the child JVMs
     * @param grpoSteps GRPO steps of the learner
     * @param lateAfter the late actors start once this version has been announced
     * @param deadline  the whole run
     */
    public record Settings(Path workDir, String classpath, int grpoSteps, long lateAfter, Duration deadline) {
        public static Settings small(Path workDir, String classpath) {
            return new Settings(workDir, classpath, 8, 3, Duration.ofMinutes(12));
        }
    }

    /**
     * What happened.
     *
     * @param learnerSteps     GRPO steps the learner reported on finishing; -1 if it did not finish
     * @param announcements    every announcement on {@code policy.versions}, in order
     * @param firstServed      per actor, the first version it served (-1: none)
     * @param lastServed       per actor, the last version it served (-1: none)
     * @param refusals         per actor, how many versions it refused
     * @param latestAtLateStart the latest announced version when the late actors started
     * @param weightFiles      safetensors files found under each role's directory (only the learner should have any)
     * @param problems         what went wrong with the run itself (a role that died, a deadline)
     */
    public record Result(long learnerSteps, List<PolicyVersion> announcements, Map<String, Long> firstServed,
                         Map<String, Long> lastServed, Map<String, Integer> refusals, long latestAtLateStart,
                         Map<String, List<Path>> weightFiles, List<String> problems) {
        public long finalVersion() {
            return announcements.isEmpty() ? -1 : announcements.get(announcements.size() - 1).getVersion();
        }
    }

    private final Settings settings;
    private final PrintStream out;
    private final Map<String, RoleProcess> processes = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final int port = freePort();

    public NoSharedDiskRun(Settings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    public Result run() throws InterruptedException {
        long deadline = System.currentTimeMillis() + settings.deadline().toMillis();
        Thread killOnExit = new Thread(() -> processes.values().forEach(RoleProcess::killNow), "no-shared-disk-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
        long latestAtLateStart = -1;
        long learnerSteps = -1;
        String bootstrap = "127.0.0.1:" + port;
        try {
            RoleProcess broker = role("broker", List.of("broker", "--port", Integer.toString(port), "--log-dir", "kafka",
                    "--partitions", "4"), "512m");
            broker.start();
            if (broker.awaitLine(ChaosCluster.BROKER_READY, Duration.ofMinutes(2)).isEmpty()) {
                throw new IllegalStateException("the broker did not start: " + broker.tail());
            }
            String key = "no-shared-disk secret " + Long.toHexString(System.nanoTime());
            List<String> cluster = List.of("--bootstrap-servers", bootstrap);
            List<String> learner = new ArrayList<>(List.of("learner", "--run-dir", "run", "--weights-store", "kafka",
                    "--weights-fp16", "--sign-key-file", keyFile("learner", key)));
            learner.addAll(cluster);
            learner.addAll(List.of("--preset", "tiny", "--sft-steps", "60", "--sft-batch", "16",
                    "--steps", Integer.toString(settings.grpoSteps()), "-B", "4", "--checkpoint-every", "2",
                    "--eval-every", "100000", "--eval-size", "8", "--max-new-tokens", "24"));
            role("learner", learner, "1g").start();
            List<String> scorer = new ArrayList<>(List.of("scorer", "--id", "nsd-scorer", "--max-new-tokens", "24"));
            scorer.addAll(cluster);
            role("scorer", scorer, "384m").start();
            for (String a : List.of("actor-1", "actor-2")) {
                role(a, actor(a, cluster, keyFile(a, key)), "512m").start();
            }
            // the late actors join once the learner has moved on from its first versions
            while (latestAtLateStart < settings.lateAfter()) {
                check(deadline, "waiting for version " + settings.lateAfter());
                Thread.sleep(2_000);
                latestAtLateStart = latest(announcements(bootstrap));
            }
            out.println("version " + latestAtLateStart + " announced: starting actor-3 (late) and actor-wrong-key");
            role("actor-3", actor("actor-3", cluster, keyFile("actor-3", key)), "512m").start();
            role("actor-wrong-key", actor("actor-wrong-key", cluster, keyFile("actor-wrong-key", "a different secret, same length")),
                    "512m").start();
            RoleProcess l = processes.get("learner");
            Optional<Integer> exit = Optional.empty();
            while (exit.isEmpty()) {
                check(deadline, "waiting for the learner to finish");
                exit = l.awaitExit(Duration.ofSeconds(2));
            }
            if (exit.get() != 0) {
                problems.add("learner exited with " + exit.get() + "\n" + l.tail());
            }
            Optional<Matcher> done = l.awaitLine(LEARNER_DONE, Duration.ofSeconds(1));
            learnerSteps = done.map(m -> Long.parseLong(m.group(1))).orElse(-1L);
            long last = latest(announcements(bootstrap));
            Pattern finalServed = Pattern.compile(SERVING.pattern().replace("v(\\d+)", "v(" + last + ")\\b"));
            for (String a : List.of("actor-1", "actor-2", "actor-3")) {
                long left = Math.max(1, deadline - System.currentTimeMillis());
                if (processes.get(a).awaitLine(finalServed, Duration.ofMillis(left)).isEmpty()) {
                    problems.add(a + " never served the final version " + last + "\n" + processes.get(a).tail());
                }
            }
            List<PolicyVersion> all = announcements(bootstrap);
            stopAll();
            Map<String, Long> first = new LinkedHashMap<>();
            Map<String, Long> lastServed = new LinkedHashMap<>();
            Map<String, Integer> refusals = new LinkedHashMap<>();
            Map<String, List<Path>> files = new LinkedHashMap<>();
            for (RoleProcess p : processes.values()) {
                List<Long> served = new ArrayList<>();
                int refused = 0;
                for (String line : logLines(p)) {
                    Matcher m = SERVING.matcher(line);
                    if (m.find()) {
                        served.add(Long.parseLong(m.group(3)));
                    }
                    if (REFUSED.matcher(line).find()) {
                        refused++;
                    }
                }
                if (p.name().startsWith("actor")) {
                    first.put(p.name(), served.isEmpty() ? -1 : served.get(0));
                    lastServed.put(p.name(), served.isEmpty() ? -1 : served.get(served.size() - 1));
                    refusals.put(p.name(), refused);
                }
                files.put(p.name(), weightFiles(dir(p.name())));
            }
            return new Result(learnerSteps, all, first, lastServed, refusals, latestAtLateStart, files, List.copyOf(problems));
        } finally {
            stopAll();
            processes.values().forEach(p -> deleteTree(dir(p.name()).resolve("tmp")));
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException e) {
                // the JVM is exiting: the hook runs anyway
            }
        }
    }

    private List<String> actor(String name, List<String> cluster, String keyFile) {
        List<String> a = new ArrayList<>(List.of("actor", "--id", "nsd-" + name, "--sign-key-file", keyFile,
                "-G", "4", "--prompts-per-batch", "2", "--max-new-tokens", "24"));
        a.addAll(cluster);
        return a;
    }

    /** The role's own directory (created), where its process runs. */
    private Path dir(String role) {
        return settings.workDir().resolve(role).toAbsolutePath();
    }

    /** Writes the secret into the role's own directory; returns the path relative to it. */
    private String keyFile(String role, String secret) {
        try {
            Files.createDirectories(dir(role));
            Files.writeString(dir(role).resolve("sign.key"), secret + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "sign.key";
    }

    private RoleProcess role(String name, List<String> args, String heap) {
        Path dir = dir(name);
        try {
            Files.createDirectories(dir.resolve("tmp"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.io.tmpdir=tmp",
                // the actor logs each version it starts serving at info; the command's default is warn
                "-Dorg.slf4j.simpleLogger.log.org.rollstream.actor.ActorService=info",
                "-cp", settings.classpath(), MAIN));
        cmd.addAll(args);
        RoleProcess p = new RoleProcess(name, cmd, Map.of("OMP_NUM_THREADS", "1"), settings.workDir().resolve("logs"), dir);
        processes.put(name, p);
        return p;
    }

    private void check(long deadline, String what) {
        for (RoleProcess p : processes.values()) {
            if (p.diedOnItsOwn() && !"learner".equals(p.name())) {
                throw new IllegalStateException(p.name() + " died (exit " + p.exitCode() + ") while " + what + "\n" + p.tail());
            }
        }
        if (System.currentTimeMillis() > deadline) {
            throw new IllegalStateException("deadline of " + settings.deadline() + " passed while " + what);
        }
    }

    private void stopAll() throws InterruptedException {
        List<String> order = new ArrayList<>(processes.keySet());
        order.remove("broker");
        for (String r : order) {
            processes.get(r).stop(Duration.ofSeconds(10));
        }
        RoleProcess broker = processes.get("broker");
        if (broker != null) {
            broker.stop(Duration.ofSeconds(20));
        }
    }

    /** Every announcement of the policy on the compacted topic, read from the start to the end. */
    static List<PolicyVersion> announcements(String bootstrap) {
        Properties props = KafkaSettings.of(bootstrap).consumerProps("unused");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        AvroCodec<PolicyVersion> codec = AvroCodec.of(PolicyVersion.class);
        List<PolicyVersion> out = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            TopicPartition tp = new TopicPartition(Topics.POLICY_VERSIONS, 0);
            if (c.partitionsFor(Topics.POLICY_VERSIONS, Duration.ofSeconds(10)).isEmpty()) {
                return out;
            }
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long end = c.endOffsets(List.of(tp)).get(tp);
            while (c.position(tp) < end) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.value() != null) {
                        PolicyVersion v = codec.decode(r.value());
                        if (POLICY.equals(v.getPolicy())) {
                            out.add(v);
                        }
                    }
                }
            }
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            // the topic is not there yet
        }
        return out;
    }

    private static long latest(List<PolicyVersion> vs) {
        return vs.isEmpty() ? -1 : vs.get(vs.size() - 1).getVersion();
    }

    private static List<String> logLines(RoleProcess p) {
        try {
            return Files.readAllLines(p.logFile(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return List.of();
        }
    }

    private static List<Path> weightFiles(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
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
