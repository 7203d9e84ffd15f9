package org.rollstream.policy.ort;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.rollstream.policy.HalfWeights;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.SafetensorsFile;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.Weights;
import org.rollstream.policy.WeightsException;

/** A float16 policy built from a file's float16 bytes as they are computes what one built from the decoded floats does. */
class HalfWeightsTest {
    static final ModelSpec SPEC = ParityTest.SPEC;

    @Test
    void float16PolicyFromTheFilesBytesEqualsTheOneFromDecodedFloats() {
        Weights w = ParityTest.randomWeights(SPEC, 3);
        byte[] file = WeightSnapshot.toBytes(w, SPEC, 1, 1, true);
        HalfWeights halves = SafetensorsFile.halvesOfVerifiedBytes(file, "memory", SPEC);
        Weights floats = SafetensorsFile.fromVerifiedBytes(file, "memory", SPEC).weights();
        // the views hold the file's bits: decoding them gives the floats the float path decodes
        halves.tensors().forEach((name, t) -> {
            float[] want = floats.get(name).data();
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], org.rollstream.policy.Half.toFloat(t.data().getShort(2 * i)), 0f, name + "[" + i + "]");
            }
        });
        Random r = new Random(9);
        int[][] tokens = new int[2][11];
        for (int[] row : tokens) for (int j = 0; j < row.length; j++) row[j] = r.nextInt(SPEC.vocabSize());
        float[][][] fromHalves;
        float[][][] fromFloats;
        try (OrtPolicy a = OrtPolicy.create(SPEC, halves, Device.CPU, 0);
             OrtPolicy b = OrtPolicy.create(SPEC, floats, Device.CPU, true, 0)) {
            assertTrue(a.fp16());
            fromHalves = a.logits(tokens);
            fromFloats = b.logits(tokens);
        }
        for (int i = 0; i < tokens.length; i++) {
            for (int j = 0; j < tokens[i].length; j++) {
                assertArrayEquals(fromFloats[i][j], fromHalves[i][j], 0f, "logits at " + i + "," + j);
            }
        }
    }

    @Test
    void onlyAllFloat16FilesGiveViewsAndTheirShapesAreChecked() {
        Weights w = ParityTest.randomWeights(SPEC, 4);
        assertNull(SafetensorsFile.halvesOfVerifiedBytes(WeightSnapshot.toBytes(w, SPEC, 1, 1, false), "f32", SPEC));
        ModelSpec other = new ModelSpec(SPEC.vocabSize(), SPEC.width(), SPEC.layers() + 1, SPEC.heads(), SPEC.contextLength(),
                SPEC.positional(), SPEC.mlpRatio());
        byte[] file = SafetensorsFile.toBytes(w, Map.of(), true, false); // no spec metadata: the shapes decide
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsFile.halvesOfVerifiedBytes(file, "mine", other));
        assertTrue(e.getMessage().contains("mine") && e.getMessage().contains("missing tensor"), e.getMessage());
    }
}
