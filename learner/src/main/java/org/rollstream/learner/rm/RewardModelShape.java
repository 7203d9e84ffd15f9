package org.rollstream.learner.rm;

import org.rollstream.policy.Weights;

/**
 * Sizes of the reward model ({@link RewardModel}).
 *
 * @param vocab  token ids (the built-in character tokenizer's vocabulary)
 * @param embed  embedding width per token
 * @param window tokens one convolution window sees (a character n-gram)
 * @param hidden convolution channels, pooled by max and by mean
 * @param mlp    width of the layer between the pooled features and the two heads
 */
public record RewardModelShape(int vocab, int embed, int window, int hidden, int mlp) {

    public RewardModelShape {
        if (vocab < 1 || embed < 1 || window < 1 || hidden < 1 || mlp < 1) {
            throw new IllegalArgumentException("reward model sizes must be positive: vocab=" + vocab + " embed=" + embed
                    + " window=" + window + " hidden=" + hidden + " mlp=" + mlp);
        }
    }

    /** The default miniature: 32-wide embeddings, 5-grams, 64 channels, 32 hidden units (about 20k parameters). */
    public static RewardModelShape small(int vocab) {
        return new RewardModelShape(vocab, 32, 5, 64, 32);
    }

    /** The shape a set of reward-model weights was made with. */
    public static RewardModelShape of(Weights w) {
        long[] emb = w.get(RewardModel.EMBED).shape();
        long[] conv = w.get(RewardModel.CONV_W).shape();
        long[] fc = w.get(RewardModel.FC_W).shape();
        return new RewardModelShape((int) emb[0], (int) emb[1], (int) (conv[0] / emb[1]), (int) conv[1], (int) fc[1]);
    }
}
