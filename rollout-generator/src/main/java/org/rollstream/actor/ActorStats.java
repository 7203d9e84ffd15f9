package org.rollstream.actor;

import java.util.concurrent.atomic.AtomicLong;

import org.rollstream.transport.ConsumerStats;

/** Counters of one actor, readable from any thread; {@link #toString} is a progress line. */
public final class ActorStats {
    final AtomicLong promptsConsumed = new AtomicLong();
    final AtomicLong promptsRejected = new AtomicLong();
    final AtomicLong groupsPublished = new AtomicLong();
    final AtomicLong tokensGenerated = new AtomicLong();
    final AtomicLong samplingNanos = new AtomicLong();
    final AtomicLong batches = new AtomicLong();
    final AtomicLong currentVersion = new AtomicLong(-1);
    final AtomicLong versionsLoaded = new AtomicLong();
    final AtomicLong versionsRefused = new AtomicLong();
    final AtomicLong versionsUnsigned = new AtomicLong();
    final AtomicLong versionsBadSignature = new AtomicLong();
    final AtomicLong lastHandOverNanos = new AtomicLong(-1);
    private volatile java.util.function.LongConsumer handOverListener = n -> { };
    final AtomicLong batchFailures = new AtomicLong();
    final AtomicLong versionWaitsExpired = new AtomicLong();
    final AtomicLong promptsForeign = new AtomicLong();
    final AtomicLong promptsOfOtherRuns = new AtomicLong();
    final AtomicLong samplingRetries = new AtomicLong();
    final AtomicLong nucleusLimitedSteps = new AtomicLong();
    final AtomicLong tokensPublished = new AtomicLong();
    static final long UNSET = Long.MIN_VALUE;
    final AtomicLong servingStartNanos = new AtomicLong(UNSET); // when the first batch started sampling
    final AtomicLong lastPublishedNanos = new AtomicLong(UNSET); // when the latest group was on the broker
    volatile String currentRunId = "";
    volatile ConsumerStats consumer; // set once consuming starts

    /** Prompts received from Kafka (valid or not). */
    public long promptsConsumed() {
        return promptsConsumed.get();
    }

    /** Prompts that decoded but were sent to {@code prompts.dlq} (unknown task, empty text, too long, another run's, ...). */
    public long promptsRejected() {
        return promptsRejected.get();
    }

    public long groupsPublished() {
        return groupsPublished.get();
    }

    /** Generated tokens, stop tokens included. */
    public long tokensGenerated() {
        return tokensGenerated.get();
    }

    /**
     * Sampling throughput: generated tokens per second spent inside the sampler (the batched
     * ONNX Runtime call(s) and turning their output into sequences; a retried batch's first try
     * included). Not wall time: waiting for prompts or weights, assembling and publishing groups do
     * not count; see {@link #servingTokensPerSecond} for those. Tokens are those kept (up to and
     * including a stop token), not the surplus an in-graph loop decodes past a row's stop.
     */
    public double tokensPerSecond() {
        long ns = samplingNanos.get();
        return ns == 0 ? 0 : tokensGenerated.get() * 1e9 / ns;
    }

    /**
     * End-to-end throughput: tokens of groups on the broker per second of wall time from the start
     * of the first sampled batch to the latest published group. Everything in between counts:
     * consuming, waiting for prompts or weights, idle time, assembling, publishing. 0 before a group
     * is published.
     */
    public double servingTokensPerSecond() {
        long start = servingStartNanos.get(), end = lastPublishedNanos.get();
        return start == UNSET || end == UNSET || end <= start ? 0 : tokensPublished.get() * 1e9 / (end - start);
    }

    /** Tokens of the groups published so far (stop tokens included). */
    public long tokensPublished() {
        return tokensPublished.get();
    }

    /** Wall time from the start of the first sampled batch to the latest published group, in seconds; 0 before. */
    public double servingSeconds() {
        long start = servingStartNanos.get(), end = lastPublishedNanos.get();
        return start == UNSET || end == UNSET ? 0 : Math.max(0, end - start) / 1e9;
    }

    /**
     * Decoding steps (summed over completions) whose top-p nucleus did not fit in the in-graph
     * sampler's cap, so the token was drawn from the cap's most probable tokens renormalised; 0
     * with the host loop or without top-p.
     */
    public long nucleusLimitedSteps() {
        return nucleusLimitedSteps.get();
    }

    public long batches() {
        return batches.get();
    }

    /** Version serving now; -1 before the first one is loaded. */
    public long currentVersion() {
        return currentVersion.get();
    }

    public long versionsLoaded() {
        return versionsLoaded.get();
    }

    /** Announced versions whose weights were refused (missing file, checksum, shapes). */
    public long versionsRefused() {
        return versionsRefused.get();
    }

    /** Announcements refused for carrying no signature while signing is on; part of {@link #versionsRefused}. */
    public long versionsUnsigned() {
        return versionsUnsigned.get();
    }

    /** Announcements refused for a signature that does not check out under this actor's key; part of {@link #versionsRefused}. */
    public long versionsBadSignature() {
        return versionsBadSignature.get();
    }

    /** Milliseconds from the announcement's creation to the last installed version serving (clocks of two hosts); -1 before any. */
    /** Called with each hand-over (announcement to serving, in nanoseconds), e.g. to feed a metrics timer. */
    public void onHandOver(java.util.function.LongConsumer listener) {
        this.handOverListener = listener;
    }

    void handOver(long nanos) {
        lastHandOverNanos.set(nanos);
        handOverListener.accept(nanos);
    }

    public long lastHandOverMillis() {
        long n = lastHandOverNanos.get();
        return n < 0 ? -1 : n / 1_000_000;
    }

    /** Batches whose sampling failed twice (their prompts dead-lettered) or whose groups the broker refused (left unacked, fatal). */
    public long batchFailures() {
        return batchFailures.get();
    }

    /** Records on {@code prompts} that did not decode as a Prompt; sent to {@code prompts.dlq} by the consumer. */
    public long promptsUndecodable() {
        ConsumerStats c = consumer;
        // decode failures only: the consumer's deadLettered() also counts the prompts this actor refused (promptsRejected)
        return c == null ? 0 : c.decodeFailures();
    }

    /** Everything this actor sent to {@code prompts.dlq}: undecodable and refused prompts. */
    public long deadLettered() {
        return promptsRejected() + promptsUndecodable();
    }

    /** Prompts refused because their run's weights are not served (superseded run, or weights that never came); part of {@link #promptsRejected}. */
    public long promptsOfOtherRuns() {
        return promptsOfOtherRuns.get();
    }

    /** Batches sampled a second time after ONNX Runtime failed on them once. */
    public long samplingRetries() {
        return samplingRetries.get();
    }

    /** Run id of the weights serving now; empty before the first version or for versions without one. */
    public String currentRunId() {
        return currentRunId;
    }

    /** Prompts issued for another policy, acked without sampling. */
    public long promptsForeign() {
        return promptsForeign.get();
    }

    /** Prompts sampled below their {@code minPolicyVersion} after waiting for it in vain. */
    public long versionWaitsExpired() {
        return versionWaitsExpired.get();
    }

    /** Time spent sampling, in seconds. */
    public double samplingSeconds() {
        return samplingNanos.get() / 1e9;
    }

    @Override
    public String toString() {
        return String.format("version=%d%s prompts=%d groups=%d deadLettered=%d (undecodable=%d otherRuns=%d) tokens=%d tok/s=%.0f "
                        + "(serving %.0f) refusedVersions=%d (unsigned=%d badSignature=%d) failedBatches=%d%s",
                currentVersion(), currentRunId.isEmpty() ? "" : "@" + currentRunId, promptsConsumed(), groupsPublished(),
                deadLettered(), promptsUndecodable(), promptsOfOtherRuns(), tokensGenerated(), tokensPerSecond(),
                servingTokensPerSecond(), versionsRefused(), versionsUnsigned(), versionsBadSignature(), batchFailures(),
                nucleusLimitedSteps() == 0 ? "" : " nucleusCapped=" + nucleusLimitedSteps());
    }
}
