package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "replay", mixinStandardHelpOptions = true,
        description = "Re-reads a topic range deterministically into the learner, or re-scores it with another reward configuration.")
final class ReplayCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream replay: not yet available in this release");
        return 1;
    }
}
