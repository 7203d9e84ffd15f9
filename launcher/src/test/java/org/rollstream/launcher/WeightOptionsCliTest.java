package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Weight-store and signing flags: a bad value exits 2 naming it, before any broker is tried. */
class WeightOptionsCliTest {
    private static final String NOWHERE = "127.0.0.1:1";

    private record Outcome(int code, String out, String err) {
    }

    private static Outcome run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Outcome(Rollstream.execute(args), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static void assertUsage(String fragment, String... args) {
        Outcome o = run(args);
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
        Outcome learner = run("learner", "--help");
        assertEquals(0, learner.code());
        for (String flag : new String[]{"--weights-store", "--weights-fp16", "--sign-key-file"}) {
            assertTrue(learner.out().contains(flag), flag + " in learner --help:\n" + learner.out());
        }
        Outcome actor = run("actor", "--help");
        assertTrue(actor.out().contains("--sign-key-file"), actor.out());
        assertFalse(actor.out().contains("--weights-store"), "actors read whatever store an announcement names");
        Outcome bench = run("bench", "weights", "--help");
        assertEquals(0, bench.code());
        assertTrue(bench.out().contains("publish to all actors serving"), bench.out());
    }
}
