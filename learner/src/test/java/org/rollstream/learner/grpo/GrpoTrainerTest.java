package org.rollstream.learner.grpo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.DjlPolicy;
import org.rollstream.policy.ModelSpec;

/** GRPO steps move probability towards completions with positive advantage, token by token. */
class GrpoTrainerTest {
    private static final ModelSpec SPEC = new ModelSpec(16, 32, 1, 2, 16, ModelSpec.Positional.LEARNED, 2);

    private static float logProb(DjlPolicy policy, int[] seq, int position) {
        try (NDManager nd = NDManager.newBaseManager()) {
            NDArray tokens = nd.create(seq, new Shape(1, seq.length));
            return policy.tokenLogProbs(tokens).getFloat(0, position - 1);
        }
    }

    @Test
    void positiveAdvantageGainsProbabilityAndNegativeLoses() {
        try (NDManager nd = NDManager.newBaseManager()) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            DjlPolicy reference = new DjlPolicy(SPEC, nd, policy.exportWeights());
            GrpoConfig cfg = new GrpoConfig(1, 0, 0.2, 0.28, 0.01, 2.0, Aggregation.TOKEN_MEAN, true, 1e-2, 0, 1.0, 1);
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, AdamW.standard(nd, 0), cfg, 0);
            int[] prompt = {1, 7, 8};
            int[] good = {5, 9, 2};
            int[] bad = {6, 9, 2};
            int[] goodSeq = {1, 7, 8, 5, 9, 2};
            int[] badSeq = {1, 7, 8, 6, 9, 2};
            float good0 = logProb(policy, goodSeq, 3);
            float bad0 = logProb(policy, badSeq, 3);
            for (int i = 0; i < 10; i++) {
                float[] lpGood = {logProb(policy, goodSeq, 3), logProb(policy, goodSeq, 4), logProb(policy, goodSeq, 5)};
                float[] lpBad = {logProb(policy, badSeq, 3), logProb(policy, badSeq, 4), logProb(policy, badSeq, 5)};
                TrainingGroup g = new TrainingGroup("g" + i, i, prompt, List.of(good, bad), List.of(lpGood, lpBad),
                        new double[] {1, 0}, new double[] {1, -1});
                trainer.step(List.of(g));
            }
            float good1 = logProb(policy, goodSeq, 3);
            float bad1 = logProb(policy, badSeq, 3);
            assertTrue(good1 > good0 + 0.5, "log p(good first token) " + good0 + " -> " + good1);
            assertTrue(bad1 < bad0 - 0.5, "log p(bad first token) " + bad0 + " -> " + bad1);
        }
    }
}
