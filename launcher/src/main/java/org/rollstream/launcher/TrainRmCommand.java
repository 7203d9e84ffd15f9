package org.rollstream.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.rollstream.launcher.rm.RewardModelBuild;
import org.rollstream.learner.rm.RewardModelTrainer;
import org.rollstream.tasks.preference.BuiltinPreferences;
import org.rollstream.tasks.preference.PreferenceJsonl;
import org.rollstream.tasks.preference.PreferencePair;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train-rm", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains the reward model on preference pairs (Bradley–Terry loss, DJL) and writes it as ONNX for the scorer's onnx reward.",
                "Two heads: helpfulness (read on the prompt and the final answer) and harmlessness (read on the prompt and the whole response).",
                "Prints progress, the held-out ranking accuracy, and the largest difference between ONNX Runtime's and DJL's scores (must be <= 1e-4)."})
final class TrainRmCommand implements Callable<Integer> {

    static final class Source {
        @Option(names = "--pairs", paramLabel = "FILE.jsonl",
                description = "Preference pairs, one {\"prompt\",\"chosen\",\"rejected\"} object a line (optional \"aspect\": helpfulness, harmlessness or both, the default).")
        Path pairs;

        @Option(names = "--builtin", paramLabel = "N", description = "N built-in pairs decided by rules (harmful markers, padding, steps a prompt does or does not need).")
        Integer builtin;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--out", required = true, paramLabel = "FILE.onnx", description = "The ONNX model to write (replaced if it exists).")
    Path out;

    @Option(names = "--steps", defaultValue = "300", description = "Optimizer steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch", defaultValue = "64", description = "Pairs per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--lr", defaultValue = "3e-3", description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--held-out", defaultValue = "0.1", description = "Share of prompts held out to measure ranking accuracy (default: ${DEFAULT-VALUE}).")
    double heldOut;

    @Option(names = "--seed", defaultValue = "1", description = "Seeds the built-in pairs, the initialisation, the split and the batch order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        RewardModelTrainer.Settings settings = UsageException.config(() -> new RewardModelTrainer.Settings(steps, batch, lr, seed, heldOut, 512));
        if (source.builtin != null && source.builtin < 2) {
            throw new UsageException("--builtin must be at least 2, got " + source.builtin);
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new UsageException("cannot write " + out + ": directory " + parent + " does not exist");
        }
        List<PreferencePair> pairs = source.pairs != null ? PreferenceJsonl.read(source.pairs) : BuiltinPreferences.generate(source.builtin, seed);
        if (pairs.size() < 2) {
            throw new UsageException("reward-model training needs at least 2 preference pairs; " + source.pairs + " has " + pairs.size());
        }
        System.out.printf(Locale.ROOT, "rollstream train-rm: %d pairs (%s), %d steps, batch %d, out %s%n", pairs.size(),
                source.pairs != null ? source.pairs : "built-in", steps, batch, out.toAbsolutePath());
        RewardModelBuild.Outcome o = RewardModelBuild.run(pairs, settings, out, System.out);
        RewardModelTrainer.Result r = o.training();
        System.out.printf(Locale.ROOT, "held-out ranking accuracy %.1f%% (%d held-out pairs, %d trained; helpfulness + harmlessness together %.1f%%)%n",
                100 * r.heldOutAccuracy(), r.heldOutPairs(), r.trainPairs(), 100 * r.combinedAccuracy());
        if (r.accuracyByRule().size() > 1 || !r.accuracyByRule().containsKey("")) {
            StringBuilder sb = new StringBuilder("  by rule:");
            r.accuracyByRule().forEach((rule, a) -> sb.append(String.format(Locale.ROOT, " %s %.1f%%", rule.isEmpty() ? "(none)" : rule, 100 * a)));
            System.out.println(sb);
        }
        System.out.printf(Locale.ROOT, "wrote %s; ONNX Runtime matches DJL within %.1e (max |difference| over %d scores); trained in %.1f s%n",
                out.toAbsolutePath(), o.maxDifference(), o.scoresChecked(), r.seconds());
        System.out.println("score with it: rollstream scorer --rewards '" + RewardModelBuild.scorerRewards(out, 0.2) + "'");
        return 0;
    }
}
