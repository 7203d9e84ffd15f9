package org.rollstream.transport.time;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The shape of an idempotent, bounded stop: the first caller {@link #claim()}s it and does the work,
 * every later caller (a shutdown hook racing a command's own stop) waits for that caller's result
 * within its own bound instead of stopping twice.
 */
public final class StopLatch {
    private final AtomicBoolean claimed = new AtomicBoolean();
    private final CompletableFuture<Boolean> result = new CompletableFuture<>();

    /** True for exactly one caller: the one that must do the stop. */
    public boolean claim() {
        return claimed.compareAndSet(false, true);
    }

    /** The claimant reports how the stop went; waiters get this. */
    public void done(boolean clean) {
        result.complete(clean);
    }

    /** The claimant's result, or false when it does not come within {@code timeout}. */
    public boolean await(Duration timeout) {
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
