package org.rollstream.launcher;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Options every role has for running it in operations: a configuration file, printing the
 * effective configuration, and the Prometheus endpoint. {@link Rollstream} adds them to the role
 * commands as a mixin, so the commands themselves stay about their role.
 */
final class OperationsOptions {
    /** Mixin name in the command model. */
    static final String MIXIN = "operations";

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML (.yaml/.yml) or properties file of this command's options: keys are the long option names without "
                    + "dashes (group-size: 8); a section named after a command (actor:) applies to that command only; "
                    + "${NAME} is replaced by the environment variable NAME; flags override the file.")
    Path config;

    @Option(names = "--print-config",
            description = "Prints the effective configuration (flags, file, environment, defaults; secrets masked) as YAML and exits.")
    boolean printConfig;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "Serves Prometheus metrics at http://0.0.0.0:PORT/metrics (0 = a free port, printed at start); off by default.")
    Integer metricsPort;
}
