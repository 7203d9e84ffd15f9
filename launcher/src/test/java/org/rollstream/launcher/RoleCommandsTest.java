package org.rollstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The actor and scorer commands check every flag before they contact a broker: with a bootstrap
 * address where nothing listens, a bad value must exit 2 naming the setting, not 1 for the broker.
 */
class RoleCommandsTest {
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
    void badActorFlagsExitTwoBeforeTheBrokerIsTried() {
        assertUsage("groupSize (G) must be at least 1", "actor", "--bootstrap-servers", NOWHERE, "-G", "0");
        assertUsage("temperature must be a positive number", "actor", "--bootstrap-servers", NOWHERE, "--temperature", "0");
        assertUsage("topP must be in (0, 1]", "actor", "--bootstrap-servers", NOWHERE, "--top-p", "1.5");
        assertUsage("topK must be at least 0", "actor", "--bootstrap-servers", NOWHERE, "--top-k", "-1");
        assertUsage("promptsPerBatch must be at least 1", "actor", "--bootstrap-servers", NOWHERE, "--prompts-per-batch", "0");
        assertUsage("maxNewTokens must be at least 1", "actor", "--bootstrap-servers", NOWHERE, "--max-new-tokens", "0");
        assertUsage("device must be 'cpu', 'cuda' or 'cuda:N'", "actor", "--bootstrap-servers", NOWHERE, "--device", "tpu");
        assertUsage("sampler must be host, graph or auto, got 'gpu'", "actor", "--bootstrap-servers", NOWHERE, "--sampler", "gpu");
        assertUsage("fp16 needs a CUDA device", "actor", "--bootstrap-servers", NOWHERE, "--actor-fp16");
        // a bad value is named even when --bootstrap-servers is missing too
        assertUsage("temperature", "actor", "--temperature", "-1");
    }

    @Test
    void badScorerFlagsExitTwoBeforeTheBrokerIsTried() {
        assertUsage("groupSize (G) must be at least 1", "scorer", "--bootstrap-servers", NOWHERE, "-G", "0");
        assertUsage("unknown advantage mode 'foo'", "scorer", "--bootstrap-servers", NOWHERE, "--advantage", "foo");
        assertUsage("maxNewTokens must be at least 1", "scorer", "--bootstrap-servers", NOWHERE, "--max-new-tokens", "0");
        assertUsage("bogus", "scorer", "--bootstrap-servers", NOWHERE, "--rewards", "accuracy=1,bogus=2");
    }
}
