package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "scorer", mixinStandardHelpOptions = true,
        description = "Runs the reward scorer: consumes rollouts.sampled, applies the reward functions and group advantages, publishes rollouts.scored.")
final class ScorerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream scorer: not yet available in this release");
        return 1;
    }
}
