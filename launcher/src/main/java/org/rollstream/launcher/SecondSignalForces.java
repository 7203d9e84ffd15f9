package org.rollstream.launcher;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import sun.misc.Signal;

/**
 * Ctrl-C (SIGINT) and SIGTERM: the first exits the JVM normally, which runs the shutdown hooks (a
 * graceful stop); a second one while they run halts at once. Without this the JVM ignores signals
 * during shutdown, so a stuck stop could only be ended with kill -9.
 */
final class SecondSignalForces {
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    private static final AtomicInteger SEEN = new AtomicInteger();

    private SecondSignalForces() {
    }

    /** Installs the handlers once per JVM; where the platform refuses a signal, its default stays. */
    static void install() {
        if (!INSTALLED.compareAndSet(false, true)) {
            return;
        }
        for (String name : new String[]{"INT", "TERM"}) {
            try {
                Signal.handle(new Signal(name), SecondSignalForces::onSignal);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // e.g. the JVM was started with -Xrs: the default behaviour (hooks, no forcing) stays
            }
        }
    }

    private static void onSignal(Signal s) {
        int status = 128 + s.getNumber();
        if (SEEN.incrementAndGet() == 1) {
            System.exit(status); // runs the shutdown hooks; this signal thread waits in here
        } else {
            System.err.println("rollstream: second " + s.getName() + ", forcing exit");
            Runtime.getRuntime().halt(status);
        }
    }
}
