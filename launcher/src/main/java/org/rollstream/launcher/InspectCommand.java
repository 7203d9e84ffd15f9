package org.rollstream.launcher;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Prints and filters records of a topic (groups, rewards, dead letters).")
final class InspectCommand implements Callable<Integer> {
    @Mixin
    KafkaOptions kafka;

    @Override
    public Integer call() {
        System.err.println("rollstream inspect: not yet available in this release");
        return 1;
    }
}
