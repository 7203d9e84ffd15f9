package org.rollstream.learner.sft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * R1's SFT data mix: reasoning samples plus non-reasoning ("general") ones in a fixed ratio, e.g.
 * 3:1 (about 600k : 200k in DeepSeek-R1). Every reasoning sample is used; general samples are drawn
 * (cycling through the given list in a seeded order) until general : reasoning = 1 : ratio.
 */
public final class SftMixture {
    private SftMixture() {
    }

    /**
     * The mixed, shuffled list.
     *
     * @param reasoning the reasoning pairs, all kept
     * @param general   the pool of general pairs (cycled when fewer than needed)
     * @param ratio     reasoning : general, &gt; 0 (3 means three reasoning samples per general one);
     *                  {@code Double.POSITIVE_INFINITY} adds no general data
     * @throws IllegalArgumentException for a non-positive ratio, or general data needed but none given
     */
    public static List<SftTrainer.Pair> mix(List<SftTrainer.Pair> reasoning, List<SftTrainer.Pair> general, double ratio,
                                            long seed) {
        if (!(ratio > 0)) {
            throw new IllegalArgumentException("reasoning:general ratio must be positive, got " + ratio);
        }
        int generalCount = generalCount(reasoning.size(), ratio);
        if (generalCount > 0 && general.isEmpty()) {
            throw new IllegalArgumentException("the mix needs " + generalCount + " general samples but none were given");
        }
        Random rnd = new Random(seed);
        List<SftTrainer.Pair> pool = new ArrayList<>(general);
        Collections.shuffle(pool, rnd);
        List<SftTrainer.Pair> out = new ArrayList<>(reasoning);
        for (int i = 0; i < generalCount; i++) {
            out.add(pool.get(i % pool.size()));
        }
        Collections.shuffle(out, rnd);
        return out;
    }

    /** General samples that go with {@code reasoning} reasoning ones at {@code ratio}: round(reasoning / ratio). */
    public static int generalCount(int reasoning, double ratio) {
        return Double.isInfinite(ratio) ? 0 : (int) Math.round(reasoning / ratio);
    }
}
