package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        assertEquals(SamplerChoice.AUTO, c.sampler());
        assertFalse(c.fp16());
        assertTrue(c.withDevice("cuda").withFp16(true).fp16());
    }

    @Test
    void theSamplerChoiceResolvesPerDevice() {
        ActorConfig c = ActorConfig.defaults("a1");
        assertEquals(SamplerChoice.GRAPH, c.withDevice("cuda:0").effectiveSampler(), "auto on CUDA");
        assertEquals(SamplerChoice.GRAPH, c.effectiveSampler(), "auto on the CPU");
        assertEquals(SamplerChoice.HOST, c.withDevice("cuda:0").withSampler(SamplerChoice.HOST).effectiveSampler(), "an explicit choice stands");
        assertEquals(SamplerChoice.GRAPH, c.withSampler(SamplerChoice.GRAPH).effectiveSampler());
        assertEquals(SamplerChoice.HOST, c.withSampler(SamplerChoice.HOST).effectiveSampler());
        assertEquals(SamplerChoice.GRAPH, SamplerChoice.parse(" Graph "));
        assertEquals("host", SamplerChoice.HOST.toString());
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
        assertMessage("fp16 needs a CUDA device", () -> ActorConfig.defaults("a").withFp16(true));
        assertMessage("sampler must be host, graph or auto, got 'gpu'", () -> SamplerChoice.parse("gpu"));
        assertMessage("sampler", () -> ActorConfig.defaults("a").withSampler(null));
    }

    static void assertMessage(String fragment, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), ex.getMessage());
    }
}
