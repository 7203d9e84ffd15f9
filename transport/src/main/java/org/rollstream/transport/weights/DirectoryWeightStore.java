package org.rollstream.transport.weights;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Weight files in one directory, {@code vNNNNNN.safetensors}: every role must see the same path (one
 * machine, or a shared file system). A file is written under a temporary name and moved into place,
 * never overwritten; the first and the last {@code keep} are kept. Reads accept any absolute path
 * or {@code file:} URI, so a reader needs no directory of its own.
 */
public final class DirectoryWeightStore implements WeightStore {
    private static final Pattern FILE = Pattern.compile("v(\\d{6,})\\.safetensors");

    private final Path dir;
    private final int keep;

    /** @param keep how many of the latest files to keep besides the first (version 0 is worth looking at) */
    public DirectoryWeightStore(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    /** A store that only reads locations (an actor's). */
    public static DirectoryWeightStore reader() {
        return new DirectoryWeightStore(null, 0);
    }

    public Path file(long version) {
        return dir.resolve(String.format("v%06d.safetensors", version));
    }

    @Override
    public String put(WeightBlob blob) {
        if (dir == null) {
            throw new IllegalStateException("a reading store stores nothing");
        }
        try {
            Files.createDirectories(dir);
            Path file = file(blob.version());
            if (Files.exists(file)) {
                throw new WeightStoreException("policy version " + blob.version() + " already has a file " + file
                        + "; published weights are never overwritten");
            }
            Path tmp = dir.resolve(".v" + blob.version() + "-" + blob.incarnation() + ".partial");
            Files.write(tmp, blob.bytes());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            prune();
            return file.toAbsolutePath().toString();
        } catch (IOException e) {
            throw new WeightStoreException("cannot write policy version " + blob.version() + " in " + dir + ": " + e, e);
        }
    }

    @Override
    public Fetched fetch(String location, String sha256) {
        Path path = pathOf(location);
        long t0 = System.nanoTime();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new WeightStoreException("cannot read weights file " + path + ": " + e, e);
        }
        long t1 = System.nanoTime();
        String actual = Sha256.hex(bytes);
        if (sha256 != null && !sha256.equalsIgnoreCase(actual)) {
            throw new WeightStoreException("checksum mismatch for " + path + ": expected sha-256 " + sha256 + " but file has " + actual);
        }
        return new Fetched(bytes, t1 - t0, System.nanoTime() - t1);
    }

    @Override
    public boolean handles(String location) {
        return location != null && !location.isBlank() && !location.startsWith(KafkaWeightsLocation.SCHEME);
    }

    /** A plain path or a {@code file:} URI. */
    public static Path pathOf(String location) {
        if (location == null || location.isBlank()) {
            throw new WeightStoreException("policy version has no weights location");
        }
        return location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location);
    }

    /** The highest version with a file here, -1 if none. */
    public long highestStored() {
        return versions().stream().mapToLong(Long::longValue).max().orElse(-1);
    }

    private void prune() throws IOException {
        List<Long> versions = versions().stream().sorted().toList();
        for (int i = 1; i < versions.size() - keep; i++) {
            Files.deleteIfExists(file(versions.get(i)));
        }
    }

    private List<Long> versions() {
        if (dir == null || !Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> FILE.matcher(p.getFileName().toString())).filter(Matcher::matches)
                    .map(m -> Long.parseLong(m.group(1))).toList();
        } catch (IOException e) {
            throw new WeightStoreException("cannot list " + dir + ": " + e, e);
        }
    }

    @Override
    public void close() {
    }
}
