package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ActorConfigTest {

    @Test
    void defaultsAreTheDocumentedOnes() {
        ActorConfig c = ActorConfig.defaults("a1");
        assertEquals("rollstream-actors", c.consumerGroup());
        assertEquals("default", c.policyName());
        assertEquals(8, c.groupSize());
        assertEquals(1.0f, c.temperature());
        assertEquals(1.0f, c.topP());
        assertEquals(48, c.maxNewTokens());
        assertEquals(8, c.promptsPerBatch());
        assertEquals(-1, c.cudaDevice());
        assertEquals(0, c.topK());
        assertEquals(5, c.withTopK(5).topK());
        assertEquals(1, c.withDevice("cuda:1").cudaDevice());
    }

    @Test
    void invalidSettingsAreNamed() {
        assertMessage("actorId", () -> ActorConfig.defaults(""));
        assertMessage("groupSize", () -> ActorConfig.defaults("a").withSampling(0, 1f, 1f, 8));
        assertMessage("temperature", () -> ActorConfig.defaults("a").withSampling(4, 0f, 1f, 8));
        assertMessage("topP", () -> ActorConfig.defaults("a").withSampling(4, 1f, 1.5f, 8));
        assertMessage("maxNewTokens", () -> ActorConfig.defaults("a").withSampling(4, 1f, 1f, 0));
        assertMessage("promptsPerBatch", () -> ActorConfig.defaults("a").withPromptsPerBatch(0));
        assertMessage("device", () -> ActorConfig.defaults("a").withDevice("tpu"));
        assertMessage("topK", () -> ActorConfig.defaults("a").withTopK(-1));
    }

    static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
    }
}
