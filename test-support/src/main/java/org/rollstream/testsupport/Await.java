package org.rollstream.testsupport;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting in tests for something another thread or process makes true; the timeout only stops a hang. */
public final class Await {
    private Await() {
    }

    /**
     * Returns as soon as {@code condition} holds, checking every 20 ms.
     *
     * @throws AssertionError with {@code what} (evaluated then) if it still does not hold after {@code timeout}
     */
    public static void until(BooleanSupplier condition, Supplier<String> what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting: " + what.get(), e);
            }
        }
        if (!condition.getAsBoolean()) {
            throw new AssertionError(what.get());
        }
    }
}
