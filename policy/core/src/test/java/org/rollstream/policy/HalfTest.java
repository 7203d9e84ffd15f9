package org.rollstream.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

class HalfTest {

    /** The bulk conversions split large arrays into parallel blocks; every value must land where the scalar one puts it. */
    @Test
    void bulkConversionsMatchTheScalarOnesAcrossBlockBoundaries() {
        Random r = new Random(7);
        int n = (1 << 18) * 3 + 12_345; // three full blocks and a partial one
        float[] src = new float[n];
        for (int i = 0; i < n; i++) {
            src[i] = switch (i % 5) {
                case 0 -> (float) r.nextGaussian() * 0.02f;
                case 1 -> (float) r.nextGaussian() * 1e4f;
                case 2 -> (float) r.nextGaussian() * 1e-6f; // subnormal halves
                case 3 -> r.nextFloat() < 0.01f ? Float.POSITIVE_INFINITY : 70_000f * r.nextFloat(); // overflow to inf
                default -> -r.nextFloat();
            };
        }
        for (ByteOrder order : new ByteOrder[]{ByteOrder.LITTLE_ENDIAN, ByteOrder.BIG_ENDIAN}) {
            int at = 6;
            ByteBuffer bb = ByteBuffer.allocate(at + 2 * n).order(order);
            Half.fromFloats(src, bb, at);
            for (int i = 0; i < n; i++) {
                assertEquals(Half.fromFloat(src[i]), bb.getShort(at + 2 * i), "value " + i + " in " + order);
            }
        }
        ByteBuffer le = ByteBuffer.allocate(2 + 2 * n).order(ByteOrder.LITTLE_ENDIAN);
        Half.fromFloats(src, le, 2);
        float[] back = new float[n];
        Half.toFloats(le, 2, back, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Half.toFloat(Half.fromFloat(src[i])), back[i], "decoded value " + i);
        }
    }
}
