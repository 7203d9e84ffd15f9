package org.rollstream.policy;

/** IEEE 754 binary16 conversion (Java 17 has no Float.floatToFloat16). Round to nearest even. */
// Internal: shared by the ONNX Runtime samplers in policy-ort; not part of the public API.
public final class Half {
    private Half() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exp = (bits >>> 23) & 0xff;
        int mant = bits & 0x7fffff;
        if (exp == 0xff) { // inf / nan
            return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 : 0));
        }
        int e = exp - 127 + 15;
        if (e >= 0x1f) return (short) (sign | 0x7c00); // overflow -> inf
        if (e <= 0) { // subnormal or zero
            if (e < -10) return (short) sign;
            mant |= 0x800000;
            int shift = 14 - e;
            int half = mant >> shift;
            int rem = mant & ((1 << shift) - 1);
            int mid = 1 << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1) != 0)) half++;
            return (short) (sign | half);
        }
        int half = (e << 10) | (mant >> 13);
        int rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) half++; // may carry into exponent: correct
        return (short) (sign | half);
    }

    public static float toFloat(short h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            float v = mant / 1024f / 16384f; // 2^-14 * mant/1024
            return sign != 0 ? -v : v;
        }
        if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Every binary16 value as a float, indexed by its 16 bits: decoding a large tensor is one lookup per element. */
    private static final class Table {
        static final float[] TO_FLOAT = new float[1 << 16];

        static {
            for (int i = 0; i < TO_FLOAT.length; i++) {
                TO_FLOAT[i] = toFloat((short) i);
            }
        }
    }

    /** Values per parallel block of the bulk conversions: large enough that a block outweighs its scheduling. */
    private static final int BLOCK = 1 << 18;

    /**
     * Decodes {@code n} little-endian binary16 values starting at byte {@code from} of {@code src} into
     * {@code dst}; large tensors are split into blocks decoded in parallel (a weight hand-over decodes
     * hundreds of millions of values while the old version serves).
     */
    public static void toFloats(java.nio.ByteBuffer src, int from, float[] dst, int n) {
        blocks(n, (start, len) -> {
            java.nio.ShortBuffer sb = src.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).position(from + 2 * start).slice()
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN).asShortBuffer();
            float[] table = Table.TO_FLOAT;
            short[] chunk = new short[Math.min(len, 1 << 14)];
            for (int i = 0; i < len; i += chunk.length) {
                int m = Math.min(chunk.length, len - i);
                sb.get(chunk, 0, m);
                for (int k = 0; k < m; k++) {
                    dst[start + i + k] = table[chunk[k] & 0xffff];
                }
            }
        });
    }

    /**
     * Encodes {@code src} as binary16 (round to nearest even) in {@code dst}'s byte order into
     * {@code dst} from byte {@code at}, in parallel blocks as {@link #toFloats}.
     */
    public static void fromFloats(float[] src, java.nio.ByteBuffer dst, int at) {
        blocks(src.length, (start, len) -> {
            java.nio.ShortBuffer sb = dst.duplicate().order(dst.order()).position(at + 2 * start).slice()
                    .order(dst.order()).asShortBuffer();
            short[] chunk = new short[Math.min(len, 1 << 14)];
            for (int i = 0; i < len; i += chunk.length) {
                int m = Math.min(chunk.length, len - i);
                for (int k = 0; k < m; k++) {
                    chunk[k] = fromFloat(src[start + i + k]);
                }
                sb.put(chunk, 0, m);
            }
        });
    }

    private interface Block {
        void run(int start, int len);
    }

    private static void blocks(int n, Block body) {
        if (n <= BLOCK) {
            if (n > 0) body.run(0, n);
            return;
        }
        java.util.stream.IntStream.range(0, (n + BLOCK - 1) / BLOCK).parallel()
                .forEach(b -> body.run(b * BLOCK, Math.min(BLOCK, n - b * BLOCK)));
    }

    static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }
}
