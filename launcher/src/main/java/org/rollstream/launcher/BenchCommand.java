package org.rollstream.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures (medians of several runs): transport, generate, loop, actor, chaos, weights, learner, pipeline.",
        subcommands = {TransportBench.class, GenerateBench.class, LoopBench.class, ActorBench.class, ChaosBench.class, WeightsBench.class,
                LearnerBench.class, PipelineBench.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing benchmark: choose one of " + String.join(", ", spec.subcommands().keySet()));
    }
}
