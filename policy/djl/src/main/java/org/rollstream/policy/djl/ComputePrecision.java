package org.rollstream.policy.djl;

import ai.djl.ndarray.types.DataType;
import java.util.Locale;

/**
 * The number type a {@link DjlPolicy}'s forward computes in. Parameters (the master weights) stay
 * fp32 whatever the setting. With fp16 the forward runs on fp16 copies of them ({@link ComputeWeights})
 * and stays in fp16 throughout, as apex's "O2" mode did: embeddings, residual stream, layer norms
 * (statistics accumulated in fp32 by the engine), attention with an fp16 mask, softmax, GELU and the
 * logits; only the log-softmax over the vocabulary produces fp32 log-probabilities. There is no cast
 * inside the graph: DJL's casts record no gradient, so the copies are the graph's leaves and the
 * trainer moves their gradients onto the masters.
 */
public enum ComputePrecision {
    FP32(DataType.FLOAT32),
    BF16(DataType.BFLOAT16),
    FP16(DataType.FLOAT16);

    private final DataType dataType;

    ComputePrecision(DataType dataType) {
        this.dataType = dataType;
    }

    /** The DJL type forwards compute in. */
    public DataType dataType() {
        return dataType;
    }

    /**
     * Why this precision cannot run on DJL's PyTorch engine, or null when it can. bf16 cannot:
     * DJL's JNI translates only dtype codes 0–8 (fp32, fp64, fp16, uint8, int32, int8, int64, bool,
     * complex64) and aborts the whole JVM ({@code terminate called without an active exception},
     * exit 134) on a cast to bfloat16, so it is refused before any tensor is touched.
     */
    public String unsupportedReason() {
        return this == BF16
                ? "bf16 is not available on DJL's PyTorch engine: its JNI has no bfloat16 type and a cast to it aborts "
                + "the JVM; use fp16 (fp32 master weights, dynamic loss scaling) or fp32"
                : null;
    }

    /** True for bf16 and fp16. */
    public boolean reduced() {
        return this != FP32;
    }

    /** {@code fp32}, {@code bf16} or {@code fp16}, any case. */
    public static ComputePrecision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "fp16", "float16" -> FP16;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "' (known: fp32, bf16, fp16)");
        };
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
