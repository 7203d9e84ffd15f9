package org.rollstream.policy.ort;

import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Weights;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The in-graph decoding loop produces what the host loop produces. */
class LoopGeneratorTest {
    @Test
    void inGraphLoopMatchesHostLoopGreedy() {
        check(false);
    }

    @Test
    void fusedInGraphLoopMatchesHostLoopGreedy() {
        check(true);
    }

    /** The fused graph decodes several steps per Loop iteration; surplus steps past the context are dropped. */
    @Test
    void fusedLoopMatchesPlainLoopUpToTheContextEnd() {
        ModelSpec spec = SamplerTest.SPEC;
        Weights w = ParityTest.randomWeights(spec, 34);
        try (OrtPolicy p = OrtPolicy.create(spec, w, Device.CPU)) {
            for (int maxNew : new int[]{2, 9, 12, spec.contextLength()}) { // the last is cut to the context
                var plain = new OrtLoopGenerator(p, null, false).generate(SamplerTest.PROMPTS, 1, maxNew, new int[]{-1});
                var fused = new OrtLoopGenerator(p, null, true).generate(SamplerTest.PROMPTS, 1, maxNew, new int[]{-1});
                for (int i = 0; i < plain.size(); i++) {
                    SampledSequence a = plain.get(i).get(0), b = fused.get(i).get(0);
                    assertArrayEquals(a.tokenIds(), b.tokenIds(), "maxNew " + maxNew + " row " + i);
                    for (int k = 0; k < a.length(); k++) {
                        assertEquals(a.policyLogProbs()[k], b.policyLogProbs()[k], 1e-4);
                        assertEquals(0f, b.logProbs()[k], "greedy: the behaviour distribution is a point mass");
                    }
                }
            }
        }
    }

    private static void check(boolean fused) {
        ModelSpec spec = SamplerTest.SPEC;
        Weights w = ParityTest.randomWeights(spec, 33);
        try (OrtPolicy p = OrtPolicy.create(spec, w, Device.CPU)) {
            var host = new OrtSampler(p).sample(SamplerTest.PROMPTS, 2, SamplingParams.of(0f, 9, 1));
            var loop = new OrtLoopGenerator(p, null, fused).generate(SamplerTest.PROMPTS, 2, 9, null);
            for (int i = 0; i < host.size(); i++) {
                for (int g = 0; g < 2; g++) {
                    SampledSequence a = host.get(i).get(g), b = loop.get(i).get(g);
                    assertArrayEquals(a.tokenIds(), b.tokenIds());
                    for (int k = 0; k < a.length(); k++) {
                        assertEquals(a.policyLogProbs()[k], b.policyLogProbs()[k], 1e-4);
                        assertEquals(0f, b.logProbs()[k], "greedy: the behaviour distribution is a point mass");
                    }
                }
            }
            // a stop token cuts the sequence
            int stop = host.get(0).get(0).tokenIds()[2];
            var cut = new OrtLoopGenerator(p, null, fused).generate(List.of(SamplerTest.PROMPTS.get(0)), 1, 9, new int[]{stop});
            SampledSequence c = cut.get(0).get(0);
            assertEquals(FinishReason.STOP, c.finishReason());
            assertEquals(stop, c.tokenIds()[c.length() - 1]);
            assertTrue(c.length() <= 3);
        }
    }
}
