package org.rollstream.policy.ort;

import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampleRequest;
import org.rollstream.policy.SampledCompletion;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The in-graph sampler on the tiny preset with real ONNX Runtime (CPU), checked against
 * distributions computed independently here in double precision from DJL's logits.
 */
class InGraphSamplerTest {
    static final ModelSpec SPEC = ModelSpec.preset("tiny");
    static final int[] PROMPT = {1, 10, 11, 12, 40};
    static Weights weights;
    static OrtPolicy policy;
    static NDManager manager;
    static DjlPolicy djl;

    @BeforeAll
    static void setUp() {
        weights = ParityTest.randomWeights(SPEC, 9); // peaked but spread distributions (top token about 0.27 after PROMPT)
        policy = OrtPolicy.create(SPEC, weights, Device.CPU);
        manager = NDManager.newBaseManager("PyTorch");
        djl = new DjlPolicy(SPEC, manager, weights);
    }

    @AfterAll
    static void tearDown() {
        policy.close();
        manager.close();
    }

    // ---- reproducibility, stops, greedy -------------------------------------------------------------------

    @Test
    void sameSeedsSameCompletionsOtherSeedsOthers() {
        for (boolean fused : new boolean[]{false, true}) {
            InGraphSampler s = new InGraphSampler(policy, fused);
            List<int[]> prompts = List.of(PROMPT, new int[]{1, 20, 21}, new int[]{1, 30, 31, 32, 33, 34, 35});
            SampleRequest req = SampleRequest.of(prompts, 4, 1f, 0.9f, 0, 1234, 12);
            var a = s.sample(req);
            var b = s.sample(req);
            var c = s.sample(SampleRequest.of(prompts, 4, 1f, 0.9f, 0, 99, 12));
            int differs = 0;
            for (int i = 0; i < prompts.size(); i++) {
                for (int g = 0; g < 4; g++) {
                    SampledCompletion x = a.get(i).get(g), y = b.get(i).get(g);
                    assertArrayEquals(x.tokenIds(), y.tokenIds());
                    assertArrayEquals(x.logProbs(), y.logProbs());
                    assertArrayEquals(x.policyLogProbs(), y.policyLogProbs());
                    assertEquals(12, x.length());
                    if (!Arrays.equals(x.tokenIds(), c.get(i).get(g).tokenIds())) differs++;
                }
            }
            assertTrue(differs >= 10, "other seeds should give other completions, differing rows: " + differs);
            Map<String, Integer> distinct = new HashMap<>();
            for (SampledCompletion x : a.get(0)) distinct.merge(Arrays.toString(x.tokenIds()), 1, Integer::sum);
            assertTrue(distinct.size() > 1, "a group's rows are distinct draws");
            // a row's completion depends on its seed, not on its place or neighbours in the batch
            long[] seeds = req.rowSeeds();
            SampleRequest alone = new SampleRequest(List.of(prompts.get(1)), 1, 1f, 0.9f, 0, new long[]{seeds[6]}, 12, null,
                    SampleRequest.DEFAULT_NUCLEUS_CAP);
            assertArrayEquals(a.get(1).get(2).tokenIds(), s.sample(alone).get(0).get(0).tokenIds());
        }
    }

    @Test
    void plainAndFusedGraphsDrawTheSameTokens() {
        List<int[]> prompts = List.of(PROMPT, new int[]{1, 20, 21});
        for (SampleRequest req : List.of(SampleRequest.of(prompts, 3, 1f, 1f, 0, 5, 20),
                SampleRequest.of(prompts, 3, 0.7f, 1f, 0, 6, 20), SampleRequest.of(prompts, 3, 1.3f, 0.8f, 7, 7, 20))) {
            var plain = new InGraphSampler(policy, false).sample(req);
            var fused = new InGraphSampler(policy, true).sample(req);
            for (int i = 0; i < prompts.size(); i++) {
                for (int g = 0; g < 3; g++) {
                    SampledCompletion x = plain.get(i).get(g), y = fused.get(i).get(g);
                    assertArrayEquals(x.tokenIds(), y.tokenIds());
                    for (int k = 0; k < x.length(); k++) {
                        assertEquals(x.logProbs()[k], y.logProbs()[k], 1e-4);
                        assertEquals(x.policyLogProbs()[k], y.policyLogProbs()[k], 1e-4);
                    }
                }
            }
        }
    }

    @Test
    void stopTokensEndRowsAndAFinishedBatchStops() {
        for (boolean fused : new boolean[]{false, true}) {
            InGraphSampler s = new InGraphSampler(policy, fused);
            SampleRequest free = SampleRequest.of(List.of(PROMPT), 64, 1f, 1f, 0, 77, 30);
            var open = s.sample(free).get(0);
            // the most frequent token of the free run becomes a stop token
            int[] counts = new int[SPEC.vocabSize()];
            for (SampledCompletion x : open) for (int t : x.tokenIds()) counts[t]++;
            int stop = 0;
            for (int t = 1; t < counts.length; t++) if (counts[t] > counts[stop]) stop = t;
            var cut = s.sample(new SampleRequest(free.prompts(), 64, 1f, 1f, 0, free.rowSeeds(), 30, new int[]{stop, 2}, 0)).get(0);
            int stopped = 0, full = 0;
            for (int g = 0; g < 64; g++) {
                int[] o = open.get(g).tokenIds();
                SampledCompletion c = cut.get(g);
                int first = 0;
                while (first < o.length && o[first] != stop && o[first] != 2) first++;
                if (first < o.length) { // same uniforms: the row is the free row cut at its first stop token
                    assertEquals(FinishReason.STOP, c.finishReason());
                    assertArrayEquals(Arrays.copyOf(o, first + 1), c.tokenIds());
                    stopped++;
                } else {
                    assertEquals(FinishReason.LENGTH, c.finishReason());
                    assertArrayEquals(o, c.tokenIds());
                    full++;
                }
                assertEquals(c.length(), c.logProbs().length);
                assertEquals(c.length(), c.policyLogProbs().length);
            }
            assertTrue(stopped > 0, "some rows drew the stop token");
            // every token a stop token: every row ends at its first token, and the Loop ends after its first pass
            int[] all = new int[SPEC.vocabSize()];
            for (int t = 0; t < all.length; t++) all[t] = t;
            for (var g : s.sample(SampleRequest.of(List.of(PROMPT), 8, 1f, 1f, 0, 3, 30, all))) {
                for (SampledCompletion c : g) {
                    assertEquals(1, c.length());
                    assertEquals(FinishReason.STOP, c.finishReason());
                }
            }
        }
    }

    @Test
    void zeroTemperatureIsGreedyWithBehaviourLogProbZero() {
        List<int[]> prompts = List.of(PROMPT, new int[]{1, 20, 21});
        var greedy = new OrtLoopGenerator(policy, null, false).generate(prompts, 2, 9, new int[]{-1});
        for (boolean fused : new boolean[]{false, true}) {
            var out = new InGraphSampler(policy, fused).sample(SampleRequest.of(prompts, 2, 0f, 0.5f, 3, 1, 9));
            for (int i = 0; i < prompts.size(); i++) {
                for (int g = 0; g < 2; g++) {
                    SampledCompletion c = out.get(i).get(g);
                    assertArrayEquals(greedy.get(i).get(g).tokenIds(), c.tokenIds());
                    for (int k = 0; k < c.length(); k++) {
                        assertEquals(0f, c.logProbs()[k]);
                        assertEquals(greedy.get(i).get(g).policyLogProbs()[k], c.policyLogProbs()[k], 1e-4);
                    }
                }
            }
        }
        // one new token (the Loop still runs once; its surplus is dropped)
        var one = new InGraphSampler(policy, true).sample(SampleRequest.of(prompts, 2, 0f, 1f, 0, 1, 1));
        assertArrayEquals(new int[]{greedy.get(1).get(0).tokenIds()[0]}, one.get(1).get(0).tokenIds());
    }

    @Test
    void requestsOutsideTheContractAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(PROMPT), 1, -1f, 1f, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(PROMPT), 1, 1f, 0f, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(PROMPT), 1, 1f, 1.5f, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(PROMPT), 1, 1f, 1f, -1, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(PROMPT), 0, 1f, 1f, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> SampleRequest.of(List.of(new int[0]), 1, 1f, 1f, 0, 1, 4));
        assertThrows(IllegalArgumentException.class, () -> new SampleRequest(List.of(PROMPT), 2, 1f, 1f, 0, new long[1], 4, null, 0));
        InGraphSampler s = new InGraphSampler(policy, false);
        assertThrows(IllegalArgumentException.class, () -> s.sample(SampleRequest.of(List.of(new int[]{1, SPEC.vocabSize()}), 1, 1f, 1f, 0, 1, 4)));
        assertThrows(IllegalArgumentException.class, () -> s.sample(SampleRequest.of(List.of(new int[SPEC.contextLength()]), 1, 1f, 1f, 0, 1, 4)));
    }

    // ---- distributions --------------------------------------------------------------------------------------

    @Test
    void fullVocabularyAtTemperatureOne() {
        checkDistribution(1f, 1f, 0, false);
    }

    @Test
    void temperedFullVocabulary() {
        checkDistribution(1.6f, 1f, 0, true);
    }

    @Test
    void nucleusAtLowTemperature() {
        checkDistribution(0.7f, 0.8f, 0, true);
    }

    @Test
    void topKThenNucleus() {
        checkDistribution(1.2f, 0.9f, 12, false);
    }

    @Test
    void nucleusCapCutsOnlyNucleiThatDoNotFitAndCountsThem() {
        int rows = 300, steps = 3, cap = 6;
        float t = 0.6f, topP = 0.75f;
        for (boolean fused : new boolean[]{false, true}) {
            SampleRequest req = SampleRequest.of(List.of(PROMPT), rows, t, topP, 0, 11, steps).withNucleusCap(cap);
            var out = new InGraphSampler(policy, fused).sample(req).get(0);
            var exact = new InGraphSampler(policy, fused).sample(req.withNucleusCap(0)).get(0);
            int limited = 0, expected = 0, fits = 0;
            for (int step = 0; step < steps; step++) {
                List<int[]> prefixes = new ArrayList<>();
                for (SampledCompletion c : out) {
                    int[] p = Arrays.copyOf(PROMPT, PROMPT.length + step);
                    System.arraycopy(c.tokenIds(), 0, p, PROMPT.length, step);
                    prefixes.add(p);
                }
                double[][] nucleus = reference(prefixes, t, topP, 0);
                double[][] q = capped(nucleus, reference(prefixes, t, 1f, cap), cap);
                for (int r = 0; r < rows; r++) {
                    int tok = out.get(r).tokenIds()[step];
                    assertTrue(q[r][tok] > 0, "token outside the capped nucleus");
                    assertEquals(Math.log(q[r][tok]), out.get(r).logProbs()[step], 1e-4);
                    if (Arrays.stream(nucleus[r]).filter(x -> x > 0).count() > cap) {
                        expected++;
                    } else if (step == 0) { // the same distribution and uniforms as without a cap: the same token
                        assertEquals(exact.get(r).tokenIds()[0], tok);
                        assertEquals(exact.get(r).logProbs()[0], out.get(r).logProbs()[0], 1e-5);
                        fits++;
                    }
                }
            }
            for (SampledCompletion c : out) limited += c.nucleusLimitedSteps();
            assertTrue(expected > 0 && expected < rows * steps, "the cap should bind at some steps but not all: " + expected);
            assertEquals(expected, limited, "steps whose nucleus did not fit in the cap");
            for (SampledCompletion c : exact) assertEquals(0, c.nucleusLimitedSteps());
            System.out.printf("nucleus cap %d (fused=%s): cut %d of %d steps; %d first tokens identical to the uncapped draw%n",
                    cap, fused, limited, rows * steps, fits);
        }
    }

    /** Where the exact nucleus holds more than cap tokens, the top-cap distribution instead. */
    private static double[][] capped(double[][] nucleus, double[][] topCap, int cap) {
        double[][] q = new double[nucleus.length][];
        for (int r = 0; r < q.length; r++) q[r] = Arrays.stream(nucleus[r]).filter(x -> x > 0).count() > cap ? topCap[r] : nucleus[r];
        return q;
    }

    /**
     * Draws 4000 completions of one prompt; at the first and the third generated token checks
     * (1) every drawn token lies in the distribution's support, (2) behaviour log-probs equal the
     * independent distribution's, (3) policy log-probs equal DJL's log-softmax, and (4) a Pearson
     * chi-square over token counts against the expected counts (summing each row's own
     * distribution: rows differ in their prefix at the third token) stays below the 0.1% critical
     * value; at the first token also a total-variation bound.
     */
    private void checkDistribution(float temperature, float topP, int topK, boolean fused) {
        int rows = 4000, v = SPEC.vocabSize();
        SampleRequest req = SampleRequest.of(List.of(PROMPT), rows, temperature, topP, topK, 2024, 3);
        List<SampledCompletion> out = new InGraphSampler(policy, fused).sample(req).get(0);
        for (int step : new int[]{0, 2}) {
            List<int[]> prefixes = new ArrayList<>();
            for (SampledCompletion c : out) {
                int[] p = Arrays.copyOf(PROMPT, PROMPT.length + step);
                System.arraycopy(c.tokenIds(), 0, p, PROMPT.length, step);
                prefixes.add(p);
            }
            double[][] raw = logSoftmax(prefixes);
            double[][] q = reference(prefixes, temperature, topP, topK);
            double[] observed = new double[v], expected = new double[v];
            double maxBehaviour = 0, maxPolicy = 0;
            for (int r = 0; r < rows; r++) {
                SampledCompletion c = out.get(r);
                int t = c.tokenIds()[step];
                assertTrue(q[r][t] > 0, "row " + r + " step " + step + " drew token " + t + " outside the support");
                observed[t]++;
                for (int k = 0; k < v; k++) expected[k] += q[r][k];
                maxBehaviour = Math.max(maxBehaviour, Math.abs(Math.log(q[r][t]) - c.logProbs()[step]));
                maxPolicy = Math.max(maxPolicy, Math.abs(raw[r][t] - c.policyLogProbs()[step]));
            }
            double chi2 = 0, pooledO = 0, pooledE = 0;
            int cells = 0;
            for (int k = 0; k < v; k++) {
                if (expected[k] >= 5) {
                    chi2 += (observed[k] - expected[k]) * (observed[k] - expected[k]) / expected[k];
                    cells++;
                } else {
                    pooledO += observed[k];
                    pooledE += expected[k];
                }
            }
            if (pooledE >= 5) {
                chi2 += (pooledO - pooledE) * (pooledO - pooledE) / pooledE;
                cells++;
            } else {
                assertTrue(pooledO <= pooledE + 10, "too many draws of rare tokens: " + pooledO + " against " + pooledE);
            }
            int df = cells - 1;
            assertTrue(df >= 3, "the test needs a spread distribution, cells: " + cells);
            double critical = chiSquareCritical(df, 3.09); // upper 0.1%
            System.out.printf("T=%.2f top-p=%.2f top-k=%d fused=%s step %d: chi-square %.1f over %d df (critical %.1f), "
                    + "max behaviour log-prob error %.2g, max policy log-prob error vs DJL %.2g%n",
                    temperature, topP, topK, fused, step, chi2, df, critical, maxBehaviour, maxPolicy);
            assertTrue(chi2 < critical, String.format("step %d: chi-square %.1f over %d df, critical %.1f", step, chi2, df, critical));
            assertTrue(maxBehaviour < 1e-4, "behaviour log-probs off by " + maxBehaviour);
            assertTrue(maxPolicy < 1e-4, "policy log-probs off DJL by " + maxPolicy);
            if (step == 0) {
                double tv = 0;
                for (int k = 0; k < v; k++) tv += Math.abs(observed[k] / rows - q[0][k]);
                assertTrue(tv / 2 < 0.05, "total variation " + tv / 2);
            }
        }
    }

    /** Wilson-Hilferty approximation of the chi-square quantile at standard normal quantile z. */
    static double chiSquareCritical(int df, double z) {
        double a = 2.0 / (9 * df);
        return df * Math.pow(1 - a + z * Math.sqrt(a), 3);
    }

    /** DJL log-softmax of the next token after each prefix (all of one length), in double. */
    static double[][] logSoftmax(List<int[]> prefixes) {
        int n = prefixes.size(), v = SPEC.vocabSize();
        double[][] out = new double[n][];
        Map<String, double[]> cache = new HashMap<>();
        List<int[]> unique = new ArrayList<>();
        for (int[] p : prefixes) if (cache.putIfAbsent(Arrays.toString(p), new double[0]) == null) unique.add(p);
        int[][] batch = unique.toArray(new int[0][]);
        float[] logits = djl.logits(manager.create(batch)).get(":, -1, :").toFloatArray();
        for (int i = 0; i < batch.length; i++) {
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int k = 0; k < v; k++) max = Math.max(max, logits[i * v + k]);
            for (int k = 0; k < v; k++) s += Math.exp(logits[i * v + k] - max);
            double[] lp = new double[v];
            for (int k = 0; k < v; k++) lp[k] = logits[i * v + k] - max - Math.log(s);
            cache.put(Arrays.toString(batch[i]), lp);
        }
        for (int r = 0; r < n; r++) out[r] = cache.get(Arrays.toString(prefixes.get(r)));
        return out;
    }

    /**
     * The sampling distribution after each prefix, from DJL's logits in double: softmax(logits / T),
     * the topK most probable (0 = all) renormalised, then the nucleus (tokens while the mass before
     * them is below topP) renormalised.
     */
    static double[][] reference(List<int[]> prefixes, float temperature, float topP, int topK) {
        double[][] raw = logSoftmax(prefixes);
        int v = SPEC.vocabSize();
        double[][] q = new double[raw.length][];
        for (int r = 0; r < raw.length; r++) {
            double[] p = new double[v];
            double s = 0;
            for (int k = 0; k < v; k++) s += p[k] = Math.exp(raw[r][k] / temperature);
            Integer[] order = new Integer[v];
            for (int k = 0; k < v; k++) order[k] = k;
            final double[] pp = p;
            Arrays.sort(order, (a, b) -> Double.compare(pp[b], pp[a]));
            int keepK = topK > 0 ? Math.min(topK, v) : v;
            double topMass = 0;
            for (int i = 0; i < keepK; i++) topMass += p[order[i]];
            double before = 0, kept = 0;
            double[] out = new double[v];
            for (int i = 0; i < keepK; i++) {
                double pi = p[order[i]] / topMass;
                if (topP < 1 && before >= topP) break;
                out[order[i]] = pi;
                kept += pi;
                before += pi;
            }
            for (int k = 0; k < v; k++) out[k] /= kept;
            q[r] = out;
        }
        return q;
    }
}
