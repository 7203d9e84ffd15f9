package org.rollstream.policy;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Batched sampling with a KV cache on ONNX Runtime: all prompts x group rows are left-padded,
 * prefilled together, then advanced one token per step. Sampling happens on the host with one
 * random stream per row (seeded from the seed and the row index), so results do not depend on
 * batch composition. Finished rows are dropped from the batch (KV cache compacted) once a quarter
 * of the batch has finished, so they stop costing work.
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

    /** Returns, for each prompt in order, its {@code groupSize} completions. */
    public List<List<SampledSequence>> sample(List<int[]> prompts, int groupSize, SamplingParams params) {
        try {
            return run(prompts, groupSize, params);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime sampling failed: " + e.getMessage(), e);
        }
    }

    private List<List<SampledSequence>> run(List<int[]> prompts, int groupSize, SamplingParams params) throws OrtException {
        if (prompts.isEmpty() || groupSize < 1) throw new IllegalArgumentException("need at least one prompt and groupSize >= 1");
        ModelSpec spec = policy.spec();
        int n = prompts.size() * groupSize, v = spec.vocabSize();
        int lp = 0;
        for (int[] p : prompts) {
            if (p.length == 0) throw new IllegalArgumentException("empty prompt");
            lp = Math.max(lp, p.length);
        }
        if (lp >= spec.contextLength()) throw new IllegalArgumentException("prompt of " + lp + " tokens leaves no room in context " + spec.contextLength());
        int maxNew = Math.min(params.maxNewTokens(), spec.contextLength() - lp);
        int[] stops = params.stopTokenIds().length > 0 || tokenizer == null ? params.stopTokenIds() : new int[]{tokenizer.eos()};

        SplittableRandom[] rng = new SplittableRandom[n];
        for (int r = 0; r < n; r++) rng[r] = new SplittableRandom(params.seed() * 0x9E3779B97F4A7C15L + r);
        int[][] outTok = new int[n][maxNew];
        float[][] outLp = new float[n][maxNew];
        int[] count = new int[n];
        FinishReason[] reason = new FinishReason[n];

        // prefill inputs, left padded
        long[] ids = new long[n * lp], pos = new long[n * lp];
        long[][] mask = new long[n][];
        long[] nextPos = new long[n];
        for (int r = 0; r < n; r++) {
            int[] p = prompts.get(r / groupSize);
            int pad = lp - p.length;
            mask[r] = new long[lp];
            for (int j = 0; j < p.length; j++) {
                ids[r * lp + pad + j] = p[j];
                pos[r * lp + pad + j] = j;
                mask[r][pad + j] = 1;
            }
            nextPos[r] = p.length;
        }
        int[] rows = new int[n];
        for (int r = 0; r < n; r++) rows[r] = r;
        OrtSession session = policy.session(OnnxPolicyExporter.Variant.STEP);
        Map<String, OnnxTensor> inputs = new HashMap<>();
        inputs.put("input_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(ids), new long[]{n, lp}));
        inputs.put("position_ids", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(pos), new long[]{n, lp}));
        inputs.put("attention_mask", OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(flatten(mask, rows, lp)), new long[]{n, lp}));
        Map<String, OnnxTensor> cache = policy.emptyCache(n);
        inputs.putAll(cache);
        OrtSession.Result result = session.run(inputs);
        closeAll(inputs.values());
        int cacheLen = lp;
        List<OnnxTensor> ownedCache = new ArrayList<>(); // compacted caches we created and must close
        float[] logits = new float[0];
        try {
            for (int step = 0; ; step++) {
                logits = OrtPolicy.toFloats((OnnxTensor) result.get("last_logits").get());
                int b = rows.length;
                int alive = 0;
                for (int i = 0; i < b; i++) {
                    int r = rows[i];
                    if (reason[r] != null) continue;
                    int tok = pick(logits, i * v, v, params, rng[r]);
                    outTok[r][count[r]] = tok;
                    outLp[r][count[r]] = logProb(logits, i * v, v, tok);
                    count[r]++;
                    if (contains(stops, tok)) reason[r] = FinishReason.STOP;
                    else if (count[r] >= maxNew) reason[r] = FinishReason.LENGTH;
                    else alive++;
                }
                if (alive == 0) break;
                // present_* outputs become the next past_* inputs
                Map<String, OnnxTensor> past = new LinkedHashMap<>();
                for (int l = 0; l < spec.layers(); l++) {
                    past.put("past_key_" + l, (OnnxTensor) result.get("present_key_" + l).get());
                    past.put("past_value_" + l, (OnnxTensor) result.get("present_value_" + l).get());
                }
                if (alive <= b * 3 / 4) { // compact: drop finished rows from the batch and the cache
                    int[] keep = new int[alive];
                    int k = 0;
                    for (int i = 0; i < b; i++) if (reason[rows[i]] == null) keep[k++] = i;
                    List<OnnxTensor> fresh = new ArrayList<>();
                    for (var e : past.entrySet()) {
                        OnnxTensor t = selectRows(e.getValue(), keep);
                        e.setValue(t);
                        fresh.add(t);
                    }
                    int[] nr = new int[alive];
                    for (int i = 0; i < alive; i++) nr[i] = rows[keep[i]];
                    rows = nr;
                    result.close();
                    result = null;
                    closeAll(ownedCache);
                    ownedCache = fresh;
                }
                b = rows.length;
                long[] stepIds = new long[b], stepPos = new long[b];
                for (int i = 0; i < b; i++) {
                    int r = rows[i];
                    stepIds[i] = count[r] > 0 ? outTok[r][count[r] - 1] : 0;
                    stepPos[i] = Math.min(nextPos[r]++, spec.contextLength() - 1);
                    mask[r] = Arrays.copyOf(mask[r], cacheLen + 1);
                    mask[r][cacheLen] = 1;
                }
                cacheLen++;
                Map<String, OnnxTensor> in = new HashMap<>(past);
                List<OnnxTensor> mine = new ArrayList<>();
                mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(stepIds), new long[]{b, 1}));
                mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(stepPos), new long[]{b, 1}));
                mine.add(OnnxTensor.createTensor(policy.env(), LongBuffer.wrap(flatten(mask, rows, cacheLen)), new long[]{b, cacheLen}));
                in.put("input_ids", mine.get(0));
                in.put("position_ids", mine.get(1));
                in.put("attention_mask", mine.get(2));
                OrtSession.Result next = session.run(in);
                closeAll(mine);
                if (result != null) result.close();
                closeAll(ownedCache);
                ownedCache = new ArrayList<>();
                result = next;
            }
        } finally {
            if (result != null) result.close();
            closeAll(ownedCache);
        }
        List<List<SampledSequence>> out = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            List<SampledSequence> group = new ArrayList<>();
            for (int g = 0; g < groupSize; g++) {
                int r = p * groupSize + g;
                int[] toks = Arrays.copyOf(outTok[r], count[r]);
                String text = null;
                if (tokenizer != null) {
                    text = tokenizer.decode(reason[r] == FinishReason.STOP ? Arrays.copyOf(toks, toks.length - 1) : toks);
                }
                group.add(new SampledSequence(toks, text, Arrays.copyOf(outLp[r], count[r]), reason[r]));
            }
            out.add(group);
        }
        return out;
    }

    private static long[] flatten(long[][] mask, int[] rows, int len) {
        long[] m = new long[rows.length * len];
        for (int i = 0; i < rows.length; i++) System.arraycopy(mask[rows[i]], 0, m, i * len, len);
        return m;
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

    private static boolean contains(int[] a, int x) {
        for (int y : a) if (y == x) return true;
        return false;
    }

    /** log-softmax of the raw (temperature-1) logits at {@code tok}. */
    static float logProb(float[] l, int off, int v, int tok) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, l[off + i]);
        double s = 0;
        for (int i = 0; i < v; i++) s += Math.exp(l[off + i] - max);
        return (float) (l[off + tok] - max - Math.log(s));
    }

    static int argmax(float[] l, int off, int v) {
        int best = 0;
        for (int i = 1; i < v; i++) if (l[off + i] > l[off + best]) best = i;
        return best;
    }

    /** Draws a token: greedy, or softmax(logits / T) restricted to the top-p nucleus. */
    static int pick(float[] l, int off, int v, SamplingParams p, SplittableRandom rng) {
        if (p.greedy()) return argmax(l, off, v);
        double inv = 1.0 / p.temperature();
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v; i++) max = Math.max(max, l[off + i] * inv);
        double[] prob = new double[v];
        double s = 0;
        for (int i = 0; i < v; i++) s += prob[i] = Math.exp(l[off + i] * inv - max);
        double u = rng.nextDouble();
        if (p.topP() >= 1f) {
            double acc = 0, target = u * s;
            for (int i = 0; i < v; i++) {
                acc += prob[i];
                if (acc >= target) return i;
            }
            return argmax(l, off, v);
        }
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(prob[b], prob[a]));
        double keepMass = 0, cut = p.topP() * s;
        int k = 0;
        while (k < v && keepMass < cut) keepMass += prob[order[k++]];
        double target = u * keepMass, acc = 0;
        for (int i = 0; i < k; i++) {
            acc += prob[order[i]];
            if (acc >= target) return order[i];
        }
        return order[k - 1];
    }
}
