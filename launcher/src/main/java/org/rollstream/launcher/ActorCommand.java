package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "actor", mixinStandardHelpOptions = true,
        description = "Runs a rollout actor: consumes prompts, samples groups of completions with ONNX Runtime, publishes rollouts.sampled, hot-swaps policy versions.")
final class ActorCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream actor: not yet available in this release");
        return 1;
    }
}
