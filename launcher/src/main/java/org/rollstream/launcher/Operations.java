package org.rollstream.launcher;

import java.io.PrintWriter;
import java.util.Set;
import org.rollstream.launcher.config.ConfigExpander;
import org.rollstream.launcher.metrics.RoleMetrics;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;

/**
 * Runs a parsed command with its operations options ({@link OperationsOptions}): prints the
 * effective configuration and exits for {@code --print-config}; otherwise starts the metrics
 * endpoint when {@code --metrics-port} is given, runs the command, and stops the endpoint after it.
 * Also where a role command finds its process's {@link #metrics()}.
 */
final class Operations implements CommandLine.IExecutionStrategy {
    /** The commands that get {@code --config}, {@code --print-config} and {@code --metrics-port}. */
    static final Set<String> ROLES = Set.of("run", "actor", "scorer", "learner");

    private static volatile RoleMetrics current = new RoleMetrics();

    private final ConfigExpander.Expanded expanded;

    Operations(ConfigExpander.Expanded expanded) {
        this.expanded = expanded;
    }

    /** The metrics of the command running in this process; the roles bind their counters here. */
    static RoleMetrics metrics() {
        return current;
    }

    /** Adds the operations options to the role commands of {@code root}. */
    static void addTo(CommandLine root) {
        for (String role : ROLES) {
            CommandLine sub = root.getSubcommands().get(role);
            if (sub != null) {
                sub.addMixin(OperationsOptions.MIXIN, new OperationsOptions());
            }
        }
    }

    @Override
    public int execute(ParseResult parsed) {
        ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
            leaf = leaf.subcommand();
        }
        if (!leaf.unmatched().isEmpty()) {
            // "rollstream pipeline --help": picocli lets --help excuse unmatched arguments; name the
            // unknown command (exit 2) instead of printing help
            throw new CommandLine.UnmatchedArgumentException(leaf.commandSpec().commandLine(), leaf.unmatched());
        }
        CommandSpec spec = leaf.commandSpec();
        Object mixin = spec.mixins().containsKey(OperationsOptions.MIXIN)
                ? spec.mixins().get(OperationsOptions.MIXIN).userObject() : null;
        if (!(mixin instanceof OperationsOptions ops) || leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested()) {
            return new CommandLine.RunLast().execute(parsed);
        }
        if (ops.printConfig) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(EffectiveConfig.render(spec, expanded));
            out.flush();
            return 0;
        }
        RoleMetrics metrics = new RoleMetrics();
        current = metrics;
        try {
            if (ops.metricsPort != null) {
                if (ops.metricsPort < 0 || ops.metricsPort > 65535) {
                    throw new CommandLine.ParameterException(spec.commandLine(),
                            "--metrics-port must be 0 (a free port) or 1-65535, got " + ops.metricsPort);
                }
                int port;
                try {
                    port = metrics.serve(ops.metricsPort);
                } catch (IllegalStateException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
                }
                spec.commandLine().getOut().println("metrics at http://0.0.0.0:" + port + "/metrics");
                spec.commandLine().getOut().flush();
            }
            return new CommandLine.RunLast().execute(parsed);
        } finally {
            metrics.close();
            current = new RoleMetrics();
        }
    }
}
