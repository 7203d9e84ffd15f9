package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SampledSequence;
import org.rollstream.policy.SamplingParams;
import org.rollstream.policy.Tokenizer;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batched sampling with a KV cache on ONNX Runtime: all prompts x group rows are left-padded,
 * prefilled together, then advanced one token per step. Sampling happens on the host with one
 * random stream per row (seeded from the seed and the row index), so results do not depend on
 * batch composition. Finished rows are dropped from the batch (KV cache compacted) once a quarter
 * of the batch has finished, so they stop costing work.
 *
 * <p>Each token comes with its behaviour log-prob (under the tempered, truncated distribution that
 * drew it) and its raw policy log-prob (temperature 1): see {@link SampledSequence}.
 *
 * <p>Every tensor and session result this class creates is closed on every path, failures
 * included. Calls may run concurrently: each keeps its state to itself.
 */
public final class OrtSampler {
    private final OrtPolicy policy;
    private final Tokenizer tokenizer;

    public OrtSampler(OrtPolicy policy) {
        this(policy, null);
    }

    public OrtSampler(OrtPolicy policy, Tokenizer tokenizer) {
        this.policy = policy;
        this.tokenizer = tokenizer;
    }

    /**
     * Returns, for each prompt in order, its {@code groupSize} completions.
     *
     * @throws IllegalArgumentException when a prompt is empty or leaves no room in the context (a caller's
     *                                  bug: callers check their input first)
     * @throws IllegalStateException    when ONNX Runtime fails, or the policy is closed; nothing leaks
     */
    public List<List<SampledSequence>> sample(List<int[]> prompts, int groupSize, SamplingParams params) {
        if (prompts.isEmpty() || groupSize < 1) throw new IllegalArgumentException("need at least one prompt and groupSize >= 1");
        ModelSpec spec = policy.spec();
        int lp = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new IllegalArgumentException("empty prompt");
            lp = Math.max(lp, p.length);
        }
        if (lp >= spec.contextLength()) {
            throw new IllegalArgumentException("prompt of " + lp + " tokens leaves no room in context " + spec.contextLength());
        }
        int maxNew = Math.min(params.maxNewTokens(), spec.contextLength() - lp);
        int[] stops = params.stopTokenIds().length > 0 || tokenizer == null ? params.stopTokenIds() : new int[]{tokenizer.eos()};
        SamplingRows rows = new SamplingRows(prompts, groupSize, lp, maxNew, stops, params, spec.vocabSize());
        try {
            decode(rows, spec);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime sampling failed: " + e.getMessage(), e);
        }
        return rows.results(tokenizer);
    }

    /** Prefill, then one step per token until every row has finished. */
    private void decode(SamplingRows rows, ModelSpec spec) throws OrtException {
        OrtSession session = policy.session(OnnxPolicyExporter.Variant.STEP);
        OrtSession.Result result = null;
        List<OnnxTensor> ownedCache = new ArrayList<>(); // compacted caches we created and must close
        try {
            result = prefill(session, rows);
            while (true) {
                float[] logits = OrtPolicy.toFloats((OnnxTensor) result.get("last_logits").get());
                if (rows.drawAll(logits) == 0) break;
                // present_* outputs become the next past_* inputs
                Map<String, OnnxTensor> past = new LinkedHashMap<>();
                for (int l = 0; l < spec.layers(); l++) {
                    past.put("past_key_" + l, (OnnxTensor) result.get("present_key_" + l).get());
                    past.put("past_value_" + l, (OnnxTensor) result.get("present_value_" + l).get());
                }
                if (rows.worthCompacting()) { // drop finished rows from the batch and the cache
                    int[] keep = rows.aliveIndices();
                    List<OnnxTensor> fresh = new ArrayList<>();
                    try {
                        for (var e : past.entrySet()) {
                            OnnxTensor t = selectRows(e.getValue(), keep);
                            fresh.add(t);
                            e.setValue(t);
                        }
                    } catch (OrtException | RuntimeException e) {
                        closeAll(fresh);
                        throw e;
                    }
                    rows.keep(keep);
                    result.close();
                    result = null;
                    closeAll(ownedCache);
                    ownedCache = fresh;
                }
                OrtSession.Result next = step(session, past, rows);
                if (result != null) result.close();
                result = next;
                closeAll(ownedCache); // the step consumed them
                ownedCache = new ArrayList<>();
            }
        } finally {
            if (result != null) result.close();
            closeAll(ownedCache);
        }
    }

    private OrtSession.Result prefill(OrtSession session, SamplingRows rows) throws OrtException {
        int n = rows.batch(), lp = rows.cacheLength();
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.prefillIds()), new long[]{n, lp}));
            in.put("position_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.prefillPositions()), new long[]{n, lp}));
            in.put("attention_mask", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.mask()), new long[]{n, lp}));
            in.putAll(policy.emptyCache(n));
            return session.run(in);
        } finally {
            closeAll(in.values());
        }
    }

    private OrtSession.Result step(OrtSession session, Map<String, OnnxTensor> past, SamplingRows rows) throws OrtException {
        rows.advance();
        int b = rows.batch();
        Map<String, OnnxTensor> in = new HashMap<>(past);
        List<OnnxTensor> mine = new ArrayList<>(3);
        try {
            mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.lastTokens()), new long[]{b, 1}));
            mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.stepPositions()), new long[]{b, 1}));
            mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(rows.mask()), new long[]{b, rows.cacheLength()}));
            in.put("input_ids", mine.get(0));
            in.put("position_ids", mine.get(1));
            in.put("attention_mask", mine.get(2));
            return session.run(in);
        } finally {
            closeAll(mine);
        }
    }

    private OnnxTensor selectRows(OnnxTensor t, int[] keep) throws OrtException {
        long[] shape = t.getInfo().getShape();
        int stride = (int) (shape[1] * shape[2] * shape[3]);
        long[] ns = {keep.length, shape[1], shape[2], shape[3]};
        if (t.getInfo().type == OnnxJavaType.FLOAT16) {
            ShortBuffer src = t.getShortBuffer();
            short[] dst = new short[keep.length * stride];
            for (int i = 0; i < keep.length; i++) src.get(keep[i] * stride, dst, i * stride, stride);
            return OnnxTensor.createTensor(policy.env(), ShortBuffer.wrap(dst), ns, OnnxJavaType.FLOAT16);
        }
        FloatBuffer src = t.getFloatBuffer();
        float[] dst = new float[keep.length * stride];
        for (int i = 0; i < keep.length; i++) src.get(keep[i] * stride, dst, i * stride, stride);
        return OnnxTensor.createTensor(policy.env(), FloatBuffer.wrap(dst), ns);
    }

    private static void closeAll(Iterable<? extends OnnxValue> values) {
        for (OnnxValue t : values) t.close();
    }

    /** log-softmax of the raw (temperature-1) logits at {@code tok}. */
    static float logProb(float[] l, int off, int v, int tok) {
        return TokenDraw.logSoftmaxAt(l, off, v, tok);
    }

    static int argmax(float[] l, int off, int v) {
        return TokenDraw.argmax(l, off, v);
    }
}
