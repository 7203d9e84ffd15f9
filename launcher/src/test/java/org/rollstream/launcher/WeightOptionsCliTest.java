package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weight-store and signing flags: a bad value exits 2 naming it, before any broker is tried. */
class WeightOptionsCliTest {
    private static final String NOWHERE = "127.0.0.1:1";


    private static CliOutcome run(String... args) {
        return CliOutcome.run(args);
    }

    private static void assertUsage(String fragment, String... args) {
        CliOutcome o = run(args);
        assertEquals(2, o.code(), String.join(" ", args) + ": " + o.err());
        assertTrue(o.err().contains(fragment), String.join(" ", args) + ": " + o.err());
        assertFalse(o.err().contains("reach"), "the broker must not have been tried: " + o.err());
    }

    @Test
    void badSigningKeysExitTwo(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.key");
        assertUsage("cannot read signing key file " + missing, "actor", "--bootstrap-servers", NOWHERE, "--sign-key-file", missing.toString());
        Path shortKey = dir.resolve("short.key");
        Files.writeString(shortKey, "tooshort\n");
        assertUsage("needs at least 16 bytes", "actor", "--bootstrap-servers", NOWHERE, "--sign-key-file", shortKey.toString());
        assertUsage("needs at least 16 bytes", "learner", "--bootstrap-servers", NOWHERE, "--run-dir", dir.resolve("run").toString(),
                "--sign-key-file", shortKey.toString());
    }

    @Test
    void anUnknownWeightStoreExitsTwo() {
        assertUsage("'nfs' is not a weight store: use dir or kafka", "learner", "--bootstrap-servers", NOWHERE, "--weights-store", "nfs");
        assertUsage("'nfs' is not a weight store", "run", "--weights-store", "nfs");
    }

    @Test
    void helpDocumentsTheOptions() {
        CliOutcome learner = run("learner", "--help");
        assertEquals(0, learner.code());
        for (String flag : new String[]{"--weights-store", "--weights-fp16", "--sign-key-file"}) {
            assertTrue(learner.out().contains(flag), flag + " in learner --help:\n" + learner.out());
        }
        CliOutcome actor = run("actor", "--help");
        assertTrue(actor.out().contains("--sign-key-file"), actor.out());
        assertFalse(actor.out().contains("--weights-store"), "actors read whatever store an announcement names");
        CliOutcome bench = run("bench", "weights", "--help");
        assertEquals(0, bench.code());
        assertTrue(bench.out().contains("publish to all actors serving"), bench.out());
    }
}
