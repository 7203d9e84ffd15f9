package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampleRequest;
import org.rollstream.policy.SampledCompletion;
import org.rollstream.policy.Weights;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Shared sessions fed each version's weights (real ONNX Runtime, CPU, tiny preset): they sample
 * exactly what a version's own session with the weights as initializers samples, for two versions
 * in turn on one session, and they close only when their last user does.
 */
class WeightFedSessionsTest {
    static final ModelSpec SPEC = ModelSpec.preset("tiny");
    static final List<int[]> PROMPTS = List.of(new int[]{1, 10, 11, 12, 40}, new int[]{1, 20, 21});

    @Test
    void fedSessionsSampleWhatEachVersionsOwnSessionSamples() {
        Weights v1 = ParityTest.randomWeights(SPEC, 9), v2 = ParityTest.randomWeights(SPEC, 10);
        SampleRequest req = SampleRequest.of(PROMPTS, 4, 1f, 0.9f, 0, 77, 16);
        for (boolean fused : new boolean[]{false, true}) {
            try (WeightFedSessions fed = new WeightFedSessions(SPEC, Device.CPU, false, 0)) {
                List<List<SampledCompletion>> fed1, fed2, own1, own2;
                ai.onnxruntime.OrtSession first;
                try (OrtPolicy p = OrtPolicy.createWithoutSessions(SPEC, v1, Device.CPU, false, 0, fed)) {
                    fed1 = new InGraphSampler(p, fused).sample(req);
                    first = p.session(variant(fused));
                }
                try (OrtPolicy p = OrtPolicy.createWithoutSessions(SPEC, v2, Device.CPU, false, 0, fed)) {
                    fed2 = new InGraphSampler(p, fused).sample(req);
                    assertSame(first, p.session(variant(fused)), "the second version runs on the first one's session");
                }
                try (OrtPolicy p = OrtPolicy.createWithoutSessions(SPEC, v1, Device.CPU, false, 0)) {
                    own1 = new InGraphSampler(p, fused).sample(req);
                }
                try (OrtPolicy p = OrtPolicy.createWithoutSessions(SPEC, v2, Device.CPU, false, 0)) {
                    own2 = new InGraphSampler(p, fused).sample(req);
                }
                assertSameDraws(own1, fed1, "v1");
                assertSameDraws(own2, fed2, "v2");
                int differ = 0;
                for (int i = 0; i < PROMPTS.size(); i++) {
                    for (int g = 0; g < 4; g++) {
                        if (!Arrays.equals(fed1.get(i).get(g).tokenIds(), fed2.get(i).get(g).tokenIds())) differ++;
                    }
                }
                assertTrue(differ >= 4, "the second version's weights must change the draws (same seeds), rows differing: " + differ);
            }
        }
    }

    @Test
    void sessionsCloseWithTheirLastUserAndRefuseOthers() {
        Weights w = ParityTest.randomWeights(SPEC, 9);
        SampleRequest req = SampleRequest.of(PROMPTS, 2, 1f, 1f, 0, 5, 6);
        WeightFedSessions fed = new WeightFedSessions(SPEC, Device.CPU, false, 0);
        OrtPolicy p = OrtPolicy.createWithoutSessions(SPEC, w, Device.CPU, false, 0, fed);
        fed.close(); // the owner lets go while a policy still samples on it
        fed.close(); // idempotent: does not take the policy's reference
        assertEquals(2, new InGraphSampler(p, true).sample(req).get(0).size());
        p.close();
        assertThrows(IllegalStateException.class, () -> fed.session(OnnxPolicyExporter.Variant.FUSED_SAMPLE));
        assertThrows(IllegalStateException.class, () -> OrtPolicy.createWithoutSessions(SPEC, w, Device.CPU, false, 0, fed));

        try (WeightFedSessions half = new WeightFedSessions(SPEC, Device.CPU, true, 0)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> OrtPolicy.createWithoutSessions(SPEC, w, Device.CPU, false, 0, half));
            assertTrue(e.getMessage().contains("another spec, device or precision"), e.getMessage());
        }
    }

    private static OnnxPolicyExporter.Variant variant(boolean fused) {
        return OnnxPolicyExporter.Variant.sampling(SamplerHead.Mode.NUCLEUS, fused);
    }

    private static void assertSameDraws(List<List<SampledCompletion>> expected, List<List<SampledCompletion>> actual, String what) {
        for (int i = 0; i < expected.size(); i++) {
            for (int g = 0; g < expected.get(i).size(); g++) {
                SampledCompletion x = expected.get(i).get(g), y = actual.get(i).get(g);
                assertArrayEquals(x.tokenIds(), y.tokenIds(), what + " prompt " + i + " row " + g);
                for (int k = 0; k < x.length(); k++) {
                    assertEquals(x.logProbs()[k], y.logProbs()[k], 1e-5, what);
                    assertEquals(x.policyLogProbs()[k], y.policyLogProbs()[k], 1e-5, what);
                }
            }
        }
    }
}
