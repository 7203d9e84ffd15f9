package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code bench actor}: bad values exit 2 naming the setting; a short real run reads groups back from the topic and prints the comparison. */
@Timeout(180)
class ActorBenchTest {

    private static CliOutcome run(String... args) {
        return CliOutcome.run(args);
    }

    @Test
    void badValuesExitTwo() {
        CliOutcome s = run("bench", "actor", "--sampler", "gpu");
        assertEquals(2, s.code());
        assertTrue(s.err().contains("sampler must be host, graph or auto"), s.err());
        CliOutcome c = run("bench", "actor", "--prompt-tokens", "100", "--new-tokens", "48");
        assertEquals(2, c.code());
        assertTrue(c.err().contains("exceed the context of 128"), c.err());
        assertEquals(2, run("bench", "actor", "--fp16").code(), "fp16 on the CPU");
        assertEquals(2, run("bench", "actor", "--seconds", "0").code());
    }

    @Test
    void aShortRunMeasuresTheActorBesideTheSampler() {
        CliOutcome o = run("bench", "actor", "--sampler", "graph", "-G", "2", "--prompts-per-batch", "2", "--prompt-tokens", "12",
                "--new-tokens", "8", "--seconds", "2", "--warmup-batches", "1", "--bench-runs", "1");
        assertEquals(0, o.code(), o.err());
        Matcher m = Pattern.compile("actor, rollouts.sampled over [0-9.]+ s: [0-9.]+ groups/s, [0-9,.]+ tokens/s \\((\\d+) groups, ([0-9,]+) tokens\\)")
                .matcher(o.out());
        assertTrue(m.find(), o.out());
        int groups = Integer.parseInt(m.group(1));
        long tokens = Long.parseLong(m.group(2).replace(",", ""));
        assertTrue(groups > 0 && groups % 2 == 0, "whole batches of 2 prompts: " + groups);
        assertTrue(tokens >= groups * 2L && tokens <= groups * 2L * 8, "between 1 and 8 tokens per completion: " + tokens);
        assertTrue(o.out().contains("bench generate --sample (sample T=1.0 top-p=1.0, median of 1)"), o.out());
        assertTrue(o.out().contains("ratio to the benchmark: actor sampler"), o.out());
    }
}
