package org.rollstream.launcher;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code rollstream} command: one entry point for every role, the embedded run and the benchmarks. */
@Command(name = "rollstream",
        mixinStandardHelpOptions = true,
        versionProvider = Rollstream.Version.class,
        description = "Trains reasoning language models with GRPO as a streaming system over Apache Kafka.",
        subcommands = {
                RunCommand.class,
                BrokerCommand.class,
                ActorCommand.class,
                ScorerCommand.class,
                LearnerCommand.class,
                ReplayCommand.class,
                RescoreCommand.class,
                ExportCommand.class,
                InspectCommand.class,
                SchemasCommand.class,
                ScoreBridgeCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Rollstream implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (2 for a usage error, 1 for a failure). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new Rollstream());
        cli.setExecutionExceptionHandler(new FailureHandler());
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command: choose one of "
                + String.join(", ", spec.subcommands().keySet()));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Rollstream.class.getPackage().getImplementationVersion();
            return new String[] {"rollstream " + (v == null ? "dev" : v)};
        }
    }
}
