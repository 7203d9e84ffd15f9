package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Runs everything on one machine: an embedded broker (or --bootstrap-servers), cold-start SFT, then GRPO with actors, scorer and learner in one process; shows progress and writes a report.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream run: not yet available in this release");
        return 1;
    }
}
