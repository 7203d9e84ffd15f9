package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "learner", mixinStandardHelpOptions = true,
        description = "Runs the learner: cold-start SFT, then GRPO on rollouts.scored; publishes policy versions, metrics and checkpoints.")
final class LearnerCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream learner: not yet available in this release");
        return 1;
    }
}
