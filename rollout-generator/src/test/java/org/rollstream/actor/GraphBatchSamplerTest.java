package org.rollstream.actor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.OrtPolicy;
import org.rollstream.policy.PromptTokens;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Tokenizer;

/**
 * The actor's in-graph sampler on real ONNX Runtime (tiny random policy, CPU): the batch seed makes
 * batches reproducible, stop tokens (the tokenizer's eos unless given) end completions and are kept
 * out of the text, and the sessions close with the serving version.
 */
@Timeout(120)
class GraphBatchSamplerTest {
    static final Tokenizer TOKENIZER = CharTokenizer.builtin();
    static final ModelSpec SPEC = new ModelSpec(TOKENIZER.vocabSize(), 32, 1, 2, 64, ModelSpec.Positional.LEARNED, 2);
    static final List<int[]> PROMPTS = List.of(PromptTokens.encode(TOKENIZER, "12+7="), PromptTokens.encode(TOKENIZER, "3*4-1="),
            PromptTokens.encode(TOKENIZER, "100/5="));
    static final int G = 4, MAX_NEW = 24;
    static OrtPolicy policy;
    static GraphBatchSampler sampler;

    @BeforeAll
    static void load() {
        policy = OrtPolicy.create(SPEC, DjlPolicy.initialWeights(SPEC, 3), Device.CPU);
        sampler = new GraphBatchSampler(policy, TOKENIZER);
        sampler.prepare(1f, 1f, 0);
    }

    @AfterAll
    static void close() {
        policy.close();
    }

    static SamplingParams params(long seed, int... stops) {
        return new SamplingParams(1f, 1f, MAX_NEW, stops, seed, 0);
    }

    @Test
    void theBatchSeedMakesBatchesReproducible() {
        List<List<SampledSequence>> a = sampler.sample(PROMPTS, G, params(41)).groups();
        List<List<SampledSequence>> b = sampler.sample(PROMPTS, G, params(41)).groups();
        List<List<SampledSequence>> c = sampler.sample(PROMPTS, G, params(42)).groups();
        assertEquals(PROMPTS.size(), a.size());
        boolean differs = false;
        for (int p = 0; p < PROMPTS.size(); p++) {
            assertEquals(G, a.get(p).size());
            for (int g = 0; g < G; g++) {
                SampledSequence x = a.get(p).get(g), y = b.get(p).get(g);
                assertArrayEquals(x.tokenIds(), y.tokenIds());
                assertArrayEquals(x.logProbs(), y.logProbs());
                assertArrayEquals(x.policyLogProbs(), y.policyLogProbs());
                differs |= !Arrays.equals(x.tokenIds(), c.get(p).get(g).tokenIds());
            }
            // rows of one prompt have their own streams
            assertFalse(Arrays.equals(a.get(p).get(0).tokenIds(), a.get(p).get(1).tokenIds()), "two completions of one prompt are alike");
        }
        assertTrue(differs, "another batch seed draws other completions");
    }

    @Test
    void stopTokensEndCompletionsAndStayOutOfTheText() {
        int[] stops = IntStream.range(20, 70).toArray(); // half the vocabulary: most rows stop early
        int stopped = 0;
        for (List<SampledSequence> group : sampler.sample(PROMPTS, G, params(7, stops)).groups()) {
            for (SampledSequence s : group) {
                int n = s.length();
                assertEquals(n, s.logProbs().length);
                for (int k = 0; k < n - 1; k++) assertFalse(contains(stops, s.tokenIds()[k]), "a stop token before the end");
                if (s.finishReason() == FinishReason.STOP) {
                    stopped++;
                    assertTrue(contains(stops, s.tokenIds()[n - 1]));
                    assertEquals(TOKENIZER.decode(Arrays.copyOf(s.tokenIds(), n - 1)), s.text());
                } else {
                    assertEquals(MAX_NEW, n);
                    assertEquals(TOKENIZER.decode(s.tokenIds()), s.text());
                }
                for (int k = 0; k < n; k++) { // temperature 1, no cut: the behaviour distribution is the policy
                    assertEquals(s.policyLogProbs()[k], s.logProbs()[k], 1e-5f);
                    assertTrue(s.logProbs()[k] < 0 && Float.isFinite(s.logProbs()[k]));
                }
            }
        }
        assertTrue(stopped >= PROMPTS.size() * G / 2, "most rows drew one of 50 stop tokens within " + MAX_NEW + ": " + stopped);
    }

    @Test
    void withoutStopTokensTheTokenizersEosStops() {
        int eosStops = 0, lengths = 0;
        for (long seed = 0; seed < 8; seed++) {
            for (List<SampledSequence> group : sampler.sample(PROMPTS, G, params(seed)).groups()) {
                for (SampledSequence s : group) {
                    int[] ids = s.tokenIds();
                    for (int k = 0; k < ids.length - 1; k++) assertFalse(ids[k] == TOKENIZER.eos(), "generation went on past <eos>");
                    if (s.finishReason() == FinishReason.STOP) {
                        eosStops++;
                        assertEquals(TOKENIZER.eos(), ids[ids.length - 1]);
                    } else {
                        lengths++;
                        assertEquals(MAX_NEW, ids.length);
                    }
                }
            }
        }
        assertTrue(eosStops > 0 && lengths > 0, "both endings occurred: " + eosStops + " <eos>, " + lengths + " at the limit");
    }

    @Test
    void theSamplersSessionsCloseWithTheServingVersion() {
        OrtPolicy ort = OrtPolicy.create(SPEC, DjlPolicy.initialWeights(SPEC, 5), Device.CPU);
        GraphBatchSampler graph = new GraphBatchSampler(ort, TOKENIZER);
        graph.prepare(0.7f, 0.9f, 0);
        ServingPolicy serving = new ServingPolicy(new PolicyIdentity("r", 0, 1), ort, graph);
        SamplingParams tempered = new SamplingParams(0.7f, 0.9f, 4, null, 1, 0);
        assertEquals(SamplerChoice.GRAPH, serving.sampler().kind());
        assertEquals(PROMPTS.size(), serving.sampler().sample(PROMPTS, 2, tempered).groups().size());
        serving.release(); // the owner's reference: the last one
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> serving.sampler().sample(PROMPTS, 2, tempered));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }
}
