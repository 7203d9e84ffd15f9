package org.rollstream.policy.ort;

import org.rollstream.policy.FinishReason;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampleRequest;
import org.rollstream.policy.SampledCompletion;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Sampling with the whole decoding loop inside ONNX Runtime: one session {@code run} per batch
 * draws every token on the device (temperature, top-k, top-p, stop tokens), so the KV cache never
 * leaves it. The graphs are the {@code SAMPLE*} / {@code FUSED_SAMPLE*} variants of
 * {@link OnnxPolicyExporter}; fused is the fast one on CUDA (ONNX Runtime's com.microsoft
 * operators, several steps per Loop pass).
 *
 * <p>Randomness: each row's uniform numbers come from its own seed ({@link SampleRequest#rowSeeds()})
 * and are uploaded with the prompts; step t of row r uses the t-th number of r's stream, so the same
 * seed, prompt and weights give the same completion on a device whatever the rest of the batch is
 * (up to the device's arithmetic, which may differ with the batch size). The numbers are multiples
 * of 2^-24 in (0,1), so a token is drawn with its probability to within about 1e-7.
 *
 * <p>Cost: prompts are left-padded to the longest; every row decodes until the whole batch has
 * finished (a stop token in every row) or reached maxNewTokens, then rows are cut at their first
 * stop token. Thread-safe as far as {@link OrtPolicy}'s sessions are (ONNX Runtime sessions are).
 */
public final class InGraphSampler {
    private final OrtPolicy policy;
    private final boolean fused;

    /** Fused graphs on CUDA, plain ones elsewhere. */
    public InGraphSampler(OrtPolicy policy) {
        this(policy, policy.device().isCuda());
    }

    /** @param fused use the FUSED_SAMPLE* graphs (ONNX Runtime's fused operators, also on CPU) */
    public InGraphSampler(OrtPolicy policy, boolean fused) {
        this.policy = policy;
        this.fused = fused;
    }

    /**
     * Creates the session of the graph that requests with these settings use (each sampling mode is
     * one graph, one session of the policy, closed with it), so a first batch does not pay for it.
     *
     * @throws IllegalArgumentException settings outside {@link SampleRequest}'s contract
     * @throws IllegalStateException    ONNX Runtime refused the session, or the policy is closed
     */
    public void prepare(float temperature, float topP, int topK) {
        SampleRequest probe = SampleRequest.of(List.of(new int[]{0}), 1, temperature, topP, topK, 0L, 1);
        policy.session(OnnxPolicyExporter.Variant.sampling(Settings.of(probe, policy.spec().vocabSize()).mode, fused));
    }

    /**
     * Draws the completions.
     *
     * @return for each prompt in order, its {@code groupSize} completions
     * @throws IllegalArgumentException a token id outside the vocabulary, or a prompt that leaves no room in the context
     * @throws IllegalStateException    ONNX Runtime failed (every tensor this call made is closed)
     */
    public List<List<SampledCompletion>> sample(SampleRequest req) {
        ModelSpec spec = policy.spec();
        int vocab = spec.vocabSize(), n = req.rows(), lp = 0;
        for (int[] p : req.prompts()) {
            lp = Math.max(lp, p.length);
            for (int t : p) if (t < 0 || t >= vocab) throw new IllegalArgumentException("token id " + t + " outside the vocabulary of " + vocab);
        }
        if (lp >= spec.contextLength()) throw new IllegalArgumentException("prompt of " + lp + " tokens leaves no room in context " + spec.contextLength());
        int maxNew = Math.min(req.maxNewTokens(), spec.contextLength() - lp);
        int graphSteps = Math.max(2, maxNew); // the Loop must run at least once; a surplus step is dropped
        int unroll = fused ? FusedLoopGraph.UNROLL : 1;
        int drawn = 1 + (graphSteps - 1 + unroll - 1) / unroll * unroll; // steps the graph may take, surplus included

        Settings s = Settings.of(req, vocab);
        OnnxPolicyExporter.Variant variant = OnnxPolicyExporter.Variant.sampling(s.mode, fused);
        long[] ids = new long[n * lp], pos = new long[n * lp], mask = new long[n * lp];
        for (int r = 0; r < n; r++) {
            int[] p = req.prompts().get(r / req.groupSize());
            int pad = lp - p.length;
            for (int j = 0; j < p.length; j++) {
                ids[r * lp + pad + j] = p[j];
                pos[r * lp + pad + j] = j;
                mask[r * lp + pad + j] = 1;
            }
        }
        long[] stops = req.stopTokenIds().length == 0 ? new long[]{-1} : Arrays.stream(req.stopTokenIds()).asLongStream().toArray();
        long[] toks;
        float[] lps, plps, limited;
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(ids), new long[]{n, lp}));
            in.put("position_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(pos), new long[]{n, lp}));
            in.put("attention_mask", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(mask), new long[]{n, lp}));
            in.put("max_new_tokens", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(new long[]{graphSteps}), new long[0]));
            in.put(SamplingLoopGraph.UNIFORMS, OnnxTensor.createTensor(policy.env(), FloatBuffer.wrap(uniforms(req.rowSeeds(), drawn)), new long[]{drawn, n, 1}));
            in.put(SamplingLoopGraph.STOP_IDS, OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(stops), new long[]{stops.length}));
            if (s.mode != SamplerHead.Mode.FULL) in.put(SamplerHead.INV_TEMPERATURE, scalar(s.invTemperature));
            if (s.truncated()) {
                in.put(SamplerHead.TOP_P, scalar(s.topP));
                in.put(SamplerHead.TOP_K, OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(new long[]{s.width}), new long[]{1}));
                in.put(SamplerHead.TOP_K_MASK, OnnxTensor.createTensor(policy.env(), FloatBuffer.wrap(s.rankMask()), new long[]{s.width}));
                in.put(SamplerHead.TOP_K_BLOCKS, OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(new long[]{0, s.width / s.block, s.block}), new long[]{3}));
            }
            if (fused) {
                long[] shape = {2, n, spec.heads(), 0, spec.headDim()};
                for (int l = 0; l < spec.layers(); l++) in.put("past_" + l, policy.emptyTensor(shape));
            } else {
                in.putAll(policy.emptyCache(n));
            }
            Map<String, OnnxTensor> feeds = new HashMap<>(in); // plus this version's weights when the session is shared
            feeds.putAll(policy.weightFeeds(variant));
            try (OrtSession.Result r = policy.session(variant).run(feeds)) {
                LongBuffer lb = ((OnnxTensor) r.get("tokens").get()).getLongBuffer();
                toks = new long[lb.remaining()];
                lb.get(toks);
                lps = OrtPolicy.toFloats((OnnxTensor) r.get("logprobs").get());
                // FULL mode draws at temperature 1 from the whole vocabulary: policy = behaviour, one output
                plps = r.get("policy_logprobs").isPresent() ? OrtPolicy.toFloats((OnnxTensor) r.get("policy_logprobs").get()) : lps;
                limited = r.get("nucleus_limited").isPresent() ? OrtPolicy.toFloats((OnnxTensor) r.get("nucleus_limited").get()) : null;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime sampling failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
        int steps = Math.min(maxNew, toks.length / n); // outputs are (steps, batch, 1)
        boolean countLimited = limited != null;
        List<List<SampledCompletion>> out = new ArrayList<>();
        for (int p = 0; p < req.prompts().size(); p++) {
            List<SampledCompletion> group = new ArrayList<>();
            for (int g = 0; g < req.groupSize(); g++) {
                int r = p * req.groupSize() + g, len = steps, lim = 0;
                FinishReason why = FinishReason.LENGTH;
                for (int k = 0; k < steps; k++) {
                    if (countLimited && limited[k * n + r] > 0.5f) lim++;
                    if (contains(req.stopTokenIds(), (int) toks[k * n + r])) {
                        len = k + 1;
                        why = FinishReason.STOP;
                        break;
                    }
                }
                int[] t = new int[len];
                float[] a = new float[len], b = new float[len];
                for (int k = 0; k < len; k++) {
                    t[k] = (int) toks[k * n + r];
                    a[k] = lps[k * n + r];
                    b[k] = plps[k * n + r];
                }
                group.add(new SampledCompletion(t, a, b, why, lim));
            }
            out.add(group);
        }
        return out;
    }

    private OnnxTensor scalar(float v) throws OrtException {
        return OnnxTensor.createTensor(policy.env(), FloatBuffer.wrap(new float[]{v}), new long[0]);
    }

    private static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }

    /**
     * (steps, rows) uniforms, row-major by step: entry (t, r) is the t-th draw of row r's stream, an
     * odd multiple of 2^-24, so strictly inside (0,1) and exact in float.
     */
    static float[] uniforms(long[] rowSeeds, int steps) {
        int n = rowSeeds.length;
        float[] u = new float[steps * n];
        for (int r = 0; r < n; r++) {
            SplittableRandom rng = new SplittableRandom(rowSeeds[r]);
            for (int t = 0; t < steps; t++) u[t * n + r] = uniform(rng.nextLong());
        }
        return u;
    }

    /** An odd multiple of 2^-24 from the top 23 bits of x. */
    static float uniform(long x) {
        return ((x >>> 41) * 2 + 1) * 0x1p-24f;
    }

    /**
     * How a request maps onto a graph: the mode, and for TOP_K / NUCLEUS the TopK width (a
     * multiple of the block when wider than one block), the real k, the block length.
     */
    record Settings(SamplerHead.Mode mode, float invTemperature, float topP, int k, int width, int block) {
        static Settings of(SampleRequest req, int vocab) {
            if (req.greedy()) return truncated(SamplerHead.Mode.TOP_K, 1f, 2f, 1);
            float inv = 1f / req.temperature();
            float topP = req.topP() < 1f ? req.topP() : 2f; // above 1 = off (rounding could drop the last tokens at exactly 1)
            if (req.topK() > 0) return truncated(SamplerHead.Mode.TOP_K, inv, topP, Math.min(req.topK(), vocab));
            if (req.topP() < 1f) {
                return truncated(SamplerHead.Mode.NUCLEUS, inv, topP, req.nucleusCap() > 0 ? Math.min(req.nucleusCap(), vocab) : vocab);
            }
            return new Settings(Math.abs(req.temperature() - 1f) < 1e-6f ? SamplerHead.Mode.FULL : SamplerHead.Mode.TEMPERED, inv, 2f, 0, 0, 0);
        }

        private static Settings truncated(SamplerHead.Mode mode, float inv, float topP, int k) {
            int c = SamplerHead.BLOCK;
            if (k <= c) return new Settings(mode, inv, topP, k, k, k);
            return new Settings(mode, inv, topP, k, (k + c - 1) / c * c, c);
        }

        boolean truncated() {
            return mode == SamplerHead.Mode.TOP_K || mode == SamplerHead.Mode.NUCLEUS;
        }

        float[] rankMask() {
            float[] m = new float[width];
            Arrays.fill(m, 0, k, 1f);
            return m;
        }
    }
}
