package org.rollstream.launcher.rm;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDManager;
import org.rollstream.learner.rm.RewardModel;
import org.rollstream.learner.rm.RewardModelShape;
import org.rollstream.learner.rm.RewardModelTrainer;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ort.OnnxRewardModelExporter;
import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.model.OnnxReward;
import org.rollstream.tasks.preference.PreferencePair;
import org.rollstream.tasks.preference.RewardTexts;

/**
 * Trains the reward model on preference pairs (DJL), writes it as ONNX, and checks the export:
 * the scorer's own {@code onnx} reward (ONNX Runtime), configured as {@link #scorerRewards} configures
 * it, must give the DJL model's scores within {@link #TOLERANCE} on held-out texts.
 */
public final class RewardModelBuild {
    /** Largest |ONNX Runtime − DJL| accepted for one score. */
    public static final double TOLERANCE = 1e-4;
    private static final int PARITY_PAIRS = 64;

    /**
     * What was built.
     *
     * @param onnx            the model file
     * @param training        the training figures (its model is closed)
     * @param maxDifference   largest |ORT − DJL| over the checked scores
     * @param scoresChecked   scores compared
     */
    public record Outcome(Path onnx, RewardModelTrainer.Result training, double maxDifference, int scoresChecked) {
    }

    private RewardModelBuild() {
    }

    /**
     * @throws IllegalStateException when the ONNX model's scores differ from DJL's by more than {@link #TOLERANCE}
     */
    public static Outcome run(List<PreferencePair> pairs, RewardModelTrainer.Settings settings, Path out, PrintStream progress) {
        RewardModelTrainer trainer = new RewardModelTrainer(settings);
        try (NDManager manager = NDManager.newBaseManager()) {
            RewardModelTrainer.Result r = trainer.train(manager, RewardModelShape.small(CharTokenizer.builtin().vocabSize()), pairs, progress);
            try (RewardModel model = r.model()) {
                OnnxRewardModelExporter.write(model.exportWeights(), out);
                List<PreferencePair> sample = new ArrayList<>();
                for (PreferencePair p : pairs) {
                    if (RewardModelTrainer.heldOut(p.prompt(), settings.seed(), settings.heldOutShare()) && sample.size() < PARITY_PAIRS) {
                        sample.add(p);
                    }
                }
                if (sample.isEmpty()) {
                    sample.addAll(pairs.subList(0, Math.min(PARITY_PAIRS, pairs.size())));
                }
                double[] diff = parity(trainer, model, out, sample);
                if (diff[0] > TOLERANCE) {
                    throw new IllegalStateException("the ONNX export of the reward model disagrees with DJL: max |difference| "
                            + diff[0] + " > " + TOLERANCE + " over " + (int) diff[1] + " scores");
                }
                return new Outcome(out, r, diff[0], (int) diff[1]);
            }
        }
    }

    /** The scorer's reward configuration for a reward model at {@code onnx}: helpfulness on the answer, harmlessness on the whole response. */
    public static Map<String, String> scorerOptions(Path onnx, int head) {
        return head == RewardModel.HELPFULNESS
                ? Map.of("path", onnx.toAbsolutePath().toString(), "tokenizer", "char", "label", "0", "text", "prompt+answer")
                : Map.of("path", onnx.toAbsolutePath().toString(), "tokenizer", "char", "label", "1", "text", "prompt+completion");
    }

    /**
     * Reward configuration text (for {@code --rewards}) scoring general prompts with the reward model
     * ({@link #modelRewards}) and every other task with {@code accuracy}, plus {@code format} for all.
     */
    public static String scorerRewards(Path onnx, double formatWeight) {
        return "accuracy=1.0,accuracy.tasks=!general,format=" + formatWeight + "," + modelRewards(onnx);
    }

    /**
     * The reward model as two scorer rewards for general prompts, weight 1 each: {@code helpfulness}
     * (head 0, prompt and final answer) and {@code harmlessness} (head 1, prompt and whole response).
     */
    public static String modelRewards(Path onnx) {
        StringBuilder sb = new StringBuilder();
        String[] names = {"helpfulness", "harmlessness"};
        for (int head = 0; head < 2; head++) {
            String n = names[head];
            sb.append(head == 0 ? "" : ",").append(n).append("=1.0,").append(n).append(".type=onnx,").append(n).append(".tasks=general");
            scorerOptions(onnx, head).forEach((k, v) -> sb.append(',').append(n).append('.').append(k).append('=').append(v));
        }
        return sb.toString();
    }

    /** {max |ORT − DJL|, scores compared} over both heads of {@code sample}'s completions. */
    private static double[] parity(RewardModelTrainer trainer, RewardModel model, Path onnx, List<PreferencePair> sample) {
        double max = 0;
        int n = 0;
        for (int head = 0; head < RewardModel.HEADS; head++) {
            try (OnnxReward ort = OnnxReward.create(new ExternalOptions("rm", scorerOptions(onnx, head)))) {
                List<RewardInput> inputs = new ArrayList<>();
                List<int[]> tokens = new ArrayList<>();
                for (PreferencePair p : sample) {
                    for (String completion : List.of(p.chosen(), p.rejected())) {
                        inputs.add(RewardInput.builder().task("preference").prompt(p.prompt()).completion(completion).build());
                        String text = head == RewardModel.HELPFULNESS ? RewardTexts.helpfulness(p.prompt(), completion)
                                : RewardTexts.harmlessness(p.prompt(), completion);
                        tokens.add(trainer.tokens(text));
                    }
                }
                List<ComponentScore> got = ort.scoreGroup(inputs);
                float[][] want = model.score(tokens);
                for (int i = 0; i < inputs.size(); i++) {
                    max = Math.max(max, Math.abs(got.get(i).value() - want[i][head]));
                    n++;
                }
            }
        }
        return new double[]{max, n};
    }
}
