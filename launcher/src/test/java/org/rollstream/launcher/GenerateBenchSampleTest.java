package org.rollstream.launcher;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** {@code bench generate --sample}: bad sampling values exit 2 naming the flag; a tiny run prints the comparison. */
class GenerateBenchSampleTest {
    private record Outcome(int code, String out, String err) {
    }

    private static Outcome run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Rollstream.execute(args);
            return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void badSamplingValuesExitTwo() {
        Outcome p = run("bench", "generate", "--sample", "--top-p", "1,1.5");
        assertEquals(2, p.code());
        assertTrue(p.err().contains("--top-p"), p.err());
        Outcome t = run("bench", "generate", "--sample", "--temperature", "0");
        assertEquals(2, t.code());
        assertTrue(t.err().contains("--temperature"), t.err());
        assertEquals(2, run("bench", "generate", "--sample", "--top-k", "-1").code());
    }

    @Test
    void sampleRunsGreedyAndEachTopP() {
        Outcome o = run("bench", "generate", "--sample", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "4",
                "--new-tokens", "5", "--runs", "1", "--top-p", "1,0.8");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("greedy"), o.out());
        assertTrue(o.out().contains("sample T=1.0 top-p=1.0"), o.out());
        assertTrue(o.out().contains("sample T=1.0 top-p=0.8"), o.out());
        assertTrue(o.out().contains("invalid 0"), o.out());
    }

    @Test
    void hostTimesTheHostLoopBesideEachTopP() {
        Outcome o = run("bench", "generate", "--sample", "--host", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "4",
                "--new-tokens", "5", "--runs", "1", "--top-p", "1,0.8");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("host loop T=1.0 top-p=1.0"), o.out());
        assertTrue(o.out().contains("host loop T=1.0 top-p=0.8"), o.out());
    }
}
