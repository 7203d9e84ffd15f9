package org.rollstream.transport.time;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a blocking shutdown step with a deadline, so one stuck step cannot hang a stop. */
public final class Bounded {
    private static final Logger log = LoggerFactory.getLogger(Bounded.class);

    private Bounded() {
    }

    /**
     * Runs {@code step} on its own daemon thread and waits for it until {@code timer} expires.
     *
     * @return true when the step finished in time without throwing; false otherwise (it keeps
     *         running in the background, a daemon that cannot hold the JVM)
     */
    public static boolean run(String what, Runnable step, Timer timer) {
        boolean[] ok = {false};
        Thread t = new Thread(() -> {
            try {
                step.run();
                ok[0] = true;
            } catch (RuntimeException e) {
                log.warn("{} failed: {}", what, e.toString());
            }
        }, "rollstream-stop");
        t.setDaemon(true);
        t.start();
        try {
            t.join(Math.max(1, timer.remainingMs()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (t.isAlive()) {
            log.warn("{} did not finish in time; going on", what);
            return false;
        }
        return ok[0];
    }
}
