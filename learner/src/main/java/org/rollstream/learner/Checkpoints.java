package org.rollstream.learner;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.rollstream.learner.state.LearnerState;
import org.rollstream.policy.SafetensorsFile;
import org.rollstream.policy.Weights;

/**
 * Checkpoints under {@code <run>/checkpoints/step-NNNNNNNN-<time>/}: the policy, the frozen reference and
 * the optimizer moments as safetensors, and {@code state.json} ({@link State}). Written to a temporary directory and renamed, so a crash never
 * leaves a half checkpoint that looks complete. The last {@link #KEEP} are kept.
 */
public final class Checkpoints {
    static final int KEEP = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;

    public Checkpoints(Path dir) {
        this.dir = dir;
    }

    /**
     * What a checkpoint restores besides tensors: the learner's state machine, the optimizer's step
     * count, the run's running totals (so a resumed run's summary covers the whole run), and the spec
     * and configuration it was written under, for provenance.
     */
    public record State(long step, long version, long incarnation, LearnerState.Snapshot learner, RunTotals totals,
                        long optimizerSteps, String spec, String config) {
    }

    /** A loaded checkpoint. */
    public record Loaded(Path path, State state, Weights policy, Weights reference, Weights optimizer) {
    }

    public Path save(State state, Weights policy, Weights reference, Weights optimizer) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempDirectory(dir, ".partial-");
            Map<String, String> meta = Map.of("step", Long.toString(state.step()), "version", Long.toString(state.version()));
            SafetensorsFile.write(tmp.resolve("policy.safetensors"), policy, meta);
            if (reference != null) {
                SafetensorsFile.write(tmp.resolve("reference.safetensors"), reference, meta);
            }
            SafetensorsFile.write(tmp.resolve("optimizer.safetensors"), optimizer, meta);
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve("state.json").toFile(), state);
            // a stop can checkpoint the same step twice: the name orders them and never replaces one
            Path target = dir.resolve(String.format("step-%08d-%013d", state.step(), System.currentTimeMillis()));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            prune();
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint in " + dir, e);
        }
    }

    public Optional<Loaded> latest() {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(dir)) {
            Optional<Path> last = s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
            if (last.isEmpty()) {
                return Optional.empty();
            }
            Path p = last.get();
            State state = JSON.readValue(p.resolve("state.json").toFile(), State.class);
            Weights policy = SafetensorsFile.read(p.resolve("policy.safetensors")).weights();
            Path ref = p.resolve("reference.safetensors");
            Weights reference = Files.exists(ref) ? SafetensorsFile.read(ref).weights() : null;
            Weights optimizer = SafetensorsFile.read(p.resolve("optimizer.safetensors")).weights();
            return Optional.of(new Loaded(p, state, policy, reference, optimizer));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint in " + dir, e);
        }
    }

    /** Every complete checkpoint directory, oldest first (a half-written one is never listed: it is renamed last). */
    public List<Path> list() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("step-"))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    /** The newest checkpoint written at step {@code step} or before, if any is still kept. */
    public Optional<Loaded> atOrBefore(long step) {
        Path best = null;
        for (Path p : list()) {
            if (Long.parseLong(p.getFileName().toString().substring(5, 13)) <= step) {
                best = p;
            }
        }
        return best == null ? Optional.empty() : Optional.of(load(best));
    }

    /** Reads one checkpoint directory. */
    public static Loaded load(Path p) {
        try {
            State state = JSON.readValue(p.resolve("state.json").toFile(), State.class);
            Weights policy = SafetensorsFile.read(p.resolve("policy.safetensors")).weights();
            Path ref = p.resolve("reference.safetensors");
            Weights reference = Files.exists(ref) ? SafetensorsFile.read(ref).weights() : null;
            Weights optimizer = SafetensorsFile.read(p.resolve("optimizer.safetensors")).weights();
            return new Loaded(p, state, policy, reference, optimizer);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read checkpoint " + p, e);
        }
    }

    private void prune() throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList();
        }
        for (int i = 0; i < all.size() - KEEP; i++) {
            deleteTree(all.get(i));
        }
    }

    static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
