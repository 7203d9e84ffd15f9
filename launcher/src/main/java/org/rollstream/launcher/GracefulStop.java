package org.rollstream.launcher;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C and SIGTERM for a role: the first signal asks the role to stop (it drains, commits, writes
 * its checkpoint and report, and the command returns normally); a second signal, or the role not
 * finishing within the grace period, halts the JVM at once.
 *
 * <p>Signal handlers rather than a shutdown hook: a hook runs while the JVM is already exiting, so
 * the role's own thread would be cut off mid-checkpoint, and a second Ctrl-C could not force anything.
 */
final class GracefulStop {
    private GracefulStop() {
    }

    static void install(String role, Runnable stop, Duration grace) {
        AtomicInteger signals = new AtomicInteger();
        SignalHandler handler = sig -> {
            if (signals.incrementAndGet() > 1) {
                System.err.println();
                System.err.println(role + ": forced to stop");
                Runtime.getRuntime().halt(130);
            }
            System.err.println();
            System.err.println(role + ": stopping (SIG" + sig.getName() + "): finishing the current step, then a checkpoint "
                    + "and the report; Ctrl-C again to force");
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(grace.toMillis());
                    System.err.println(role + ": did not stop within " + grace.toSeconds() + " s; forcing");
                    Runtime.getRuntime().halt(130);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, role + "-stop-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            stop.run();
        };
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), handler);
            } catch (IllegalArgumentException e) {
                // the signal is not available here (or reserved by the JVM); the default then applies
            }
        }
    }
}
