package org.rollstream.launcher;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Runs a long-lived role until Ctrl-C / SIGTERM or a fatal failure, printing its status every 10 s.
 * A shutdown hook stops the role gracefully (drain, commit, close) and waits for it within a
 * bound; a second Ctrl-C forces ({@link GracefulStop#exitOnFirst}).
 */
final class RoleLoop {
    /** How long a graceful stop may take before the JVM exits anyway. */
    static final Duration STOP_BOUND = Duration.ofSeconds(30);

    /** A running role as the loop sees it. */
    interface Role {
        String status();

        /** The first fatal error, if any. */
        Optional<Throwable> failure();

        /** Graceful stop within {@code timeout}; true when it finished in time. Idempotent. */
        boolean stop(Duration timeout);
    }

    private RoleLoop() {
    }

    /**
     * Blocks until the JVM shuts down (then the hook stops the role and this never returns) or the
     * role fails (then the role is stopped here).
     *
     * @return 1 after a fatal failure
     */
    static int run(String name, Role role, PrintStream out) throws InterruptedException {
        CountDownLatch shuttingDown = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            shuttingDown.countDown();
            out.println(name + " stopping (Ctrl-C again to force) ...");
            boolean clean = role.stop(STOP_BOUND);
            out.println(name + (clean ? " stopped: " : " stopped, cut short after " + STOP_BOUND.toSeconds() + " s: ") + role.status());
        }, name + "-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        GracefulStop.exitOnFirst(name, STOP_BOUND.plusSeconds(30));
        while (!shuttingDown.await(10, TimeUnit.SECONDS)) {
            Optional<Throwable> failed = role.failure();
            if (failed.isPresent()) {
                out.println(name + " failed: " + failed.get() + "; stopping");
                role.stop(STOP_BOUND);
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException alreadyShuttingDown) {
                    // the hook runs anyway; stop is idempotent
                }
                return 1;
            }
            out.println(name + ": " + role.status());
        }
        // the hook owns the stop now; wait for the JVM to end rather than race it
        Thread.currentThread().join();
        return 0;
    }
}
