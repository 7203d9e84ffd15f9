package org.rollstream.launcher;

import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.*;

/** {@code bench generate --sample}: bad sampling values exit 2 naming the flag; a tiny run prints the comparison. */
class GenerateBenchSampleTest {

    private static CliOutcome run(String... args) {
        return CliOutcome.run(args);
    }

    @Test
    void badSamplingValuesExitTwo() {
        CliOutcome p = run("bench", "generate", "--sample", "--top-p", "1,1.5");
        assertEquals(2, p.code());
        assertTrue(p.err().contains("--top-p"), p.err());
        CliOutcome t = run("bench", "generate", "--sample", "--temperature", "0");
        assertEquals(2, t.code());
        assertTrue(t.err().contains("--temperature"), t.err());
        assertEquals(2, run("bench", "generate", "--sample", "--top-k", "-1").code());
    }

    @Test
    void sampleRunsGreedyAndEachTopP() {
        CliOutcome o = run("bench", "generate", "--sample", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "4",
                "--new-tokens", "5", "--runs", "1", "--top-p", "1,0.8");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("greedy"), o.out());
        assertTrue(o.out().contains("sample T=1.0 top-p=1.0"), o.out());
        assertTrue(o.out().contains("sample T=1.0 top-p=0.8"), o.out());
        assertTrue(o.out().contains("invalid 0"), o.out());
    }

    @Test
    void hostTimesTheHostLoopBesideEachTopP() {
        CliOutcome o = run("bench", "generate", "--sample", "--host", "--preset", "tiny", "--batch", "2", "--prompt-tokens", "4",
                "--new-tokens", "5", "--runs", "1", "--top-p", "1,0.8");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().contains("host loop T=1.0 top-p=1.0"), o.out());
        assertTrue(o.out().contains("host loop T=1.0 top-p=0.8"), o.out());
    }
}
