package org.rollstream.learner.rm;

import java.util.List;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** Token sequences as a right-padded batch: ids (B,T) int64 with pad id 0, and a 0/1 float mask (B,T). */
final class RewardBatch {

    private RewardBatch() {
    }

    static NDList encode(NDManager m, List<int[]> sequences) {
        int longest = 1;
        for (int[] s : sequences) {
            longest = Math.max(longest, s.length);
        }
        long[] ids = new long[sequences.size() * longest];
        float[] mask = new float[ids.length];
        for (int i = 0; i < sequences.size(); i++) {
            int[] s = sequences.get(i);
            if (s.length == 0) {
                throw new IllegalArgumentException("reward model input " + i + " has no tokens");
            }
            for (int j = 0; j < s.length; j++) {
                ids[i * longest + j] = s[j];
                mask[i * longest + j] = 1f;
            }
        }
        Shape shape = new Shape(sequences.size(), longest);
        return new NDList(m.create(ids, shape), m.create(mask, shape));
    }
}
