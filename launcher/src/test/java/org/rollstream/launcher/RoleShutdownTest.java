package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.records.Prompt;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.tasks.TaskInstance;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.TopicAdmin;
import org.rollstream.broker.EmbeddedKafka;

/**
 * {@code rollstream actor} as a separate OS process on a real broker, stopped by signals: SIGTERM
 * drains and commits (every prompt's offset committed, the stop line printed); while a stop is
 * held up, a second SIGTERM forces the exit.
 */
@Timeout(240)
class RoleShutdownTest {
    static final AvroCodec<Prompt> PROMPTS = AvroCodec.of(Prompt.class);
    static final AvroCodec<PolicyVersion> VERSIONS = AvroCodec.of(PolicyVersion.class);
    static final ModelSpec SPEC = new ModelSpec(CharTokenizer.builtin().vocabSize(), 32, 1, 2, 96, ModelSpec.Positional.LEARNED, 2);

    static EmbeddedKafka kafka;
    static KafkaSettings settings;
    static ReactiveProducer producer;

    @TempDir
    static Path weights;

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.start(null);
        settings = KafkaSettings.of(kafka.bootstrapServers());
        try (TopicAdmin admin = new TopicAdmin(settings)) {
            admin.ensureTopics(Topics.all(2));
        }
        producer = ReactiveProducer.create(settings, "shutdown-test");
    }

    static final List<Process> STARTED = new java.util.concurrent.CopyOnWriteArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void killLeftovers() {
        STARTED.forEach(Process::destroyForcibly); // only after a failure is one still running
    }

    @AfterAll
    static void stop() {
        producer.close();
        kafka.close();
    }

    /**
     * SIGTERM while prompts are in hand: the stop line is printed, and afterwards the group's committed
     * offsets split the prompts exactly: every prompt below them was sampled and published, none at
     * or after them was (what was in hand was drained and committed; what was not yet polled is left
     * for the next member, never half done).
     */
    @Test
    void sigtermDrainsAndCommits() throws Exception {
        announce("drain", 1);
        for (int i = 0; i < 6; i++) {
            sendPrompt("drain-" + i, "drain", 0);
        }
        Actor actor = Actor.start("drain", "drain-actors");
        await(() -> actor.output().contains("now serving"), actor::output);
        await(() -> published("drain").size() == 6, actor::output);
        for (int i = 6; i < 16; i++) {
            sendPrompt("drain-" + i, "drain", 0);
        }
        await(() -> published("drain").size() >= 8, actor::output); // the second wave is being worked on
        long t0 = System.nanoTime();
        actor.terminate();
        assertTrue(actor.process.waitFor(90, TimeUnit.SECONDS), actor.output());
        System.out.printf("actor exited %d ms after SIGTERM (drain, commit, leave the group, close)%n", (System.nanoTime() - t0) / 1_000_000);
        String out = actor.output();
        assertEquals(143, actor.process.exitValue(), out);
        assertTrue(out.contains("stopping (Ctrl-C again to force)"), out);
        assertTrue(out.contains(" stopped: "), "stopped within its bound: " + out);
        java.util.Set<String> done = published("drain");
        Map<TopicPartition, Long> committed = committedOffsets("drain-actors");
        int below = 0;
        for (Map.Entry<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> e : promptRecords().entrySet()) {
            long mark = committed.getOrDefault(e.getKey(), 0L);
            for (ConsumerRecord<byte[], byte[]> r : e.getValue()) {
                Prompt p = PROMPTS.decode(r.value());
                if (!p.getPolicy().toString().equals("drain")) {
                    continue;
                }
                if (r.offset() < mark) {
                    below++;
                    assertTrue(done.contains(p.getId().toString()), p.getId() + " committed but never published: " + out);
                } else {
                    assertFalse(done.contains(p.getId().toString()), p.getId() + " published but left uncommitted: " + out);
                }
            }
        }
        assertEquals(done.size(), below, "published prompts are exactly those committed");
        assertTrue(below >= 8, "committed " + below);
    }

    @Test
    void aSecondSignalForcesAStopThatIsHeldUp() throws Exception {
        announce("held", 1);
        // asks for a version that never comes: the prompt waits unacked and holds the consumer's close
        sendPrompt("held-0", "held", 99);
        Actor actor = Actor.start("held", "held-actors");
        await(() -> actor.output().contains("now serving"), actor::output);
        Thread.sleep(3000); // let the prompt reach the actor and start waiting
        actor.terminate();
        await(() -> actor.output().contains("stopping (Ctrl-C again to force)"), actor::output);
        actor.terminate(); // the second SIGTERM
        assertTrue(actor.process.waitFor(60, TimeUnit.SECONDS), actor.output());
        String out = actor.output();
        assertTrue(out.contains("second TERM, forcing exit"), out);
        assertFalse(out.contains(" stopped: "), "forced before the graceful stop ended: " + out);
        assertEquals(143, actor.process.exitValue(), out);
    }

    /**
     * An actor process; its output goes to a file (Process.destroy closes the parent's end of a
     * pipe, which would lose what the shutdown hook prints).
     */
    record Actor(Process process, Path log) {
        static Actor start(String policy, String group) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Path log = Files.createTempFile(weights, "actor-" + policy, ".log");
            ProcessBuilder pb = new ProcessBuilder(java, "-Xmx384m", "-Dorg.slf4j.simpleLogger.log.org.rollstream=info",
                    "-cp", System.getProperty("java.class.path"), Rollstream.class.getName(), "actor",
                    "--bootstrap-servers", kafka.bootstrapServers(), "--policy-name", policy, "--group", group,
                    "-G", "2", "--max-new-tokens", "6", "--prompts-per-batch", "2")
                    .redirectErrorStream(true).redirectOutput(log.toFile());
            Process p = pb.start();
            STARTED.add(p);
            return new Actor(p, log);
        }

        String output() {
            try {
                return Files.readString(log);
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }

        /** SIGTERM, as Ctrl-C or a process manager sends it. */
        void terminate() throws IOException, InterruptedException {
            new ProcessBuilder("kill", "-TERM", Long.toString(process.pid())).inheritIO().start().waitFor();
        }
    }

    static void announce(String policy, long version) {
        WeightSnapshot s = WeightSnapshot.write(weights.resolve(policy), DjlPolicy.initialWeights(SPEC, version), SPEC, version, version);
        PolicyVersion v = PolicyVersion.newBuilder().setPolicy(policy).setVersion(version).setStep(version)
                .setWeightsLocation(s.path().toString()).setSha256(s.sha256()).setCreatedAtMs(System.currentTimeMillis())
                .setSpec(SPEC.toJson()).build();
        producer.send(Topics.POLICY_VERSIONS, policy, VERSIONS.encode(v)).block(Duration.ofSeconds(30));
    }

    static void sendPrompt(String id, String policy, long minVersion) {
        TaskInstance t = TaskRegistry.defaults().resolve("arithmetic").sample(new Random(id.hashCode()));
        Prompt p = Prompt.newBuilder().setId(id).setTask(t.task()).setText(t.text()).setAnswer(t.answer())
                .setFields(new HashMap<>(t.fields())).setPolicy(policy).setMinPolicyVersion(minVersion).build();
        producer.send(Topics.PROMPTS, id, PROMPTS.encode(p)).block(Duration.ofSeconds(30));
    }

    /** Keys of the groups on {@code rollouts.sampled} whose prompt is of {@code policy}. */
    static java.util.Set<String> published(String policy) {
        java.util.Set<String> ids = new java.util.HashSet<>();
        AvroCodec<org.rollstream.schemas.records.SampledGroup> codec = AvroCodec.of(org.rollstream.schemas.records.SampledGroup.class);
        for (List<ConsumerRecord<byte[], byte[]>> rs : records(Topics.ROLLOUTS_SAMPLED).values()) {
            for (ConsumerRecord<byte[], byte[]> r : rs) {
                var g = codec.decode(r.value());
                if (g.getPrompt().getPolicy().toString().equals(policy)) {
                    ids.add(g.getPrompt().getId().toString()); // prompts with a published group
                }
            }
        }
        return ids;
    }

    static Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> promptRecords() {
        return records(Topics.PROMPTS);
    }

    /** Every record of {@code topic} now, per partition in offset order. */
    static Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> records(String topic) {
        Properties p = settings.consumerProps("unused");
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        Map<TopicPartition, List<ConsumerRecord<byte[], byte[]>>> out = new java.util.HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = c.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            tps.forEach(tp -> out.put(tp, new java.util.ArrayList<>()));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    out.get(new TopicPartition(r.topic(), r.partition())).add(r);
                }
            }
        }
        return out;
    }

    static Map<TopicPartition, Long> committedOffsets(String group) {
        return org.rollstream.testsupport.Offsets.committed(settings.bootstrapServers(), group);
    }

    static void await(BooleanSupplier ok, java.util.function.Supplier<String> what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!ok.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(ok.getAsBoolean(), what.get());
    }
}
