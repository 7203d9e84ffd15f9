package org.rollstream.reward.http;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of one HTTP reward, readable from any thread; {@link #toString} is a log line. */
public final class HttpRewardStats {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong scored = new AtomicLong();
    final AtomicLong requests = new AtomicLong();
    final AtomicLong retries = new AtomicLong();
    final AtomicLong timeouts = new AtomicLong();
    final AtomicLong serverErrors = new AtomicLong();
    final AtomicLong connectErrors = new AtomicLong();
    final AtomicLong clientErrors = new AtomicLong();
    final AtomicLong badResponses = new AtomicLong();
    final AtomicLong unavailable = new AtomicLong();
    final AtomicLong rejectedOpen = new AtomicLong();
    final AtomicLong latencyCount = new AtomicLong();
    final AtomicLong latencyTotalUs = new AtomicLong();
    final AtomicLong latencyMaxUs = new AtomicLong();

    void latency(long nanos) {
        long us = nanos / 1000;
        latencyCount.incrementAndGet();
        latencyTotalUs.addAndGet(us);
        latencyMaxUs.accumulateAndGet(us, Math::max);
    }

    /** Groups asked of the endpoint. */
    public long calls() { return calls.get(); }
    /** Groups it scored. */
    public long scored() { return scored.get(); }
    /** HTTP requests sent, retries included. */
    public long requests() { return requests.get(); }
    /** Requests repeated after a timeout, 5xx, 408/429 or a connection failure. */
    public long retries() { return retries.get(); }
    public long timeouts() { return timeouts.get(); }
    /** 5xx, 408 and 429 answers. */
    public long serverErrors() { return serverErrors.get(); }
    public long connectErrors() { return connectErrors.get(); }
    /** 4xx answers other than 408/429: the group is dead-lettered without retrying. */
    public long clientErrors() { return clientErrors.get(); }
    /** 2xx answers that were not usable: not JSON, wrong count, NaN. */
    public long badResponses() { return badResponses.get(); }
    /** Groups given back as "retry later" after the retries were spent or the circuit was open. */
    public long unavailable() { return unavailable.get(); }
    /** Groups refused at once because the circuit was open. */
    public long rejectedOpen() { return rejectedOpen.get(); }
    /** Requests that got an answer (any status). */
    public long latencyCount() { return latencyCount.get(); }
    public double latencyMeanMs() {
        long n = latencyCount.get();
        return n == 0 ? 0 : latencyTotalUs.get() / 1000.0 / n;
    }
    public double latencyMaxMs() { return latencyMaxUs.get() / 1000.0; }

    @Override
    public String toString() {
        return String.format("calls=%d scored=%d requests=%d retries=%d timeouts=%d 5xx=%d connect=%d 4xx=%d bad=%d unavailable=%d "
                        + "rejectedOpen=%d latency mean=%.1fms max=%.1fms",
                calls(), scored(), requests(), retries(), timeouts(), serverErrors(), connectErrors(), clientErrors(), badResponses(),
                unavailable(), rejectedOpen(), latencyMeanMs(), latencyMaxMs());
    }
}
