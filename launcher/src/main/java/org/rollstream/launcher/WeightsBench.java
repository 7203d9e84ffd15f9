package org.rollstream.launcher;

import java.util.List;
import java.util.concurrent.Callable;
import org.rollstream.learner.LearnerDevice;
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

    @Option(names = "--device", defaultValue = "cpu", description = "Where the actors' in-graph sampler sessions run: cpu or cuda[:N] "
            + "(default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--sampler-weights", split = ",", defaultValue = "initializers,inputs", description = "How the actors take the "
            + "weights, each measured in turn: initializers (a session built per version) and/or inputs (one shared session fed "
            + "each version; built in the warm-up) (default: ${DEFAULT-VALUE}).")
    List<String> samplerWeights;

    @Option(names = "--fetch", split = ",", defaultValue = "prefetch", description = "How the actors read a version, each measured in "
            + "turn: prefetch (as chunks arrive, as actors do) and/or offset (from its first chunk once the put is done) "
            + "(default: ${DEFAULT-VALUE}).")
    List<String> fetch;

    @Option(names = "--learner-device", description = "Serialise as the learner's publisher does, from a snapshot of the "
            + "parameters on this device (cpu or cuda:N; float16 made there); without it, from float32 weights on the host.")
    String learnerDevice;

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
        List<Boolean> asInputs = either(samplerWeights, "--sampler-weights", "inputs", "initializers");
        List<Boolean> prefetches = either(fetch, "--fetch", "prefetch", "offset");
        LearnerDevice learner = learnerDevice == null ? null : UsageException.config(() -> LearnerDevice.parse(learnerDevice));
        try (KafkaOptions.Cluster cluster = kafka.clusterOrEmbedded(null, false)) {
            for (int i = 0; i < specs.size(); i++) {
                for (boolean inputs : asInputs) {
                    for (boolean prefetch : prefetches) {
                        List<WeightHandOver.Run> r = WeightHandOver.measure(cluster.settings(), specs.get(i), !fp32, d, sessionFp16, inputs,
                                prefetch, learner, actors, runs);
                        String setup = d + (sessionFp16 ? " fp16" : "") + ", weights as " + (inputs ? "inputs" : "initializers") + ", "
                                + (prefetch ? "prefetched" : "read after the put")
                                + (learner == null ? ", serialised from host floats" : ", exported from a " + learner + " snapshot");
                        System.out.println(WeightHandOver.format(presets.get(i), !fp32, setup, actors, r));
                    }
                }
            }
        }
        return 0;
    }

    /** Each of {@code values} as true ({@code yes}) or false ({@code no}); anything else is a usage error. */
    private static List<Boolean> either(List<String> values, String flag, String yes, String no) {
        return values.stream().map(v -> {
            if (v.trim().equals(yes)) return true;
            if (v.trim().equals(no)) return false;
            throw new UsageException(flag + " takes " + no + " and/or " + yes + ", got '" + v + "'");
        }).toList();
    }
}
