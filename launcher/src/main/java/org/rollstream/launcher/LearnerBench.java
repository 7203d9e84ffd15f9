package org.rollstream.launcher;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.rollstream.launcher.bench.LearnerBenchmark;
import org.rollstream.learner.LearnerDevice;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.djl.ComputePrecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "learner", mixinStandardHelpOptions = true,
        description = {"GRPO learner step time, tokens/s and peak memory on random sequences of a fixed shape: policy and",
                "reference model, clipping, importance weight, KL, gradient clipping, AdamW; median and min of --steps",
                "after --warmup. --before (or --compare) also runs the forward as it was before the memory work; --vs-fp32 runs",
                "--precision fp16 and then fp32."})
final class LearnerBench implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "tiny", description = "Model preset (any ModelSpec preset) (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--vocab", defaultValue = "0", description = "Vocabulary size instead of the preset's; token ids are random, no tokenizer is used (default: the preset's).")
    int vocab;

    @Option(names = "--batch", defaultValue = "64", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--group-size", defaultValue = "8", description = "Completions per group; must divide --batch (default: ${DEFAULT-VALUE}).")
    int groupSize;

    @Option(names = "--seq", defaultValue = "320", description = "Tokens per sequence, prompt included (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(names = "--prompt-tokens", defaultValue = "0", description = "Prompt part of each sequence (default: a fifth of --seq).")
    int promptTokens;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--precision", defaultValue = "fp32", description = "fp32 or fp16 (bf16 is refused: DJL's PyTorch JNI has no bfloat16) (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--micro-batch-size", defaultValue = "0", description = "Sequences per forward/backward pass, gradients accumulated; 0 = the whole batch (default: ${DEFAULT-VALUE}).")
    int microBatchSize;

    @Option(names = "--steps", defaultValue = "5", description = "Measured steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--warmup", defaultValue = "2", description = "Warm-up steps, not measured (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--before", description = "Run only the before path (legacy forward, fp32, one pass).")
    boolean before;

    @Option(names = "--compare", description = "Run the after path, then the before path, and print the ratios (on the CPU, "
            + "memory of the second path is best measured in its own process: use --before there).")
    boolean compare;

    @Option(names = "--vs-fp32", description = "With --precision fp16: also run the same path in fp32 and print the ratios.")
    boolean vsFp32;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the weights and tokens (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        if (batch < 1 || seq < 2 || steps < 1 || warmup < 0 || groupSize < 1 || microBatchSize < 0) {
            throw new UsageException("--batch, --steps and --group-size must be at least 1, --seq at least 2, --warmup and "
                    + "--micro-batch-size at least 0");
        }
        if (batch % groupSize != 0) {
            throw new UsageException("--group-size " + groupSize + " does not divide --batch " + batch);
        }
        int prompt = promptTokens > 0 ? promptTokens : Math.max(1, seq / 5);
        if (prompt >= seq) {
            throw new UsageException("--prompt-tokens " + prompt + " leaves no completion in --seq " + seq);
        }
        ModelSpec spec = UsageException.config(() -> {
            ModelSpec s = ModelSpec.preset(preset);
            s = vocab > 0 ? s.withVocab(vocab) : s;
            return s.contextLength() < seq ? s.withContext(seq) : s;
        });
        ComputePrecision p = UsageException.config(() -> ComputePrecision.parse(precision));
        if (p.unsupportedReason() != null) {
            throw new UsageException("--precision " + p + ": " + p.unsupportedReason());
        }
        if (vsFp32 && (!p.reduced() || before || compare)) {
            throw new UsageException("--vs-fp32 compares --precision fp16 with fp32; it goes without --before and --compare");
        }
        ai.djl.Device d = UsageException.config(() -> {
            try {
                return LearnerDevice.parse(device).resolve();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--device " + e.getMessage(), e);
            }
        });
        LearnerBenchmark.Setup setup = new LearnerBenchmark.Setup(spec, batch, seq, groupSize, prompt, d, p, microBatchSize,
                steps, warmup, seed);
        System.out.printf("learner bench: preset %s (vocab %d, width %d, %d layers, %d heads), %d × %d tokens (%d groups of %d),"
                        + " device %s, %s, micro-batch %s, %d steps after %d warm-up%n", preset, spec.vocabSize(), spec.width(),
                spec.layers(), spec.heads(), batch, seq, batch / groupSize, groupSize, device, p,
                microBatchSize == 0 || microBatchSize >= batch ? "whole batch" : microBatchSize + " sequences", steps, warmup);
        List<LearnerBenchmark.Result> results = new ArrayList<>();
        if (!before) {
            results.add(LearnerBenchmark.run(setup, false, System.out));
        }
        if (before || compare) {
            results.add(LearnerBenchmark.run(setup, true, System.out));
        }
        if (vsFp32) {
            LearnerBenchmark.Setup fp32 = new LearnerBenchmark.Setup(spec, batch, seq, groupSize, prompt, d,
                    ComputePrecision.FP32, microBatchSize, steps, warmup, seed);
            results.add(LearnerBenchmark.run(fp32, false, "fp32", System.out));
        }
        LearnerBenchmark.print(setup, results, System.out);
        return results.stream().allMatch(r -> r.failure() == null) ? 0 : 1;
    }
}
