package org.rollstream.policy.ort;

import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SamplerTest {
    static final ModelSpec SPEC = new ModelSpec(CharTokenizer.builtin().vocabSize(), 48, 2, 4, 48, ModelSpec.Positional.LEARNED, 4);
    static Weights weights;
    static OrtPolicy policy;
    static final List<int[]> PROMPTS = List.of(new int[]{1, 10, 11, 12}, new int[]{1, 20, 21, 22, 23, 24, 25, 26}, new int[]{1, 30});

    @BeforeAll
    static void setUp() {
        weights = ParityTest.randomWeights(SPEC, 21);
        policy = OrtPolicy.create(SPEC, weights, Device.CPU);
    }

    @AfterAll
    static void tearDown() {
        policy.close();
    }

    @Test
    void sameSeedSameCompletions() {
        OrtSampler s = new OrtSampler(policy, CharTokenizer.builtin());
        SamplingParams p = new SamplingParams(1.0f, 0.9f, 12, new int[]{2}, 1234);
        var a = s.sample(PROMPTS, 4, p);
        var b = s.sample(PROMPTS, 4, p);
        var c = s.sample(PROMPTS, 4, p.withSeed(99));
        assertEquals(3, a.size());
        boolean differs = false;
        for (int i = 0; i < a.size(); i++) {
            assertEquals(4, a.get(i).size());
            for (int g = 0; g < 4; g++) {
                assertArrayEquals(a.get(i).get(g).tokenIds(), b.get(i).get(g).tokenIds());
                assertArrayEquals(a.get(i).get(g).logProbs(), b.get(i).get(g).logProbs());
                assertEquals(a.get(i).get(g).text(), b.get(i).get(g).text());
                differs |= !Arrays.equals(a.get(i).get(g).tokenIds(), c.get(i).get(g).tokenIds());
            }
        }
        assertTrue(differs, "another seed should give other samples");
        // group members are distinct draws, not copies
        assertFalse(Arrays.equals(a.get(0).get(0).tokenIds(), a.get(0).get(1).tokenIds())
                && Arrays.equals(a.get(0).get(1).tokenIds(), a.get(0).get(2).tokenIds()));
        // a prompt's samples do not depend on the other prompts in the batch
        var alone = s.sample(List.of(PROMPTS.get(1)), 4, p.withSeed(1234));
        // row indices differ when alone, so compare against a batch where it is also first
        var first = s.sample(List.of(PROMPTS.get(1), PROMPTS.get(0)), 4, p.withSeed(1234));
        for (int g = 0; g < 4; g++) assertArrayEquals(alone.get(0).get(g).tokenIds(), first.get(0).get(g).tokenIds());
    }

    @Test
    void zeroTemperatureIsGreedyArgmaxDecoding() {
        OrtSampler s = new OrtSampler(policy);
        int n = 10;
        var out = s.sample(PROMPTS, 2, SamplingParams.of(0f, n, 7));
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            DjlPolicy djl = new DjlPolicy(SPEC, m, weights);
            for (int i = 0; i < PROMPTS.size(); i++) {
                int[] seq = PROMPTS.get(i).clone();
                int[] expected = new int[n];
                for (int k = 0; k < n; k++) { // argmax decoding with the DJL model, full recompute
                    NDArray logits = djl.logits(m.create(new int[][]{seq}));
                    float[] last = logits.get("0, -1").toFloatArray();
                    expected[k] = OrtSampler.argmax(last, 0, last.length);
                    seq = Arrays.copyOf(seq, seq.length + 1);
                    seq[seq.length - 1] = expected[k];
                }
                for (SampledSequence sq : out.get(i)) {
                    assertArrayEquals(expected, sq.tokenIds());
                    assertEquals(FinishReason.LENGTH, sq.finishReason());
                }
            }
        }
    }

    @Test
    void stopTokenEndsSequences() {
        OrtSampler s = new OrtSampler(policy);
        int[] greedy = s.sample(List.of(PROMPTS.get(0)), 1, SamplingParams.of(0f, 10, 1)).get(0).get(0).tokenIds();
        int stop = greedy[3];
        int at = 0;
        while (greedy[at] != stop) at++;
        var r = s.sample(List.of(PROMPTS.get(0)), 2, SamplingParams.of(0f, 10, 1, stop)).get(0);
        for (SampledSequence q : r) {
            assertEquals(FinishReason.STOP, q.finishReason());
            assertArrayEquals(Arrays.copyOf(greedy, at + 1), q.tokenIds());
        }
    }

    @Test
    void eosFromTokenizerStopsAndIsKeptOutOfText() {
        // make <eos> the overwhelming choice: final LayerNorm outputs its bias, and wte[eos] aligns with it
        CharTokenizer tok = CharTokenizer.builtin();
        Weights w = new Weights();
        weights.tensors().forEach((k, t) -> w.put(k, t.shape(), t.data().clone()));
        Arrays.fill(w.get("ln_f.weight").data(), 0f);
        float[] bias = w.get("ln_f.bias").data();
        float[] wte = w.get("wte.weight").data();
        for (int j = 0; j < SPEC.width(); j++) wte[tok.eos() * SPEC.width() + j] = 5 * bias[j];
        try (OrtPolicy p = OrtPolicy.create(SPEC, w, Device.CPU)) {
            var out = new OrtSampler(p, tok).sample(PROMPTS, 3, new SamplingParams(1f, 1f, 8, null, 5));
            for (var g : out) for (SampledSequence q : g) {
                assertEquals(FinishReason.STOP, q.finishReason());
                assertArrayEquals(new int[]{tok.eos()}, q.tokenIds());
                assertEquals("", q.text());
            }
        }
    }

    @Test
    void samplerLogProbsMatchDjlLogProbs() {
        OrtSampler s = new OrtSampler(policy);
        SamplingParams p = new SamplingParams(1f, 1f, 15, new int[]{2, 5}, 42);
        var out = s.sample(PROMPTS, 3, p);
        double maxDiff = 0, maxBehaviourGap = 0;
        int checked = 0;
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            DjlPolicy djl = new DjlPolicy(SPEC, m, weights);
            for (int i = 0; i < PROMPTS.size(); i++) {
                int[] prompt = PROMPTS.get(i);
                for (SampledSequence q : out.get(i)) {
                    float[] lp = djl.tokenLogProbs(m.create(new int[][]{concat(prompt, q.tokenIds())})).toFloatArray();
                    for (int k = 0; k < q.length(); k++) {
                        maxDiff = Math.max(maxDiff, Math.abs(lp[prompt.length - 1 + k] - q.policyLogProbs()[k]));
                        // temperature 1, no cut: the behaviour distribution is the policy itself
                        maxBehaviourGap = Math.max(maxBehaviourGap, Math.abs(q.logProbs()[k] - q.policyLogProbs()[k]));
                        checked++;
                    }
                }
            }
        }
        System.out.println("sampler vs DJL log-probs: max diff " + maxDiff + " over " + checked + " tokens");
        assertTrue(checked > 20);
        assertTrue(maxDiff < 1e-4, "max diff " + maxDiff);
        assertTrue(maxBehaviourGap < 1e-5, "behaviour vs policy at T=1: " + maxBehaviourGap);
    }

    /**
     * Behaviour log-probs are those of the distribution that drew each token: log-softmax(logits / T)
     * cut to top-k and the top-p nucleus and renormalised, recomputed here from DJL's logits; the raw
     * policy log-probs are DJL's at temperature 1. Both settings are far enough from T=1, top-p=1 that
     * recording the raw log-probs as behaviour would fail.
     */
    @Test
    void behaviourLogProbsAreThoseOfTheTemperedTruncatedDistribution() {
        OrtSampler s = new OrtSampler(policy);
        SamplingParams[] settings = {
                new SamplingParams(0.7f, 0.8f, 14, new int[]{2}, 17),
                new SamplingParams(1.6f, 0.95f, 14, new int[]{2}, 18).withTopK(6),
        };
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            DjlPolicy djl = new DjlPolicy(SPEC, m, weights);
            for (SamplingParams p : settings) {
                var out = s.sample(PROMPTS, 4, p);
                double maxBehaviour = 0, maxRaw = 0, maxGap = 0;
                int checked = 0, boundary = 0;
                for (int i = 0; i < PROMPTS.size(); i++) {
                    int[] prompt = PROMPTS.get(i);
                    for (SampledSequence q : out.get(i)) {
                        float[] logits = djl.logits(m.create(new int[][]{concat(prompt, q.tokenIds())})).toFloatArray();
                        int v = SPEC.vocabSize();
                        for (int k = 0; k < q.length(); k++) {
                            int at = prompt.length - 1 + k;
                            float[] row = Arrays.copyOfRange(logits, at * v, (at + 1) * v);
                            int tok = q.tokenIds()[k];
                            double[] expected = expectedLogProbs(row, tok, p);
                            if (expected == null) { // a near-tie at the nucleus edge: ORT and DJL may round it differently
                                boundary++;
                                continue;
                            }
                            assertTrue(Double.isFinite(expected[0]), "token " + tok + " lies outside the top-k/top-p set at " + p);
                            maxBehaviour = Math.max(maxBehaviour, Math.abs(expected[0] - q.logProbs()[k]));
                            maxRaw = Math.max(maxRaw, Math.abs(expected[1] - q.policyLogProbs()[k]));
                            maxGap = Math.max(maxGap, Math.abs(q.logProbs()[k] - q.policyLogProbs()[k]));
                            checked++;
                        }
                    }
                }
                System.out.printf("T=%.1f top-p=%.2f top-k=%d: behaviour max diff %.2e, raw max diff %.2e over %d tokens (%d at the edge); max |behaviour - raw| %.3f%n",
                        p.temperature(), p.topP(), p.topK(), maxBehaviour, maxRaw, checked, boundary, maxGap);
                assertTrue(checked > 40, "tokens checked: " + checked);
                assertTrue(boundary <= checked / 20, "edge cases: " + boundary);
                assertTrue(maxBehaviour < 1e-4, "behaviour log-probs off by " + maxBehaviour);
                assertTrue(maxRaw < 1e-4, "raw policy log-probs off by " + maxRaw);
                assertTrue(maxGap > 0.05, "the settings must make behaviour and raw log-probs differ: " + maxGap);
            }
        }
    }

    @Test
    void topKOfOneIsGreedyWithCertainty() {
        OrtSampler s = new OrtSampler(policy);
        var greedy = s.sample(PROMPTS, 1, SamplingParams.of(0f, 8, 3));
        var topOne = s.sample(PROMPTS, 3, new SamplingParams(1.3f, 1f, 8, null, 4, 1));
        for (int i = 0; i < PROMPTS.size(); i++) {
            for (SampledSequence q : topOne.get(i)) {
                assertArrayEquals(greedy.get(i).get(0).tokenIds(), q.tokenIds());
                assertArrayEquals(greedy.get(i).get(0).policyLogProbs(), q.policyLogProbs(), 1e-6f);
                for (float lp : q.logProbs()) assertEquals(0f, lp, 1e-6f, "one token kept: probability 1");
                for (float lp : q.policyLogProbs()) assertTrue(lp < -1e-3, "the raw policy is not that sure: " + lp);
            }
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 1f, 8, null, 1, -1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Float.POSITIVE_INFINITY, 1f, 8, null, 1));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1f, 0f, 8, null, 1));
    }

    @Test
    void aClosedPolicyFailsCleanly() {
        OrtPolicy p = OrtPolicy.create(SPEC, weights, Device.CPU);
        OrtSampler s = new OrtSampler(p);
        assertEquals(1, s.sample(List.of(PROMPTS.get(0)), 1, SamplingParams.of(0f, 2, 1)).size());
        p.close();
        p.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> s.sample(List.of(PROMPTS.get(0)), 1, SamplingParams.of(0f, 2, 1)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    /**
     * {log of the behaviour probability, raw log-prob} of {@code tok}, computed directly: the
     * behaviour is -infinity when {@code tok} is outside the kept set; null when the nucleus edge
     * falls within rounding of a token.
     */
    static double[] expectedLogProbs(float[] logits, int tok, SamplingParams p) {
        int v = logits.length;
        double[] z = new double[v];
        double[] raw = new double[v];
        for (int i = 0; i < v; i++) {
            z[i] = logits[i] / (double) p.temperature();
            raw[i] = logits[i];
        }
        double[] logQ = logSoftmax(z);
        double rawLp = logSoftmax(raw)[tok];
        Integer[] byProb = new Integer[v];
        for (int i = 0; i < v; i++) byProb[i] = i;
        Arrays.sort(byProb, (a, b) -> Double.compare(logQ[b], logQ[a]));
        int k = p.topK() == 0 ? v : Math.min(p.topK(), v);
        double massK = 0;
        for (int i = 0; i < k; i++) massK += Math.exp(logQ[byProb[i]]);
        // a token is kept when the mass strictly before it is short of top-p of the top-k mass
        double before = 0, keptMass = 0;
        boolean kept = false;
        for (int i = 0; i < k; i++) {
            double q = Math.exp(logQ[byProb[i]]);
            double cut = p.topP() * massK;
            if (Math.abs(before - cut) < 1e-5 && p.topP() < 1) return null;
            if (before >= cut && p.topP() < 1) break;
            keptMass += q;
            kept |= byProb[i] == tok;
            before += q;
        }
        return new double[]{kept ? logQ[tok] - Math.log(keptMass) : Double.NEGATIVE_INFINITY, rawLp};
    }

    static double[] logSoftmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double d : x) max = Math.max(max, d);
        double s = 0;
        for (double d : x) s += Math.exp(d - max);
        double lse = max + Math.log(s);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - lse;
        return out;
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
