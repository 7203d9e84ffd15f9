package org.rollstream.launcher;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C and SIGTERM for every command: the first signal starts a graceful stop; a second signal,
 * or the stop not finishing within the grace period, halts the JVM at once.
 *
 * <p>Two ways to stop gracefully, one handler: {@link #install} asks a role to stop from its own
 * thread (the learner finishes its step, writes its checkpoint and report, and the command returns
 * normally); {@link #exitOnFirst} exits the JVM, whose shutdown hooks stop the role (actor, scorer).
 * Signal handlers rather than a bare shutdown hook: while hooks run the JVM ignores further signals,
 * so without this a stuck stop could only be ended with kill -9.
 */
final class GracefulStop {
    private GracefulStop() {
    }

    /** The first signal calls {@code stop}; the command goes on to finish normally. */
    static void install(String role, Runnable stop, Duration grace) {
        handle(role, grace, sig -> {
            System.err.println();
            System.err.println(role + ": stopping (SIG" + sig.getName() + "): finishing the current step, then a "
                    + "checkpoint and the report; Ctrl-C again to force");
            stop.run();
        });
    }

    /** The first signal exits the JVM with 128 + the signal's number, running the shutdown hooks. */
    static void exitOnFirst(String role, Duration grace) {
        handle(role, grace, sig -> System.exit(128 + sig.getNumber()));
    }

    private static void handle(String role, Duration grace, Consumer<Signal> first) {
        AtomicInteger signals = new AtomicInteger();
        SignalHandler handler = sig -> {
            if (signals.incrementAndGet() > 1) {
                System.err.println(role + ": second " + sig.getName() + ", forcing exit");
                Runtime.getRuntime().halt(128 + sig.getNumber());
            }
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(grace.toMillis());
                    System.err.println(role + ": did not stop within " + grace.toSeconds() + " s; forcing exit");
                    Runtime.getRuntime().halt(128 + sig.getNumber());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, role + "-stop-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            first.accept(sig); // exitOnFirst blocks here while the hooks run
        };
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), handler);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // not available here (e.g. -Xrs, or ignored by the parent shell): the default stays
            }
        }
    }
}
