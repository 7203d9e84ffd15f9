package org.rollstream.learner.rm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.tasks.preference.BuiltinPreferences;
import org.rollstream.tasks.preference.PreferencePair;

class RewardModelTrainerTest {

    @Test
    void learnsTheBuiltInRulesAndRanksHeldOutPairs() {
        List<PreferencePair> pairs = BuiltinPreferences.generate(3000, 7);
        RewardModelTrainer trainer = new RewardModelTrainer(RewardModelTrainer.Settings.defaults(7));
        try (NDManager m = NDManager.newBaseManager()) {
            RewardModelTrainer.Result r = trainer.train(m, RewardModelShape.small(CharTokenizer.builtin().vocabSize()), pairs, System.out);
            System.out.printf("held-out pairs %d, head accuracy %.3f, combined %.3f, by rule %s, %.1f s%n",
                    r.heldOutPairs(), r.heldOutAccuracy(), r.combinedAccuracy(), r.accuracyByRule(), r.seconds());
            assertTrue(r.heldOutPairs() >= 100, "too few held-out pairs: " + r.heldOutPairs());
            assertTrue(r.heldOutAccuracy() >= 0.9, "held-out ranking accuracy " + r.heldOutAccuracy());
            assertTrue(r.combinedAccuracy() >= 0.9, "held-out accuracy of the combined reward " + r.combinedAccuracy());
            assertEquals(4, r.accuracyByRule().size(), "every rule is represented in the held-out pairs: " + r.accuracyByRule());
            r.model().close();
        }
    }

    @Test
    void paddingDoesNotChangeAScore() {
        try (NDManager m = NDManager.newBaseManager();
             RewardModel model = new RewardModel(m, RewardModelShape.small(CharTokenizer.builtin().vocabSize()), 3)) {
            int[] shortText = CharTokenizer.builtin().encode("copy:lamp=<answer>lamp</answer>");
            int[] longText = CharTokenizer.builtin().encode("2+2=<think>2+2=4 and a long thought</think><answer>4</answer>");
            float[] alone = model.score(List.of(shortText))[0];
            float[] padded = model.score(List.of(shortText, longText))[0];
            assertEquals(alone[0], padded[0], 1e-5);
            assertEquals(alone[1], padded[1], 1e-5);
        }
    }
}
