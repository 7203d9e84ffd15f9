package org.rollstream.launcher;

import java.util.function.Function;
import org.rollstream.launcher.config.ConfigException;
import org.rollstream.launcher.config.ConfigExpander;
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
                TrainRmCommand.class,
                PipelineCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Rollstream implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Environment lookup ({@code ${NAME}} in config files, {@code ROLLSTREAM_SASL_*}); tests replace it. */
    static volatile Function<String, String> env = System::getenv;

    /**
     * Runs the command line and returns the exit code (2 for a usage error, 1 for a failure).
     * A {@code --config FILE} is read first and its settings placed before the flags, which override them.
     */
    public static int execute(String... args) {
        CommandLine cli = commandLine();
        ConfigExpander.Expanded expanded;
        try {
            expanded = ConfigExpander.expand(cli, Rollstream::commandLine, args, env);
        } catch (ConfigException e) {
            cli.getErr().println("rollstream: " + e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        cli.setExecutionStrategy(new Operations(expanded));
        return cli.execute(expanded.args());
    }

    private static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Rollstream());
        Operations.addTo(cli);
        // a flag overrides the same key from --config: last one wins
        cli.setOverwrittenOptionsAllowed(true);
        cli.setExecutionExceptionHandler(new FailureHandler());
        return cli;
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
