package org.rollstream.learner.rm;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.rollstream.learner.optim.AdamW;
import org.rollstream.learner.optim.GradientClipping;
import org.rollstream.policy.CharTokenizer;
import org.rollstream.tasks.preference.Aspect;
import org.rollstream.tasks.preference.PreferencePair;
import org.rollstream.tasks.preference.RewardTexts;

/**
 * Trains a {@link RewardModel} on preference pairs with the Bradley–Terry loss
 * {@code −log σ(r(chosen) − r(rejected))}, where r is the head of the pair's aspect on that
 * aspect's text ({@link RewardTexts}); a pair of aspect {@code both} trains both heads. A share of
 * the prompts (all their pairs) is held out, and the result reports how often the trained model
 * ranks a held-out pair's chosen side above its rejected side.
 */
public final class RewardModelTrainer {

    /**
     * @param steps        optimizer steps
     * @param batch        pairs per step
     * @param learningRate AdamW learning rate
     * @param seed         initialisation, split and batch order
     * @param heldOutShare share of prompts held out for the accuracy
     * @param maxTokens    longer texts keep their first token and their last {@code maxTokens − 1}, as the scorer does
     */
    public record Settings(int steps, int batch, double learningRate, long seed, double heldOutShare, int maxTokens) {
        public Settings {
            if (steps < 1 || batch < 1 || maxTokens < 2) {
                throw new IllegalArgumentException("steps and batch must be at least 1 and max tokens at least 2");
            }
            if (!(learningRate > 0) || !(heldOutShare > 0 && heldOutShare < 1)) {
                throw new IllegalArgumentException("learning rate must be positive and the held-out share within (0, 1)");
            }
        }

        public static Settings defaults(long seed) {
            return new Settings(300, 64, 3e-3, seed, 0.1, 512);
        }

        public Settings withSteps(int n) {
            return new Settings(n, batch, learningRate, seed, heldOutShare, maxTokens);
        }
    }

    /**
     * What training gave.
     *
     * @param model            the trained model (the caller closes it)
     * @param trainPairs       pairs trained on
     * @param heldOutPairs     pairs held out
     * @param heldOutAccuracy  share of held-out (pair, head) comparisons ranked right by the pair's head
     * @param combinedAccuracy share of held-out pairs ranked right by helpfulness + harmlessness, the sum the scorer gives
     * @param accuracyByRule   held-out head accuracy per rule label ({@code ""} for pairs without one)
     * @param finalLoss        mean loss of the last steps
     * @param seconds          wall time
     */
    public record Result(RewardModel model, int trainPairs, int heldOutPairs, double heldOutAccuracy, double combinedAccuracy,
                         Map<String, Double> accuracyByRule, double finalLoss, double seconds) {
    }

    /** One comparison: head {@code head} should score {@code chosen} above {@code rejected}. */
    private record Comparison(int head, int[] chosen, int[] rejected, String rule) {
    }

    private final Settings settings;
    private final CharTokenizer tokenizer = CharTokenizer.builtin();

    public RewardModelTrainer(Settings settings) {
        this.settings = settings;
    }

    /** True when {@code prompt} falls in the held-out share (a fixed function of the prompt and the seed). */
    public static boolean heldOut(String prompt, long seed, double share) {
        long h = (prompt.hashCode() ^ seed) * 0x9E3779B97F4A7C15L;
        h ^= h >>> 31;
        return Math.floorMod(h, 10_000L) < Math.round(share * 10_000);
    }

    /**
     * Trains a new model of {@code shape} on {@code pairs}; {@code progress} (may be null) gets a line every tenth of the run.
     *
     * @throws IllegalArgumentException when there are fewer than two pairs
     */
    public Result train(NDManager manager, RewardModelShape shape, List<PreferencePair> pairs, PrintStream progress) {
        if (pairs.size() < 2) {
            throw new IllegalArgumentException("reward-model training needs at least 2 preference pairs, got " + pairs.size());
        }
        long start = System.nanoTime();
        List<PreferencePair> train = new ArrayList<>();
        List<PreferencePair> held = new ArrayList<>();
        for (PreferencePair p : pairs) {
            (heldOut(p.prompt(), settings.seed(), settings.heldOutShare()) ? held : train).add(p);
        }
        if (train.isEmpty() || held.isEmpty()) { // few prompts: split by position instead
            train.clear();
            held.clear();
            int every = (int) Math.max(2, Math.round(1 / settings.heldOutShare()));
            for (int i = 0; i < pairs.size(); i++) {
                (i % every == every - 1 ? held : train).add(pairs.get(i));
            }
        }
        List<Comparison> trainComparisons = comparisons(train);
        RewardModel model = new RewardModel(manager, shape, settings.seed());
        AdamW optimizer = AdamW.standard(manager, 0.0);
        Random rnd = new Random(settings.seed());
        List<Comparison> order = new ArrayList<>(trainComparisons);
        int cursor = order.size();
        double lossSum = 0;
        int lossCount = 0;
        int every = Math.max(1, settings.steps() / 10);
        for (int step = 1; step <= settings.steps(); step++) {
            List<Comparison> batch = new ArrayList<>(settings.batch());
            while (batch.size() < Math.min(settings.batch(), trainComparisons.size())) {
                if (cursor >= order.size()) {
                    Collections.shuffle(order, rnd);
                    cursor = 0;
                }
                batch.add(order.get(cursor++));
            }
            float loss = step(model, optimizer, batch);
            lossSum += loss;
            lossCount++;
            if (progress != null && (step % every == 0 || step == settings.steps())) {
                progress.printf(Locale.ROOT, "reward model  step %4d/%-4d  loss %.4f%n", step, settings.steps(), lossSum / lossCount);
                progress.flush();
            }
            if (step % every == 0 && step != settings.steps()) {
                lossSum = 0;
                lossCount = 0;
            }
        }
        List<Comparison> heldComparisons = comparisons(held);
        Map<String, int[]> byRule = new TreeMap<>();
        int right = 0;
        for (Comparison c : heldComparisons) {
            float[][] s = model.score(List.of(c.chosen(), c.rejected()));
            boolean ok = s[0][c.head()] > s[1][c.head()];
            right += ok ? 1 : 0;
            int[] tally = byRule.computeIfAbsent(c.rule(), k -> new int[2]);
            tally[0] += ok ? 1 : 0;
            tally[1]++;
        }
        int combinedRight = 0;
        for (PreferencePair p : held) {
            combinedRight += combined(model, p.prompt(), p.chosen()) > combined(model, p.prompt(), p.rejected()) ? 1 : 0;
        }
        Map<String, Double> accuracyByRule = new LinkedHashMap<>();
        byRule.forEach((rule, t) -> accuracyByRule.put(rule, t[0] / (double) t[1]));
        return new Result(model, train.size(), held.size(), right / (double) heldComparisons.size(),
                combinedRight / (double) held.size(), accuracyByRule, lossCount == 0 ? Double.NaN : lossSum / lossCount,
                (System.nanoTime() - start) / 1e9);
    }

    /** helpfulness(prompt + answer) + harmlessness(prompt + completion): the reward the scorer gives a completion. */
    public double combined(RewardModel model, String prompt, String completion) {
        float[][] s = model.score(List.of(tokens(RewardTexts.helpfulness(prompt, completion)),
                tokens(RewardTexts.harmlessness(prompt, completion))));
        return s[0][RewardModel.HELPFULNESS] + s[1][RewardModel.HARMLESSNESS];
    }

    /** The ids the model reads for {@code text}, truncated as the scorer truncates. */
    public int[] tokens(String text) {
        int[] ids = tokenizer.encode(text);
        if (ids.length == 0) {
            return new int[]{tokenizer.pad()};
        }
        if (ids.length <= settings.maxTokens()) {
            return ids;
        }
        int[] out = new int[settings.maxTokens()];
        out[0] = ids[0];
        System.arraycopy(ids, ids.length - (settings.maxTokens() - 1), out, 1, settings.maxTokens() - 1);
        return out;
    }

    private List<Comparison> comparisons(List<PreferencePair> pairs) {
        List<Comparison> out = new ArrayList<>();
        for (PreferencePair p : pairs) {
            for (Aspect a : p.aspect() == Aspect.BOTH ? List.of(Aspect.HELPFULNESS, Aspect.HARMLESSNESS) : List.of(p.aspect())) {
                int head = a == Aspect.HELPFULNESS ? RewardModel.HELPFULNESS : RewardModel.HARMLESSNESS;
                out.add(new Comparison(head, tokens(RewardTexts.of(a, p.prompt(), p.chosen())),
                        tokens(RewardTexts.of(a, p.prompt(), p.rejected())), p.rule()));
            }
        }
        return out;
    }

    /** One AdamW step on the mean Bradley–Terry loss of {@code batch}; returns the loss. */
    private float step(RewardModel model, AdamW optimizer, List<Comparison> batch) {
        int n = batch.size();
        List<int[]> rows = new ArrayList<>(2 * n);
        float[] pick = new float[2 * n * RewardModel.HEADS];
        for (int i = 0; i < n; i++) {
            rows.add(batch.get(i).chosen());
        }
        for (int i = 0; i < n; i++) {
            rows.add(batch.get(i).rejected());
        }
        for (int i = 0; i < n; i++) {
            int head = batch.get(i).head();
            pick[i * RewardModel.HEADS + head] = 1f;
            pick[(n + i) * RewardModel.HEADS + head] = 1f;
        }
        try (NDManager m = model.block().getParameters().get(0).getValue().getArray().getManager().newSubManager()) {
            NDList in = RewardBatch.encode(m, rows);
            NDArray select = m.create(pick, new Shape(2L * n, RewardModel.HEADS));
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray r = model.scores(in.get(0), in.get(1), true).mul(select).sum(new int[]{1});
                NDArray d = r.get("0:" + n).sub(r.get(n + ":"));
                // −log σ(d) = softplus(−d), written to stay finite for large |d|
                NDArray l = d.neg().maximum(0f).add(d.abs().neg().exp().add(1f).log()).mean();
                gc.backward(l);
                loss = l.getFloat();
            }
            double norm = GradientClipping.clipByGlobalNorm(model.block().getParameters(), 1.0);
            if (!Double.isFinite(norm) || !Float.isFinite(loss)) {
                GradientClipping.zero(model.block().getParameters());
                return loss;
            }
            optimizer.step(model.block().getParameters(), settings.learningRate());
            return loss;
        }
    }
}
