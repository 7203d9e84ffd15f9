package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;

/** The command line's contract: help works, mistakes exit 2 with a clear line, an unreachable broker fails fast. */
class RollstreamCliTest {
    private record Outcome(int code, String out, String err, long millis) {
    }

    private static Outcome run(String... args) {
        return capture(() -> Rollstream.execute(args));
    }

    private static Outcome capture(IntSupplier body) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = body.getAsInt();
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                    (System.nanoTime() - t0) / 1_000_000);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void helpListsEveryCommand() {
        Outcome o = run("--help");
        assertEquals(0, o.code());
        for (String c : new String[] {"run", "broker", "actor", "scorer", "learner", "replay", "rescore", "export", "inspect", "bench"}) {
            assertTrue(o.out().contains(c), "help mentions " + c);
        }
        assertEquals(0, run("bench", "loop", "--help").code());
    }

    @Test
    void unknownFlagExitsTwoWithTheFlagNamed() {
        Outcome o = run("run", "--no-such-flag");
        assertEquals(2, o.code());
        assertTrue(o.err().contains("--no-such-flag"), o.err());
    }

    @Test
    void badValuesExitTwo() {
        assertEquals(2, run("run", "--steps", "many").code());
        Outcome negative = run("run", "--steps", "-3");
        assertEquals(2, negative.code());
        assertTrue(negative.err().contains("GRPO steps must be at least 0"), negative.err());
        Outcome rewards = run("scorer", "--bootstrap-servers", "127.0.0.1:1", "--rewards", "accuracy=1,bogus=2");
        assertEquals(2, rewards.code());
        assertTrue(rewards.err().contains("bogus"), rewards.err());
        assertEquals(2, run("actor").code(), "a role without --bootstrap-servers is a usage error");
    }

    @Test
    void anEmptyDatasetIsAUsageErrorNotAHang(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path empty = java.nio.file.Files.createFile(dir.resolve("empty.jsonl"));
        Outcome o = run("run", "--dataset", empty.toString(), "--run-dir", dir.resolve("run").toString(),
                "--sft-steps", "1", "--steps", "1");
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("the file is empty"), o.err());
    }

    @Test
    void unreachableBrokerFailsFastWithAClearMessage() {
        Outcome o = run("actor", "--bootstrap-servers", "127.0.0.1:1");
        assertEquals(1, o.code());
        assertTrue(o.err().contains("cannot reach Kafka at 127.0.0.1:1"), o.err());
        assertTrue(o.millis() < 30_000, "failed after " + o.millis() + " ms");
    }
}
