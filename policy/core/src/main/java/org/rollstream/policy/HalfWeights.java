package org.rollstream.policy;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Ordered map of parameter name to a float16 tensor held as little-endian binary16 bytes (row-major),
 * typically read-only views of a safetensors file ({@link SafetensorsFile#halvesOfVerifiedBytes}).
 * What a float16 consumer takes as is, where {@link Weights} would cost a decode to fp32 and an
 * encode back.
 */
public final class HalfWeights {

    /** A float16 tensor: its shape and its {@code 2 · numel} bytes, little-endian, positioned at 0. */
    public record Tensor(long[] shape, ByteBuffer data) {
        public Tensor {
            long n = Weights.Tensor.numel(shape);
            if (data.remaining() != 2 * n) {
                throw new IllegalArgumentException("float16 shape " + java.util.Arrays.toString(shape) + " needs " + 2 * n
                        + " bytes, got " + data.remaining());
            }
        }
    }

    private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();

    public HalfWeights put(String name, long[] shape, ByteBuffer data) {
        tensors.put(name, new Tensor(shape.clone(), data));
        return this;
    }

    public Map<String, Tensor> tensors() {
        return Collections.unmodifiableMap(tensors);
    }

    /** Throws {@link WeightsException} unless names and shapes are exactly those of {@code spec}. */
    public void checkAgainst(ModelSpec spec) {
        Map<String, long[]> have = new LinkedHashMap<>();
        tensors.forEach((name, t) -> have.put(name, t.shape()));
        Weights.checkShapes(have, spec);
    }
}
