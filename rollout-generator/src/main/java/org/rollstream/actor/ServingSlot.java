package org.rollstream.actor;

import org.rollstream.transport.time.Timer;

/**
 * The weights an actor serves now. Installing a version retires the previous one (its sessions
 * close once the last batch using it is done); batches take a reference for their duration and
 * may wait for a change. Once closed, nothing is installed again: a version that finishes loading
 * after that is closed by {@link #install} instead. Thread-safe.
 */
final class ServingSlot {
    private ServingPolicy current; // guarded by this
    private boolean closed; // guarded by this
    private boolean noWaiting; // guarded by this

    /** The identity of what serves now, or null. */
    synchronized PolicyIdentity identity() {
        return current == null ? null : current.identity();
    }

    /**
     * Installs {@code loaded}, taking over its owner reference.
     *
     * @return false when the slot is closed: {@code loaded} was closed, not installed
     */
    boolean install(ServingPolicy loaded) {
        ServingPolicy old;
        synchronized (this) {
            if (closed) {
                loaded.release();
                return false;
            }
            old = current;
            current = loaded;
            notifyAll();
        }
        if (old != null) {
            old.release(); // closes once the batch sampling with it (if any) is done
        }
        return true;
    }

    /** The current weights with a reference for one batch (release it after), or null when none or closed. */
    ServingPolicy acquire() {
        while (true) {
            ServingPolicy p;
            synchronized (this) {
                p = current;
            }
            if (p == null) {
                return null;
            }
            if (p.acquire()) {
                return p;
            }
            // swapped out and closed between the read and the acquire: read again
        }
    }

    /** Waits until weights other than {@code seen} are installed, the timer expires, or waiting is over ({@link #wakeWaiters}). */
    synchronized void awaitChange(ServingPolicy seen, Timer timer) throws InterruptedException {
        while (current == seen && !closed && !noWaiting && !timer.isExpired()) {
            wait(Math.max(1, Math.min(timer.remainingMs(), 200)));
        }
    }

    /** From now on nobody waits for new weights (the actor is stopping); what serves keeps serving. */
    synchronized void wakeWaiters() {
        noWaiting = true;
        notifyAll();
    }

    /** Nothing is installed any more; waiters wake; the current weights close after the batches using them. */
    void close() {
        ServingPolicy p;
        synchronized (this) {
            closed = true;
            p = current;
            current = null;
            notifyAll();
        }
        if (p != null) {
            p.release();
        }
    }
}
