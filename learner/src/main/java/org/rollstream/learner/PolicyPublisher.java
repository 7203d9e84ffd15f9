package org.rollstream.learner;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.rollstream.learner.state.RunIdentity;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.PolicyVersion;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.time.Time;

/**
 * Writes policy snapshots to {@code <run>/weights/vNNNNNN.safetensors} and announces them on
 * {@code policy.versions}. A published file never changes: it is written under a temporary name and
 * moved into place, and a version whose file exists is refused (versions only grow, so that would be
 * a bug). The first file and the last {@link #KEEP} are kept; actors load within seconds of an
 * announcement, and version 0 is the cold-start policy a run may want to look at.
 */
final class PolicyPublisher {
    static final int KEEP = 6;
    private static final Pattern FILE = Pattern.compile("v(\\d{6,})\\.safetensors");
    private static final AvroCodec<PolicyVersion> CODEC = AvroCodec.of(PolicyVersion.class);

    private final Path dir;
    private final String policyName;
    private final ModelSpec spec;
    private final RunIdentity run;
    private final ReactiveProducer producer;
    private final Time time;

    PolicyPublisher(Path dir, String policyName, ModelSpec spec, RunIdentity run, ReactiveProducer producer, Time time) {
        this.dir = dir;
        this.policyName = policyName;
        this.spec = spec;
        this.run = run;
        this.producer = producer;
        this.time = time;
    }

    /** The highest version with a file in the weights folder, -1 if none (what a crashed start got to). */
    long highestOnDisk() {
        return versionsOnDisk().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    /** Writes and announces {@code version}; returns once the broker has the announcement. */
    PolicyVersion publish(Weights weights, long version, long step) {
        try {
            Files.createDirectories(dir);
            Path file = file(version);
            if (Files.exists(file)) {
                throw new IllegalStateException("policy version " + version + " already has a file " + file
                        + "; published weights are never overwritten");
            }
            Path tmp = dir.resolve(".v" + version + "-" + run.incarnation() + ".partial");
            WeightSnapshot snap = WeightSnapshot.write(tmp, weights, spec, version, step, false);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            PolicyVersion pv = PolicyVersion.newBuilder().setPolicy(policyName).setVersion(version).setStep(step)
                    .setRunId(run.runId()).setIncarnation(run.incarnation())
                    .setWeightsLocation(file.toAbsolutePath().toString()).setSha256(snap.sha256())
                    .setCreatedAtMs(time.milliseconds()).setSpec(spec.toJson()).build();
            producer.send(Topics.POLICY_VERSIONS, policyName, pv, CODEC::encode).block(Duration.ofSeconds(30));
            prune();
            return pv;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write policy snapshot in " + dir, e);
        }
    }

    private Path file(long version) {
        return dir.resolve(String.format("v%06d.safetensors", version));
    }

    private void prune() throws IOException {
        List<Long> versions = versionsOnDisk().stream().sorted().toList();
        for (int i = 1; i < versions.size() - KEEP; i++) {
            Files.deleteIfExists(file(versions.get(i)));
        }
    }

    private List<Long> versionsOnDisk() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> FILE.matcher(p.getFileName().toString())).filter(Matcher::matches)
                    .map(m -> Long.parseLong(m.group(1))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }
}
