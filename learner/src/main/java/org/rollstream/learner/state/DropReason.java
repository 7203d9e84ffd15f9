package org.rollstream.learner.state;

/** Why a prompt ended without being trained; the words appear in {@code StepAudit} records. */
public enum DropReason {
    /** Its group was sampled more than η weight updates before the step that would train it. */
    STALE("stale"),
    /** Dynamic sampling: every completion got the same reward, so the group carries no signal. */
    UNINFORMATIVE("uninformative"),
    /** Its group decoded but could not be trained (see the dead-letter topic for the reason). */
    INVALID("invalid"),
    /** No usable group came back within the prompt timeout. */
    TIMED_OUT("timed-out"),
    /** The run reached its last step while the prompt was still open. */
    RUN_ENDED("run-ended");

    private final String word;

    DropReason(String word) {
        this.word = word;
    }

    public String word() {
        return word;
    }
}
