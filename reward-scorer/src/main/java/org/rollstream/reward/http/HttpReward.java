package org.rollstream.reward.http;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.rollstream.reward.ComponentScore;
import org.rollstream.reward.ExternalOptions;
import org.rollstream.reward.GroupRewardFunction;
import org.rollstream.reward.RewardException;
import org.rollstream.reward.RewardInput;
import org.rollstream.reward.RewardUnavailableException;
import org.rollstream.transport.time.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A reward computed by an HTTP endpoint: each group is POSTed as one JSON batch
 * ({@link HttpRewardProtocol} describes both formats) and the answer gives one reward per completion.
 *
 * <p>Configured as {@code judge=0.5,judge.type=http,judge.url=http://host:8000/score} plus options:
 * <ul>
 *   <li>{@code format} rollstream | openrlhf (default rollstream);</li>
 *   <li>{@code timeout} per request (default 30s); {@code retries} after the first request (default 5);
 *       {@code backoff} first wait, doubled per retry with full jitter up to {@code max-backoff}
 *       (default 200ms and 5s);</li>
 *   <li>{@code patience}: how long one group may spend retrying and waiting for an open circuit's
 *       probe before it is handed back (default 60s);</li>
 *   <li>{@code concurrency} requests in flight at most (default 8); a group waits up to {@code timeout}
 *       for a slot;</li>
 *   <li>{@code breaker-failures} failed requests in a row that open the circuit (default 5) and
 *       {@code breaker-open} how long it stays open before one probe (default 10s). While it is open,
 *       groups wait for the probe (within their patience) instead of failing, so an endpoint that is
 *       down for a while stalls the scorer (backpressure) rather than spending every group's retries.</li>
 * </ul>
 *
 * <p>Contract. A timeout, a connection failure, 5xx, 408 or 429 is retried within the call; when the
 * retries or the patience are spent, or no slot frees up, the call throws
 * {@link RewardUnavailableException} and the scorer service delivers the group again later (then
 * dead-letters it). Any other 4xx, or a 2xx answer that is not usable (not JSON, the wrong number of
 * rewards, NaN), throws {@link RewardException} at once: the group is dead-lettered with the reason.
 * No failure ever yields a reward. Thread-safe; {@link #close} releases the client.
 */
public final class HttpReward implements GroupRewardFunction, AutoCloseable {
    public static final String TYPE = "http";
    private static final Logger log = LoggerFactory.getLogger(HttpReward.class);
    private static final Set<String> OPTIONS = Set.of("url", "format", "timeout", "retries", "backoff", "max-backoff",
            "patience", "concurrency", "breaker-failures", "breaker-open");
    /** How often a caller waiting for a half-open probe looks again. */
    private static final long OPEN_POLL_MS = 50;

    private final String name;
    private final URI url;
    private final HttpRewardProtocol protocol;
    private final Duration timeout;
    private final int retries;
    private final Duration backoff;
    private final Duration maxBackoff;
    private final Duration patience;
    private final int concurrency;
    private final Semaphore slots;
    private final CircuitBreaker breaker;
    private final Time time;
    private final HttpClient client;
    private final HttpRewardStats stats = new HttpRewardStats();
    /** The counters go to the log at most this often, so a long run shows latency and errors as it goes. */
    private static final long LOG_EVERY_NS = Duration.ofMinutes(1).toNanos();
    private final java.util.concurrent.atomic.AtomicLong lastLogNs;

    private HttpReward(ExternalOptions o, Time time) {
        o.checkKnown(OPTIONS);
        this.name = o.reward();
        String u = o.required("url");
        try {
            this.url = URI.create(u);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("reward '" + name + "' url is not a URI: " + u);
        }
        if (!"http".equals(url.getScheme()) && !"https".equals(url.getScheme())) {
            throw new IllegalArgumentException("reward '" + name + "' url must be http:// or https://, got " + u);
        }
        this.protocol = new HttpRewardProtocol(o.choice("format", HttpRewardProtocol.ROLLSTREAM,
                HttpRewardProtocol.ROLLSTREAM, HttpRewardProtocol.OPENRLHF), name);
        this.timeout = o.duration("timeout", Duration.ofSeconds(30), false);
        this.retries = o.integer("retries", 5, 0);
        this.backoff = o.duration("backoff", Duration.ofMillis(200), true);
        this.maxBackoff = o.duration("max-backoff", Duration.ofSeconds(5), true);
        if (maxBackoff.compareTo(backoff) < 0) {
            throw new IllegalArgumentException("reward '" + name + "' needs backoff <= max-backoff");
        }
        this.patience = o.duration("patience", Duration.ofSeconds(60), true);
        this.concurrency = o.integer("concurrency", 8, 1);
        this.slots = new Semaphore(concurrency, true);
        this.breaker = new CircuitBreaker(o.integer("breaker-failures", 5, 1), o.duration("breaker-open", Duration.ofSeconds(10), false), time);
        this.time = time;
        this.lastLogNs = new java.util.concurrent.atomic.AtomicLong(time.nanoseconds());
        this.client = HttpClient.newBuilder().connectTimeout(timeout).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** @throws IllegalArgumentException for a missing url or a bad option */
    public static HttpReward create(ExternalOptions options) {
        return new HttpReward(options, Time.SYSTEM);
    }

    @Override
    public String name() {
        return name;
    }

    public HttpRewardStats stats() {
        return stats;
    }

    @Override
    public List<ComponentScore> scoreGroup(List<RewardInput> group) {
        stats.calls.incrementAndGet();
        byte[] body = protocol.request(group);
        try {
            if (!slots.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw unavailable("all " + concurrency + " request slots stayed busy for " + timeout.toMillis() + " ms", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while waiting for a request slot", e);
        }
        try {
            return post(body, group.size());
        } finally {
            slots.release();
            long now = time.nanoseconds();
            long last = lastLogNs.get();
            if (now - last >= LOG_EVERY_NS && lastLogNs.compareAndSet(last, now)) {
                log.info("reward {} ({}): {}", name, url, stats);
            }
        }
    }

    private List<ComponentScore> post(byte[] body, int expected) {
        String last = "no request sent";
        Throwable lastCause = null;
        long deadline = time.nanoseconds() + patience.toNanos();
        int failed = 0;
        while (true) {
            if (!breaker.tryAcquire()) {
                // open (or another caller is probing): wait for the probe rather than burn the group's retries
                long waitMs = Math.max(OPEN_POLL_MS, breaker.remainingOpen().toMillis());
                if (time.nanoseconds() + waitMs * 1_000_000 - deadline > 0) {
                    stats.rejectedOpen.incrementAndGet();
                    throw unavailable("circuit open for another " + breaker.remainingOpen().toMillis()
                            + " ms after repeated failures, beyond the patience of " + patience.toMillis() + " ms; last: " + last, lastCause);
                }
                sleep(waitMs);
                continue;
            }
            HttpRequest req = HttpRequest.newBuilder(url).timeout(timeout).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
            stats.requests.incrementAndGet();
            long t0 = time.nanoseconds();
            HttpResponse<byte[]> resp;
            try {
                resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
            } catch (HttpTimeoutException e) {
                stats.timeouts.incrementAndGet();
                breaker.onFailure();
                last = "no answer within " + timeout.toMillis() + " ms";
                lastCause = e;
                if (!backOff(++failed, deadline)) {
                    break;
                }
                continue;
            } catch (IOException e) {
                stats.connectErrors.incrementAndGet();
                breaker.onFailure();
                last = (e instanceof ConnectException ? "cannot connect to " + url : e.toString());
                lastCause = e;
                if (!backOff(++failed, deadline)) {
                    break;
                }
                continue;
            } catch (InterruptedException e) {
                breaker.release();
                Thread.currentThread().interrupt();
                throw unavailable("interrupted", e);
            }
            stats.latency(time.nanoseconds() - t0);
            int status = resp.statusCode();
            if (status >= 500 || status == 408 || status == 429) {
                stats.serverErrors.incrementAndGet();
                breaker.onFailure();
                last = "HTTP " + status + " " + HttpRewardProtocol.excerpt(resp.body());
                lastCause = null;
                if (!backOff(++failed, deadline)) {
                    break;
                }
                continue;
            }
            breaker.onSuccess(); // it answered: the endpoint is up, whatever it said
            if (status < 200 || status >= 300) {
                stats.clientErrors.incrementAndGet();
                throw new RewardException(name, "HTTP " + status + " from " + url + " (not retried): " + HttpRewardProtocol.excerpt(resp.body()), null);
            }
            try {
                HttpRewardProtocol.Response r = protocol.parse(resp.body(), expected);
                if (!r.info().isEmpty() && log.isDebugEnabled()) {
                    log.debug("reward {} info: {}", name, r.info());
                }
                stats.scored.incrementAndGet();
                return r.scores();
            } catch (HttpRewardProtocol.BadResponseException e) {
                stats.badResponses.incrementAndGet();
                throw new RewardException(name, "bad answer from " + url + ": " + e.getMessage(), null);
            }
        }
        throw unavailable(failed + " requests failed; last: " + last, lastCause);
    }

    /**
     * After the {@code failed}-th failed request: waits before the next one and returns true, or
     * returns false when the retries or the patience are spent. Full jitter: a uniform wait in
     * [0, min(max-backoff, backoff·2^(n-1))], so retrying scorers do not march in step.
     */
    private boolean backOff(int failed, long deadline) {
        if (failed > retries) {
            return false;
        }
        long cap = Math.min(backoff.toMillis() << Math.min(failed - 1, 20), maxBackoff.toMillis());
        long ms = ThreadLocalRandom.current().nextLong(cap + 1);
        if (time.nanoseconds() + ms * 1_000_000 - deadline > 0) {
            return false;
        }
        stats.retries.incrementAndGet();
        sleep(ms);
        return true;
    }

    private void sleep(long ms) {
        try {
            time.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("interrupted while waiting", e);
        }
    }

    private RewardUnavailableException unavailable(String why, Throwable cause) {
        stats.unavailable.incrementAndGet();
        return new RewardUnavailableException(name, why + " (" + url + ")", cause);
    }

    @Override
    public void close() {
        // HttpClient of Java 17 has no close; its threads end once it is unreachable
        log.info("reward {} ({}) closing: {}", name, url, stats);
    }
}
