package org.rollstream.reward;

import org.rollstream.transport.errors.RetriableRecordException;

/**
 * An external reward cannot be computed now (endpoint down, timeouts, circuit open, an awaited
 * component late): the group is delivered again after a backoff and dead-lettered with this
 * reason once the retries are spent. Never scored zero.
 */
public class RewardUnavailableException extends RetriableRecordException {
    private final String function;

    public RewardUnavailableException(String function, String message, Throwable cause) {
        super("reward '" + function + "' unavailable: " + message, cause);
        this.function = function;
    }

    public String function() {
        return function;
    }
}
