package org.rollstream.launcher;

import java.util.concurrent.Callable;
import org.rollstream.policy.ort.Device;
import org.rollstream.policy.ModelSpec;
import org.rollstream.launcher.bench.GenerateBenchmark;
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

    @Option(names = "--sample", description = "Measure in-graph sampling beside in-graph greedy decoding (with --fused: the "
            + "fused graphs): --temperature with each --top-p, same weights and prompts, no stop tokens; the DJL peer is not run.")
    boolean sample;

    @Option(names = "--temperature", defaultValue = "1", description = "With --sample: sampling temperature, > 0 (default: ${DEFAULT-VALUE}).")
    float temperature;

    @Option(names = "--top-p", defaultValue = "1,0.9", description = "With --sample: nucleus mass(es) in (0,1], comma-separated (default: ${DEFAULT-VALUE}).")
    String topP;

    @Option(names = "--top-k", defaultValue = "0", description = "With --sample: keep the k most probable tokens, 0 = off (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--nucleus-cap", defaultValue = "4096", description = "With --sample and top-p < 1, top-k 0: most tokens a nucleus may hold, "
            + "0 = whole vocabulary (exact but slow on GPU) (default: ${DEFAULT-VALUE}).")
    int nucleusCap;

    @Option(names = "--host", description = "With --sample: also time the host loop (OrtSampler, one ONNX Runtime call per token, "
            + "the reference) at each top-p, beside the in-graph sampler (top-k 0 only).")
    boolean host;

    @Option(names = "--weight-inputs", description = "With --sample: also time each top-p on one session fed the weights as inputs "
            + "(as `actor --sampler-weights inputs`: each run copies them to the device), beside the session with the weights as initializers.")
    boolean weightInputs;

    @Override
    public Integer call() {
        if (batch < 1 || promptTokens < 1 || newTokens < 1 || runs < 1) {
            throw new UsageException("--batch, --prompt-tokens, --new-tokens and --runs must all be at least 1");
        }
        if (sample) {
            if (!(temperature > 0) || Float.isInfinite(temperature)) throw new UsageException("--temperature must be > 0: " + temperature);
            if (topK < 0 || nucleusCap < 0) throw new UsageException("--top-k and --nucleus-cap must be >= 0");
            float[] ps;
            try {
                ps = GenerateBenchmark.parseTopPs(topP);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--top-p: " + e.getMessage());
            }
            GenerateBenchmark.runSampling(ModelSpec.preset(preset), batch, promptTokens, newTokens, Device.parse(device), runs, fp16,
                    fused, temperature, ps, topK, nucleusCap, host, weightInputs, System.out);
            return 0;
        }
        Device d = Device.parse(device);
        GenerateBenchmark.run(ModelSpec.preset(preset), batch, promptTokens, newTokens, d, runs, fp16, inGraph || fused, fused,
                djlRuns < 0 ? runs : djlRuns, System.out);
        return 0;
    }
}
