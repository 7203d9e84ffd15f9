package org.rollstream.launcher;

import java.util.concurrent.Callable;
import org.rollstream.policy.Device;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.bench.GenerateBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Generation tokens/s: ONNX Runtime (host loop with KV cache, or --in-graph ONNX Loop) against the same",
                "generation with the DJL model, median of --runs, and the ratio."})
final class GenerateBench implements Callable<Integer> {
    @Option(names = "--preset", defaultValue = "tiny", description = "Model preset: tiny or gpt2-small (default: ${DEFAULT-VALUE}).")
    String preset;

    @Option(names = "--batch", defaultValue = "8", description = "Sequences generated together (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--prompt-tokens", defaultValue = "16", description = "Prompt length (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--new-tokens", defaultValue = "64", description = "Tokens generated per sequence (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda:N (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--runs", defaultValue = "5", description = "Measured runs after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--djl-runs", defaultValue = "-1", description = "Runs of the DJL peer; 0 skips it (default: same as --runs).")
    int djlRuns;

    @Option(names = "--fp16", description = "Run ONNX Runtime in float16 (GPU).")
    boolean fp16;

    @Option(names = "--in-graph", description = "Decode inside one ONNX Runtime call (ONNX Loop carrying the KV cache).")
    boolean inGraph;

    @Option(names = "--fused", description = "Decode with the fused in-graph loop (ONNX Runtime's com.microsoft Attention, "
            + "SkipLayerNormalization, FastGelu, TopK; 8 steps per Loop pass): the fastest GPU path.")
    boolean fused;

    @Override
    public Integer call() {
        if (batch < 1 || promptTokens < 1 || newTokens < 1 || runs < 1) {
            throw new UsageException("--batch, --prompt-tokens, --new-tokens and --runs must all be at least 1");
        }
        Device d = Device.parse(device);
        GenerateBenchmark.run(ModelSpec.preset(preset), batch, promptTokens, newTokens, d, runs, fp16, inGraph || fused, fused,
                djlRuns < 0 ? runs : djlRuns, System.out);
        return 0;
    }
}
