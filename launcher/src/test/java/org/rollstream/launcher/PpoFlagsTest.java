package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.learner.grpo.GrpoConfig;
import picocli.CommandLine;

/** {@code --mini-batches} and {@code --ppo-epochs}: parsed into the GRPO config, bad values exit 2 before anything starts. */
class PpoFlagsTest {
    @TempDir
    Path dir;

    private record Outcome(int code, String err) {
    }

    private Outcome run(String... args) {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            return new Outcome(Rollstream.execute(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(oldErr);
        }
    }

    private static GrpoConfig parse(String... args) {
        TrainingOptions options = new TrainingOptions();
        new CommandLine(options).parseArgs(args);
        return options.grpo();
    }

    @Test
    void defaultsAreOneMiniBatchAndOneEpoch() {
        GrpoConfig c = parse();
        assertEquals(1, c.miniBatches());
        assertEquals(1, c.ppoEpochs());
    }

    @Test
    void flagsReachTheConfig() {
        GrpoConfig c = parse("--mini-batches", "4", "--ppo-epochs", "2", "-B", "8");
        assertEquals(4, c.miniBatches());
        assertEquals(2, c.ppoEpochs());
        assertEquals(8, c.groupsPerStep());
        assertEquals(8, c.updatesPerStep());
    }

    @Test
    void badValuesExitTwoWithTheFlagNamedAndStartNothing() {
        String[][] cases = {
            {"--mini-batches", "0", "--mini-batches must be at least 1, got 0"},
            {"--ppo-epochs", "-1", "--ppo-epochs must be at least 1, got -1"},
            {"--mini-batches", "9", "--mini-batches 9 exceeds --groups-per-step 8"},
        };
        for (String[] c : cases) {
            Path runDir = dir.resolve("run-" + c[0].substring(2) + c[1]);
            Outcome o = run("run", "--run-dir", runDir.toString(), c[0], c[1]);
            assertEquals(2, o.code(), o.err());
            assertTrue(o.err().contains(c[2]), o.err());
            assertTrue(!Files.exists(runDir), "nothing was started for " + String.join(" ", c));
        }
        assertEquals(2, run("run", "--ppo-epochs", "two").code());
    }
}
