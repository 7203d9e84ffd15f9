package org.rollstream.learner.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.ColdStart;
import org.rollstream.learner.LearnerConfig;
import org.rollstream.learner.grpo.Aggregation;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.policy.ModelSpec;

class RunSettingsTest {
    @Test
    void readsBackExactlyTheSettingsACheckpointRecorded() {
        GrpoConfig g = GrpoConfig.builder().groupsPerStep(6).maxStaleness(2).clipLow(0.1).clipHigh(0.3).klBeta(1.0 / 3)
                .importanceCap(-1).aggregation(Aggregation.SEQUENCE_MEAN).dynamicSampling(false).learningRate(3.7e-5)
                .weightDecay(0.01).maxGradNorm(0.5).publishEvery(2).miniBatches(3).ppoEpochs(2).build();
        LearnerConfig c = new LearnerConfig(Path.of("runs/x"), "x", "p", ModelSpec.preset("tiny"), "arithmetic", 1,
                ColdStart.none(), g, 10, 5, 5, 5, 16, 1000, null, null);
        assertEquals(g, RunSettings.grpo(c.toString()));
    }

    @Test
    void aConfigurationWithoutGrpoSettingsIsAClearError() {
        assertThrows(ReplayException.class, () -> RunSettings.grpo("LearnerConfig[runDir=x]"));
        assertThrows(ReplayException.class, () -> RunSettings.grpo("GrpoConfig[groupsPerStep=4]"));
    }
}
