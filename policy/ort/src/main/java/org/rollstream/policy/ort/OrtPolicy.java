package org.rollstream.policy.ort;

import org.rollstream.policy.Half;
import org.rollstream.policy.HalfWeights;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The policy in ONNX Runtime for one weights version: sessions over the graphs of
 * {@link OnnxPolicyExporter}, with the weights supplied as external initializers. A new weights
 * version is a new {@code OrtPolicy} (the graph bytes are cached per spec). Built on
 * {@link WeightFedSessions}, its in-graph sampling graphs are instead the shared sessions, fed this
 * version's tensors at each run ({@link #weightFeeds}), and only its other graphs get sessions of their own.
 */
public final class OrtPolicy implements AutoCloseable {
    private static final Map<String, byte[]> GRAPHS = new ConcurrentHashMap<>();

    private final ModelSpec spec;
    private final Device device;
    private final boolean fp16;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final Map<String, OnnxTensor> weightTensors = new LinkedHashMap<>();
    private final Map<OnnxPolicyExporter.Variant, OrtSession> sessions = new HashMap<>();
    private final int threads;
    private final WeightFedSessions fed; // null: every graph has a session of its own
    private boolean closed; // guarded by this

    private OrtPolicy(ModelSpec spec, Weights weights, Device device, boolean fp16, int threads, WeightFedSessions fed) {
        this(spec, device, fp16, threads, fed);
        weights.checkAgainst(spec);
        try {
            for (var e : weights.tensors().entrySet()) {
                weightTensors.put(e.getKey(), tensor(e.getValue()));
            }
        } catch (OrtException ex) {
            close();
            throw new IllegalStateException("cannot create weight tensors: " + ex.getMessage(), ex);
        }
    }

    private OrtPolicy(ModelSpec spec, HalfWeights weights, Device device, int threads, WeightFedSessions fed) {
        this(spec, device, true, threads, fed);
        weights.checkAgainst(spec);
        try {
            // ORT takes direct buffers in native order as they are: one allocation for all tensors (many small
            // ones cost more than the copy), each tensor a 64-byte-aligned slice of it, one bulk copy each
            long total = 0;
            for (HalfWeights.Tensor t : weights.tensors().values()) total += align64(t.data().remaining());
            if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("float16 weights of " + total + " bytes exceed one buffer");
            ByteBuffer all = ByteBuffer.allocateDirect((int) total);
            int at = 0;
            for (var e : weights.tensors().entrySet()) {
                ByteBuffer src = e.getValue().data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
                int n = src.remaining();
                ByteBuffer bb = all.slice(at, n).order(ByteOrder.nativeOrder());
                at += align64(n);
                if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                    bb.put(src).flip();
                } else {
                    bb.asShortBuffer().put(src.asShortBuffer());
                }
                weightTensors.put(e.getKey(), OnnxTensor.createTensor(env, bb.asShortBuffer(), e.getValue().shape(), OnnxJavaType.FLOAT16));
            }
        } catch (OrtException ex) {
            close();
            throw new IllegalStateException("cannot create weight tensors: " + ex.getMessage(), ex);
        }
    }

    private static int align64(int n) {
        return (n + 63) & ~63;
    }

    private OrtPolicy(ModelSpec spec, Device device, boolean fp16, int threads, WeightFedSessions fed) {
        if (fed != null && !fed.serves(spec, device, fp16)) {
            throw new IllegalArgumentException("weight-fed sessions of another spec, device or precision than " + spec.toJson() + " on " + device
                    + (fp16 ? " in float16" : ""));
        }
        if (fed != null && !fed.retain()) throw new IllegalStateException("weight-fed sessions are closed");
        this.spec = spec;
        this.device = device;
        this.fp16 = fp16;
        this.threads = threads;
        this.fed = fed;
    }

    /** fp32 policy on {@code device}, default intra-op threads. */
    public static OrtPolicy create(ModelSpec spec, Weights weights, Device device) {
        return create(spec, weights, device, false, 0);
    }

    /**
     * @param fp16    run in float16 (GPU); weights are converted on the way in
     * @param threads intra-op threads for CPU (0 = ORT default)
     */
    public static OrtPolicy create(ModelSpec spec, Weights weights, Device device, boolean fp16, int threads) {
        return withStepSession(new OrtPolicy(spec, weights, device, fp16, threads, null));
    }

    /** {@code p} with its STEP session built, which fails fast (e.g. CUDA missing); closed if that fails. */
    private static OrtPolicy withStepSession(OrtPolicy p) {
        try {
            p.prepareStep();
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /**
     * Like {@link #create(ModelSpec, Weights, Device, boolean, int)} but builds no session yet: for a
     * caller whose first session is not STEP (an in-graph sampler's, created by
     * {@link InGraphSampler#prepare}), which is then the fail-fast check. Saves the STEP session's
     * build and, on a GPU, its copy of the weights.
     */
    public static OrtPolicy createWithoutSessions(ModelSpec spec, Weights weights, Device device, boolean fp16, int threads) {
        return new OrtPolicy(spec, weights, device, fp16, threads, null);
    }

    /**
     * As {@link #createWithoutSessions(ModelSpec, Weights, Device, boolean, int)}, its in-graph sampling
     * on {@code fed}'s shared sessions (built on first use, then reused by every later version).
     *
     * @param fed the shared sessions, or null: every graph gets a session of its own
     * @throws IllegalArgumentException {@code fed} is of another spec, device or precision
     */
    public static OrtPolicy createWithoutSessions(ModelSpec spec, Weights weights, Device device, boolean fp16, int threads,
                                                  WeightFedSessions fed) {
        return new OrtPolicy(spec, weights, device, fp16, threads, fed);
    }

    /**
     * A float16 policy from float16 tensors taken as they are (e.g. views of an F16 safetensors
     * file, {@link org.rollstream.policy.SafetensorsFile#halvesOfVerifiedBytes}), with no session
     * yet, as {@link #createWithoutSessions(ModelSpec, Weights, Device, boolean, int)}: a weight
     * hand-over to a float16 actor then copies the bytes once instead of decoding to fp32 and back.
     */
    public static OrtPolicy createWithoutSessions(ModelSpec spec, HalfWeights weights, Device device, int threads) {
        return new OrtPolicy(spec, weights, device, threads, null);
    }

    /** The float16 counterpart of {@link #createWithoutSessions(ModelSpec, Weights, Device, boolean, int, WeightFedSessions)}. */
    public static OrtPolicy createWithoutSessions(ModelSpec spec, HalfWeights weights, Device device, int threads, WeightFedSessions fed) {
        return new OrtPolicy(spec, weights, device, threads, fed);
    }

    /** {@link #createWithoutSessions(ModelSpec, HalfWeights, Device, int)} with the STEP session built (and checked). */
    public static OrtPolicy create(ModelSpec spec, HalfWeights weights, Device device, int threads) {
        return withStepSession(new OrtPolicy(spec, weights, device, threads, null));
    }

    /**
     * Builds the session of the host loop's STEP graph now, not on first use.
     *
     * @throws IllegalStateException ONNX Runtime refused the session, or the policy is closed
     */
    public void prepareStep() {
        session(OnnxPolicyExporter.Variant.STEP);
    }

    public ModelSpec spec() {
        return spec;
    }

    public Device device() {
        return device;
    }

    public boolean fp16() {
        return fp16;
    }

    OrtEnvironment env() {
        return env;
    }

    private OnnxTensor tensor(Weights.Tensor t) throws OrtException {
        if (!fp16) {
            FloatBuffer fb = ByteBuffer.allocateDirect(t.data().length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            fb.put(t.data()).rewind();
            return OnnxTensor.createTensor(env, fb, t.shape());
        }
        ByteBuffer bb = ByteBuffer.allocateDirect(t.data().length * 2).order(ByteOrder.nativeOrder());
        Half.fromFloats(t.data(), bb, 0);
        return OnnxTensor.createTensor(env, bb.asShortBuffer(), t.shape(), OnnxJavaType.FLOAT16);
    }

    /** @throws IllegalStateException once closed: the weight tensors a new session would use are freed */
    synchronized OrtSession session(OnnxPolicyExporter.Variant variant) {
        if (closed) throw new IllegalStateException("policy is closed");
        if (fed != null && WeightFedSessions.feeds(variant)) return fed.session(variant);
        OrtSession s = sessions.get(variant);
        if (s != null) return s;
        byte[] graph = GRAPHS.computeIfAbsent(spec.toJson() + "|" + variant + "|" + fp16, k -> OnnxPolicyExporter.export(spec, variant, fp16));
        s = newSession(env, graph, device, threads, variant.toString(), new LinkedHashMap<String, OnnxTensorLike>(weightTensors), spec);
        sessions.put(variant, s);
        return s;
    }

    /** What a run of {@code variant}'s session must be fed besides its inputs: this version's weights when the session is shared. */
    synchronized Map<String, OnnxTensor> weightFeeds(OnnxPolicyExporter.Variant variant) {
        if (closed) throw new IllegalStateException("policy is closed");
        return fed != null && WeightFedSessions.feeds(variant) ? java.util.Collections.unmodifiableMap(weightTensors) : Map.of();
    }

    /** A session of {@code graph} on {@code device} at {@link #optLevel()}, with {@code initializers} (external data) supplied. */
    static OrtSession newSession(OrtEnvironment env, byte[] graph, Device device, int threads, String name,
                                 Map<String, OnnxTensorLike> initializers, ModelSpec spec) {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(optLevel());
            String profile = System.getProperty("rollstream.ortProfile"); // file prefix: ORT's per-node profile, for benchmarks
            if (profile != null) opts.enableProfiling(profile + "-" + name);
            if (threads > 0) opts.setIntraOpNumThreads(threads);
            device.configure(opts);
            if (!initializers.isEmpty()) opts.addExternalInitializers(initializers);
            return env.createSession(graph, opts);
        } catch (OrtException e) {
            throw new IllegalStateException("cannot create ONNX Runtime session for " + spec.toJson() + " on " + device + ": " + e.getMessage(), e);
        }
    }

    static void closeQuietly(OrtSession s) {
        try {
            if (System.getProperty("rollstream.ortProfile") != null) s.endProfiling();
            s.close();
        } catch (OrtException ignored) {
            // closing: nothing useful to do
        }
    }

    /**
     * ORT's graph optimisation level: {@code ALL_OPT} unless the system property
     * {@code rollstream.ortOptLevel} ({@code all}, {@code extended}, {@code basic}, {@code none}) says
     * otherwise, for benchmarks weighing a session's build time (paid at every weight hand-over)
     * against its speed.
     */
    static OrtSession.SessionOptions.OptLevel optLevel() {
        String v = System.getProperty("rollstream.ortOptLevel", "all");
        return switch (v.toLowerCase(java.util.Locale.ROOT)) {
            case "all" -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
            case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case "none" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            default -> throw new IllegalArgumentException("rollstream.ortOptLevel must be all, extended, basic or none, got '" + v + "'");
        };
    }

    /**
     * Full-sequence logits (B,T,V) as fp32, for rows of equal length, positions 0..T-1, no cache.
     */
    public float[][][] logits(int[][] tokens) {
        int b = tokens.length, t = tokens[0].length;
        long[] ids = new long[b * t], pos = new long[b * t], mask = new long[b * t];
        for (int i = 0; i < b; i++) {
            if (tokens[i].length != t) throw new IllegalArgumentException("rows must have equal length");
            for (int j = 0; j < t; j++) {
                ids[i * t + j] = tokens[i][j];
                pos[i * t + j] = j;
                mask[i * t + j] = 1;
            }
        }
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(ids), new long[]{b, t}));
            in.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(pos), new long[]{b, t}));
            in.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), new long[]{b, t}));
            in.putAll(emptyCache(b));
            try (OrtSession.Result r = session(OnnxPolicyExporter.Variant.FORWARD).run(in, java.util.Set.of("logits"))) {
                float[] flat = toFloats((OnnxTensor) r.get("logits").get());
                int v = spec.vocabSize();
                float[][][] out = new float[b][t][v];
                for (int i = 0; i < b; i++) for (int j = 0; j < t; j++) System.arraycopy(flat, (i * t + j) * v, out[i][j], 0, v);
                return out;
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime forward failed: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
    }

    /** Zero-length KV cache inputs for a batch of {@code b}; the caller closes them (none leak if this throws). */
    Map<String, OnnxTensor> emptyCache(int b) throws OrtException {
        Map<String, OnnxTensor> m = new LinkedHashMap<>();
        long[] shape = {b, spec.heads(), 0, spec.headDim()};
        try {
            for (int l = 0; l < spec.layers(); l++) {
                m.put("past_key_" + l, emptyTensor(shape));
                m.put("past_value_" + l, emptyTensor(shape));
            }
        } catch (OrtException | RuntimeException e) {
            m.values().forEach(OnnxTensor::close);
            throw e;
        }
        return m;
    }

    OnnxTensor emptyTensor(long[] shape) throws OrtException {
        return fp16 ? OnnxTensor.createTensor(env, ShortBuffer.allocate(0), shape, OnnxJavaType.FLOAT16)
                : OnnxTensor.createTensor(env, FloatBuffer.allocate(0), shape);
    }

    /** Cache tensor from a flat buffer in the session's activation type. */
    OnnxTensor cacheTensor(float[] data, long[] shape) throws OrtException {
        if (!fp16) return OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape);
        short[] h = new short[data.length];
        for (int i = 0; i < h.length; i++) h[i] = Half.fromFloat(data[i]);
        return OnnxTensor.createTensor(env, ShortBuffer.wrap(h), shape, OnnxJavaType.FLOAT16);
    }

    /** Reads a float32 or float16 tensor as float32. */
    static float[] toFloats(OnnxTensor t) {
        if (t.getInfo().type == OnnxJavaType.FLOAT16) {
            ShortBuffer sb = t.getShortBuffer();
            float[] f = new float[sb.remaining()];
            for (int i = 0; i < f.length; i++) f[i] = Half.toFloat(sb.get(i));
            return f;
        }
        FloatBuffer fb = t.getFloatBuffer();
        float[] f = new float[fb.remaining()];
        fb.get(f);
        return f;
    }

    /** Closes the sessions and frees the weights; idempotent. Sampling with a closed policy fails with IllegalStateException. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        sessions.values().forEach(OrtPolicy::closeQuietly);
        sessions.clear();
        weightTensors.values().forEach(OnnxTensor::close);
        weightTensors.clear();
        if (fed != null) fed.release();
    }
}
