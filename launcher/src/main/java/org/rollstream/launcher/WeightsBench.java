package org.rollstream.launcher;

import java.util.List;
import java.util.concurrent.Callable;
import org.rollstream.policy.ModelSpec;
import org.rollstream.policy.ort.Device;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "weights", mixinStandardHelpOptions = true,
        description = "Weight hand-over over Kafka: publish to all actors serving, split into serialize, produce, consume+assemble, verify, decode and session build; medians of --runs.")
final class WeightsBench implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Option(names = "--presets", split = ",", defaultValue = "tiny,gpt2-small", description = "Model shapes to move (default: ${DEFAULT-VALUE}).")
    List<String> presets;

    @Option(names = "--actors", defaultValue = "2", description = "Actors fetching each version at once (default: ${DEFAULT-VALUE}).")
    int actors;

    @Option(names = "--runs", defaultValue = "5", description = "Measured runs per shape, after one warm-up (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--fp32", description = "Move F32 tensors instead of F16.")
    boolean fp32;

    @Option(names = "--device", defaultValue = "cpu", description = "Where the actors' sessions run: cpu (the host loop's STEP session) "
            + "or cuda[:N] (the in-graph sampler's session) (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--session-fp16", description = "Run the actors' sessions in float16, as `actor --fp16` (CUDA only).")
    boolean sessionFp16;

    @Override
    public Integer call() throws Exception {
        if (actors < 1 || runs < 1) {
            throw new UsageException("--actors and --runs must be at least 1");
        }
        Device d = UsageException.config(() -> Device.parse(device));
        if (sessionFp16 && !d.isCuda()) {
            throw new UsageException("--session-fp16 needs --device cuda[:N] (the CPU runs float32)");
        }
        List<ModelSpec> specs = presets.stream().map(p -> UsageException.config(() -> ModelSpec.preset(p))).toList();
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(null, false)) {
            for (int i = 0; i < specs.size(); i++) {
                List<WeightHandOver.Run> r = WeightHandOver.measure(cluster.settings(), specs.get(i), !fp32, d, sessionFp16, actors, runs);
                System.out.println(WeightHandOver.format(presets.get(i), !fp32, d, sessionFp16, actors, r));
            }
        }
        return 0;
    }
}
