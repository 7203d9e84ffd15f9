package org.rollstream.actor;

import java.util.HashSet;
import java.util.Set;

/**
 * Which learner runs have announced versions of the followed policy, in the order of the log:
 * the run of the latest announcement is current, every run announced before it and not since is
 * retired. A prompt of a retired run can never be served with its run's weights again (the actor
 * follows the current run), so it is dead-lettered at once instead of waiting. Thread-safe.
 */
final class AnnouncedRuns {
    private final Set<String> retired = new HashSet<>();
    private String current; // null until the first announcement

    /** Records an announcement of {@code runId}, in log order. */
    synchronized void announced(String runId) {
        if (current != null && !current.equals(runId)) {
            retired.add(current);
        }
        retired.remove(runId);
        current = runId;
    }

    /** True when {@code runId} announced versions earlier and another run has announced since. */
    synchronized boolean isRetired(String runId) {
        return retired.contains(runId);
    }

    /** The run of the latest announcement, or null before any. */
    synchronized String current() {
        return current;
    }
}
