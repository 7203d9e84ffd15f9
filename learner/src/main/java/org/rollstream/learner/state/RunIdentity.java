package org.rollstream.learner.state;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Who a learner run is: a run id unique on a shared cluster (the run directory's name plus a random
 * suffix, fixed at the run's first start) and the incarnation, how many times the run has been
 * started before. Kept in {@code <run>/run.json}; {@link #claim} bumps the incarnation on every start,
 * so records of a crashed start are told apart from those of the start that resumed it.
 */
public record RunIdentity(String runId, long incarnation) {
    static final String FILE = "run.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    public RunIdentity {
        if (runId == null || runId.isBlank() || runId.contains("/")) {
            throw new IllegalArgumentException("run id must be a non-empty name without '/', got " + runId);
        }
        if (incarnation < 0) {
            throw new IllegalArgumentException("incarnation must be at least 0, got " + incarnation);
        }
    }

    /**
     * Starts the run in {@code runDir}: the first start creates the identity from {@code name}, later
     * starts reuse its run id with the next incarnation. The file is replaced atomically.
     */
    public static RunIdentity claim(Path runDir, String name) {
        Path file = runDir.resolve(FILE);
        try {
            Files.createDirectories(runDir);
            RunIdentity next;
            if (Files.exists(file)) {
                RunIdentity last = JSON.readValue(file.toFile(), RunIdentity.class);
                next = new RunIdentity(last.runId(), last.incarnation() + 1);
            } else {
                byte[] suffix = new byte[4];
                new SecureRandom().nextBytes(suffix);
                next = new RunIdentity(name + "-" + HexFormat.of().formatHex(suffix), 0);
            }
            Path tmp = Files.createTempFile(runDir, ".run-", ".json");
            JSON.writeValue(tmp.toFile(), next);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return next;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the run identity " + file, e);
        }
    }

    /** The id of the prompt issued {@code index}-th in this run (the same index always names the same prompt). */
    public String promptId(long index) {
        return runId + "/" + index;
    }
}
