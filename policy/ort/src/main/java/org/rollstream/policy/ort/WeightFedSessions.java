package org.rollstream.policy.ort;

import org.rollstream.policy.ModelSpec;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-graph sampler's sessions built over graphs that take the weights as inputs
 * ({@link OnnxPolicyExporter#exportWithWeightInputs}), shared by every weights version of one spec
 * on one device. A version is then only its tensors
 * ({@link OrtPolicy#createWithoutSessions(ModelSpec, org.rollstream.policy.HalfWeights, Device, int, WeightFedSessions)}),
 * fed to each run: a weight hand-over builds no session (on the H200 the session build was the
 * largest stage of a hand-over), at the price of copying the weights to the device at every run
 * (ONNX Runtime's Java API has no IO binding), which a batch of in-graph decoding amortises.
 *
 * <p>Only the sampling variants are fed; a policy's other graphs (the host loop's STEP, FORWARD)
 * keep their own sessions with the weights as initializers, since they run once per token.
 * Reference counted: the owner holds one reference ({@link #close} drops it) and each
 * {@link OrtPolicy} built on these sessions one while it is open; the sessions close with the last.
 */
public final class WeightFedSessions implements AutoCloseable {
    private static final Map<String, byte[]> GRAPHS = new ConcurrentHashMap<>();

    private final ModelSpec spec;
    private final Device device;
    private final boolean fp16;
    private final int threads;
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final Map<OnnxPolicyExporter.Variant, OrtSession> sessions = new EnumMap<>(OnnxPolicyExporter.Variant.class);
    private int refs = 1; // guarded by this
    private boolean ownerClosed; // guarded by this

    /**
     * @param fp16    float16 graphs (GPU), fed float16 tensors
     * @param threads intra-op threads for CPU (0 = ONNX Runtime's default)
     */
    public WeightFedSessions(ModelSpec spec, Device device, boolean fp16, int threads) {
        this.spec = spec;
        this.device = device;
        this.fp16 = fp16;
        this.threads = threads;
    }

    /** Whether a policy of this spec, device and precision can use these sessions. */
    public boolean serves(ModelSpec spec, Device device, boolean fp16) {
        return this.spec.equals(spec) && this.device.equals(device) && this.fp16 == fp16;
    }

    /** Whether {@code variant}'s graph is fed its weights here (the in-graph sampling ones). */
    static boolean feeds(OnnxPolicyExporter.Variant variant) {
        return variant.samplingMode() != null;
    }

    /** @throws IllegalStateException once the last reference is gone, or ONNX Runtime refused the session */
    synchronized OrtSession session(OnnxPolicyExporter.Variant variant) {
        if (refs == 0) throw new IllegalStateException("weight-fed sessions are closed");
        OrtSession s = sessions.get(variant);
        if (s == null) {
            byte[] graph = GRAPHS.computeIfAbsent(spec.toJson() + "|" + variant + "|" + fp16,
                    k -> OnnxPolicyExporter.exportWithWeightInputs(spec, variant, fp16));
            s = OrtPolicy.newSession(env, graph, device, threads, variant + "-fed", Map.of(), spec);
            sessions.put(variant, s);
        }
        return s;
    }

    /** A policy's reference; false when already closed. */
    synchronized boolean retain() {
        if (refs == 0) return false;
        refs++;
        return true;
    }

    synchronized void release() {
        if (refs == 0) return;
        if (--refs == 0) {
            sessions.values().forEach(OrtPolicy::closeQuietly);
            sessions.clear();
        }
    }

    /** Drops the owner's reference (idempotent); the sessions close once no policy uses them. */
    @Override
    public synchronized void close() {
        if (!ownerClosed) {
            ownerClosed = true;
            release();
        }
    }
}
