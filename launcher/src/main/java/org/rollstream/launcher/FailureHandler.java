package org.rollstream.launcher;

import org.rollstream.tasks.DatasetException;
import picocli.CommandLine;

/**
 * Turns a failure into one clear line on stderr. Configuration mistakes found at run time
 * ({@link UsageException}, which the command layer raises for bad option values and configs, and a
 * bad dataset file) exit 2 like a bad flag; anything else, including an IllegalArgumentException from
 * deep inside a role (a bug, not the user's input), exits 1. Set {@code ROLLSTREAM_DEBUG=1} for the
 * stack trace.
 */
final class FailureHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cli, CommandLine.ParseResult parsed) {
        // a bad option value, config or dataset file is the user's input to fix, like a bad flag
        boolean usage = ex instanceof UsageException || ex instanceof DatasetException;
        StringBuilder message = new StringBuilder(ex.getMessage() == null ? ex.toString() : ex.getMessage());
        // the causes usually say what to fix (a path, a port): show them, once each
        for (Throwable c = ex.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            String m = c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
            if (message.indexOf(m) < 0) {
                message.append(": ").append(m);
            }
        }
        cli.getErr().println("rollstream " + cli.getCommandName() + ": " + message);
        if (System.getenv("ROLLSTREAM_DEBUG") != null) {
            ex.printStackTrace(cli.getErr());
        }
        return usage ? CommandLine.ExitCode.USAGE : CommandLine.ExitCode.SOFTWARE;
    }
}
