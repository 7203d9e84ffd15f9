package org.rollstream.launcher.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.rollstream.broker.EmbeddedKafka;
import org.rollstream.learner.sft.SftRun;
import org.rollstream.learner.sft.SftTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.WeightSnapshot;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.tasks.ColdStartData;
import org.rollstream.tasks.GeneralTask;
import org.rollstream.tasks.SftExample;
import org.rollstream.tasks.TaskDataset;
import org.rollstream.tasks.TaskRegistry;
import org.rollstream.testsupport.SharedBroker;
import org.rollstream.transport.KafkaSettings;

@ExtendWith(SharedBroker.class)
class AlignmentStageTest {

    @TempDir
    Path dir;

    @Test
    void withoutTheRejectionSftPolicyItNamesTheMissingStage(EmbeddedKafka kafka) {
        StageContext context = new StageContext(dir, KafkaSettings.of(kafka.bootstrapServers()), 1, 0.3, Map.of(), System.out);
        PipelineException e = assertThrows(PipelineException.class, () -> new AlignmentStage().run(context));
        assertTrue(e.getMessage().contains("'rejection-sft'"), e.getMessage());
    }

    // 3-4 minutes of stage plus a 500-step SFT stand-in: too long for the CI suite, where PipelineTest
    // checks the same bar on the real rejection-sft policy. Run with -Drollstream.slowTests=true.
    @Test
    @EnabledIfSystemProperty(named = "rollstream.slowTests", matches = "true",
            disabledReason = "slow (about 5 minutes on 2 cores); PipelineTest covers stage 4 in CI; enable with -Drollstream.slowTests=true")
    void rewardModelScoreRisesWhileReasoningAccuracyHolds(EmbeddedKafka kafka) throws Exception {
        long seed = 5;
        // stand-in for the rejection-sft policy: a short SFT on arithmetic and general traces
        ModelSpec spec = ModelSpec.preset("tiny");
        TaskRegistry tasks = TaskRegistry.defaults();
        List<SftExample> examples = new ColdStartData(seed).generate(List.of(
                TaskDataset.generated(tasks.resolve("arithmetic"), seed, 10_000, 50),
                TaskDataset.generated(tasks.resolve(GeneralTask.NAME), seed, 10_000, 5)), 8000);
        List<SftTrainer.Pair> pairs = new ArrayList<>();
        examples.forEach(x -> pairs.add(new SftTrainer.Pair(x.prompt(), x.completion())));
        SftRun.Result sft = new SftRun(500, 32, 2e-3, seed).train(spec, DjlPolicy.initialWeights(spec, seed), pairs,
                CharTokenizer.builtin(), null);
        Path start = dir.resolve("rejection-sft/policy.safetensors");
        Files.createDirectories(start.getParent());
        WeightSnapshot.write(start, sft.weights(), spec, 0, 0, false);
        new StageResult("rejection-sft", Map.of(StageResult.POLICY, start), Map.of()).save(dir.resolve("rejection-sft"));

        AlignmentStage stage = new AlignmentStage(new AlignmentStage.Settings("arithmetic", 1500, 150, 16, 8, 8, 1e-4, 100, 15, 48, 1));
        StageContext context = new StageContext(dir, KafkaSettings.of(kafka.bootstrapServers()), seed, 0.3, Map.of(), System.out);
        StageResult r = stage.run(context);
        System.out.println("alignment metrics: " + r.metrics());

        assertTrue(Files.size(r.artifact(StageResult.REWARD_MODEL)) > 10_000);
        assertEquals(spec, WeightSnapshot.open(r.artifact(StageResult.POLICY)).spec());
        assertTrue(r.metrics().get("rm-accuracy") >= 0.9, "reward model held-out ranking " + r.metrics().get("rm-accuracy"));
        // the policy's expected score (16 sampled completions per held-out general prompt): the greedy one moves
        // only when one of the 15 greedy answers flips
        double before = r.metrics().get(Metrics.RM_SCORE_SAMPLED + ".before");
        double after = r.metrics().get(Metrics.RM_SCORE_SAMPLED);
        assertTrue(after > before, "reward-model score (sampled) " + before + " -> " + after);
        double accBefore = r.metrics().get(Metrics.ACCURACY + ".before");
        double acc = r.metrics().get(Metrics.ACCURACY);
        assertTrue(acc >= accBefore - 0.05, "reasoning accuracy " + accBefore + " -> " + acc);
    }
}
