package org.rollstream.launcher.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.rollstream.learner.grpo.GrpoConfig;
import org.rollstream.learner.grpo.GrpoTrainer;
import org.rollstream.learner.grpo.TrainingGroup;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.Weights;
import org.rollstream.policy.djl.DjlPolicy;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.ort.OrtPolicy;

/**
 * The CUDA path where a GPU is present: a GRPO learner step on {@code cuda:0} through DJL, and an
 * ONNX Runtime session on {@code cuda:0} whose logits match DJL's. Elsewhere (CI, laptops) every
 * test is skipped, with the reason, before any native library is loaded. On a CUDA host it needs
 * the {@code -Pcuda} build with the torch bundle (PYTORCH_LIBRARY_PATH) and ORT's CUDA natives
 * ({@code -Donnxruntime.native.path}); see learner/README.md "On the H200".
 */
class CudaTest {
    private static final ModelSpec SPEC = ModelSpec.preset("tiny");

    @BeforeEach
    void needsAnNvidiaDevice() {
        assumeTrue(Files.exists(Path.of("/dev/nvidiactl")) || Files.exists(Path.of("/dev/nvidia0")),
                "no NVIDIA device node (/dev/nvidiactl): no CUDA GPU on this machine, CUDA tests skipped");
    }

    private static void assumeDjlSeesTheGpu() {
        assumeTrue(Engine.getInstance().getGpuCount() > 0, "DJL's PyTorch engine sees no GPU (loaded: "
                + Engine.getInstance().getVersion() + "); build with -Pcuda and set PYTORCH_LIBRARY_PATH to the torch bundle");
    }

    /** A group whose first completion has advantage +1 and the rest −1, behaviour = the policy's own log-probs. */
    private static TrainingGroup group(DjlPolicy policy, NDManager nd, int[] prompt, List<int[]> completions, int id) {
        List<float[]> behaviour = new ArrayList<>();
        for (int[] c : completions) {
            behaviour.add(completionLogProbs(policy, nd, prompt, c));
        }
        double[] adv = new double[completions.size()];
        double[] rewards = new double[completions.size()];
        for (int i = 0; i < adv.length; i++) {
            adv[i] = i == 0 ? 1 : -1.0 / (adv.length - 1);
            rewards[i] = i == 0 ? 1 : 0;
        }
        return new TrainingGroup("g" + id, 0, prompt, completions, behaviour, rewards, adv);
    }

    private static float[] completionLogProbs(DjlPolicy policy, NDManager nd, int[] prompt, int[] completion) {
        int[] s = new int[prompt.length + completion.length];
        System.arraycopy(prompt, 0, s, 0, prompt.length);
        System.arraycopy(completion, 0, s, prompt.length, completion.length);
        try (NDManager sub = nd.newSubManager()) {
            float[] all = policy.tokenLogProbs(sub.create(s, new Shape(1, s.length))).toFloatArray();
            float[] out = new float[completion.length];
            System.arraycopy(all, prompt.length - 1, out, 0, completion.length);
            return out;
        }
    }

    private static float sum(float[] a) {
        float s = 0;
        for (float v : a) s += v;
        return s;
    }

    @Test
    void grpoStepsOnTheGpuRaiseThePositiveCompletion() {
        assumeDjlSeesTheGpu();
        try (NDManager nd = NDManager.newBaseManager(ai.djl.Device.gpu(0))) {
            DjlPolicy policy = new DjlPolicy(SPEC, nd, 3);
            DjlPolicy reference = new DjlPolicy(SPEC, nd, policy.exportWeights());
            NDArray first = policy.block().getParameters().valueAt(0).getArray();
            assertTrue(first.getDevice().isGpu(), "parameters live on " + first.getDevice());

            GrpoConfig cfg = GrpoConfig.builder().groupsPerStep(2).maxStaleness(0).learningRate(1e-3).build();
            GrpoTrainer trainer = new GrpoTrainer(policy, reference, AdamW.standard(nd, 0), cfg, 0);
            int[] prompt = {1, 20, 21, 22};
            List<int[]> completions = List.of(new int[] {30, 31, 32, 2}, new int[] {40, 41, 2}, new int[] {50, 2});
            float before = sum(completionLogProbs(policy, nd, prompt, completions.get(0)));
            GrpoTrainer.StepStats last = null;
            for (int step = 0; step < 5; step++) {
                last = trainer.step(List.of(group(policy, nd, prompt, completions, 2 * step),
                        group(policy, nd, prompt, completions, 2 * step + 1)));
                assertTrue(last.applied() && Double.isFinite(last.loss()), "step " + step + ": " + last);
            }
            float after = sum(completionLogProbs(policy, nd, prompt, completions.get(0)));
            assertTrue(after > before + 0.1, "log p(positive completion) " + before + " -> " + after);
            assertEquals(completions.size() * 2, last.sequences());
        }
    }

    @Test
    void ortSessionOnCudaGivesDjlsLogits() throws Exception {
        assumeTrue(Device.cudaAvailable(), "ONNX Runtime's CUDA execution provider is not loaded; set "
                + "-Donnxruntime.native.path to the CUDA natives (source the gpu bundle's env.sh)");
        Weights weights = DjlPolicy.initialWeights(SPEC, 5);
        int[][] tokens = {{1, 20, 21, 22, 23, 24, 25, 26}, {1, 30, 31, 32, 33, 34, 35, 36}};
        float[][][] ort;
        try (OrtPolicy policy = OrtPolicy.create(SPEC, weights, Device.parse("cuda:0"))) {
            ort = policy.logits(tokens);
        }
        ai.djl.Device djlDevice = Engine.getInstance().getGpuCount() > 0 ? ai.djl.Device.gpu(0) : ai.djl.Device.cpu();
        try (NDManager nd = NDManager.newBaseManager(djlDevice)) {
            DjlPolicy djl = new DjlPolicy(SPEC, nd, weights);
            int[] flat = new int[tokens.length * tokens[0].length];
            for (int r = 0; r < tokens.length; r++) {
                System.arraycopy(tokens[r], 0, flat, r * tokens[0].length, tokens[0].length);
            }
            float[] expected = djl.logits(nd.create(flat, new Shape(tokens.length, tokens[0].length))).toFloatArray();
            int v = SPEC.vocabSize();
            double maxDiff = 0;
            for (int r = 0; r < tokens.length; r++) {
                for (int t = 0; t < tokens[0].length; t++) {
                    for (int k = 0; k < v; k++) {
                        maxDiff = Math.max(maxDiff, Math.abs(ort[r][t][k] - expected[(r * tokens[0].length + t) * v + k]));
                    }
                }
            }
            assertTrue(maxDiff < 1e-3, "ORT cuda:0 vs DJL " + djlDevice + " logits differ by " + maxDiff);
        }
    }
}
