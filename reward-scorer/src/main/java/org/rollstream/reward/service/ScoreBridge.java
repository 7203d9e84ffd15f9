package org.rollstream.reward.service;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.rollstream.reward.topic.BridgeJson;
import org.rollstream.reward.topic.PartialRewardCodec;
import org.rollstream.reward.topic.PartialScore;
import org.rollstream.schemas.Topics;
import org.rollstream.schemas.records.SampledGroup;
import org.rollstream.schemas.serde.AvroCodec;
import org.rollstream.transport.KafkaSettings;
import org.rollstream.transport.ReactiveConsumer;
import org.rollstream.transport.ReactiveProducer;
import org.rollstream.transport.Received;
import org.rollstream.transport.errors.BadRecordException;
import org.rollstream.transport.errors.RetriableRecordException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Lets a program in any language score over the topic protocol without a Kafka or Avro library:
 * the bridge reads {@code rollouts.sampled} in its own consumer group, writes each group as one JSON
 * line to the program's stdin ({@link BridgeJson}), reads one JSON line per group back from its
 * stdout (the JSON variant of {@code PartialReward}, in any order), and produces it to
 * {@code rewards.partial} keyed by group id, as Avro. A sampled record is acked only once its
 * component is on the topic.
 *
 * <ul>
 *   <li>At most {@code maxInFlight} groups wait for an answer; a group not answered within
 *       {@code answerTimeout} is delivered again later (then dead-lettered to
 *       {@code rollouts.sampled.dlq} by this bridge's consumer; the scorer's own copy is unaffected).</li>
 *   <li>An answer line that is not a partial reward is logged and counted; its group times out.</li>
 *   <li>The program's stderr goes to this process's stderr. When the program exits, the bridge
 *       stops: {@link #failure()} says why, and unanswered groups stay uncommitted for the next run.</li>
 * </ul>
 */
public final class ScoreBridge implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ScoreBridge.class);
    private static final AvroCodec<SampledGroup> SAMPLED = AvroCodec.of(SampledGroup.class);

    private final String component;
    private final Duration answerTimeout;
    private final Process process;
    private final BufferedWriter stdin;
    private final ReactiveProducer producer;
    private final ReactiveConsumer<SampledGroup> consumer;
    private final Map<String, CompletableFuture<PartialScore>> waiting = new ConcurrentHashMap<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong badLines = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private final Thread reader;
    private volatile Disposable subscription;
    private volatile boolean closing;

    private ScoreBridge(KafkaSettings settings, String consumerGroup, String component, List<String> command,
                        int maxInFlight, Duration answerTimeout) throws IOException {
        this.component = component;
        this.answerTimeout = answerTimeout;
        this.process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        this.stdin = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.producer = ReactiveProducer.create(settings, "bridge-" + component);
        this.consumer = ReactiveConsumer.builder(settings, consumerGroup, SAMPLED::decode).topics(Topics.ROLLOUTS_SAMPLED)
                .clientId("bridge-" + component).maxBuffered(maxInFlight).build();
        this.reader = new Thread(this::readAnswers, "rollstream-bridge-" + component);
        this.reader.setDaemon(true);
    }

    /**
     * Starts the program and begins feeding it.
     *
     * @param command the program and its arguments (run without a shell)
     * @throws IOException when the program cannot be started
     */
    public static ScoreBridge start(KafkaSettings settings, String consumerGroup, String component, List<String> command,
                                    int maxInFlight, Duration answerTimeout) throws IOException {
        ScoreBridge b = new ScoreBridge(settings, consumerGroup, component, command, maxInFlight, answerTimeout);
        b.reader.start();
        b.subscription = b.consumer.receive().flatMap(b::process, maxInFlight)
                .subscribe(v -> { }, e -> b.fail("consuming stopped", e));
        log.info("bridge for component '{}' started: {}", component, command);
        return b;
    }

    private Mono<Void> process(Received<SampledGroup> r) {
        String groupId = r.value().getGroupId();
        CompletableFuture<PartialScore> answer = waiting.computeIfAbsent(groupId, k -> new CompletableFuture<>());
        try {
            String line = BridgeJson.group(r.value(), component);
            synchronized (stdin) {
                stdin.write(line);
                stdin.write('\n');
                stdin.flush();
            }
            sent.incrementAndGet();
        } catch (IOException e) {
            waiting.remove(groupId, answer);
            fail("cannot write to the scorer program", e);
            r.nack(new RetriableRecordException("the scorer program is gone: " + e.getMessage(), e));
            return Mono.empty();
        }
        return Mono.fromFuture(answer).timeout(answerTimeout)
                .flatMap(p -> producer.send(Topics.REWARDS_PARTIAL, groupId, PartialRewardCodec.encodeAvro(p)))
                .doOnSuccess(m -> {
                    answered.incrementAndGet();
                    r.ack();
                })
                .onErrorResume(e -> {
                    waiting.remove(groupId, answer);
                    if (e instanceof TimeoutException) {
                        timedOut.incrementAndGet();
                        r.nack(new RetriableRecordException("no answer for group " + groupId + " within " + answerTimeout.toMillis() + " ms"));
                    } else {
                        r.nack(new RetriableRecordException("could not publish the component of group " + groupId + ": " + e, e));
                    }
                    return Mono.empty();
                }).then();
    }

    private void readAnswers() {
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                PartialScore p;
                try {
                    p = BridgeJson.answer(line, component);
                } catch (BadRecordException e) {
                    badLines.incrementAndGet();
                    log.warn("ignoring a line from the scorer program that is not a partial reward ({}): {}", e.getMessage(),
                            line.length() > 200 ? line.substring(0, 200) + "…" : line);
                    continue;
                }
                CompletableFuture<PartialScore> f = waiting.remove(p.groupId());
                if (f == null) {
                    log.warn("the scorer program answered group {}, which is not waiting (late or repeated)", p.groupId());
                } else {
                    f.complete(p);
                }
            }
            fail("the scorer program exited", new IllegalStateException("exit code " + process.waitFor()));
        } catch (IOException | InterruptedException e) {
            fail("cannot read from the scorer program", e);
        }
    }

    private void fail(String what, Throwable e) {
        if (closing) {
            return; // the program ends because we closed its stdin
        }
        if (failure.compareAndSet(null, e)) {
            log.error("bridge for '{}': {}: {}", component, what, e.toString());
        }
    }

    /** Why the bridge stopped working, if it did (the program exited, or consuming failed). */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** A progress line. */
    public String status() {
        return "sent=" + sent + " answered=" + answered + " badLines=" + badLines + " timedOut=" + timedOut + " waiting=" + waiting.size();
    }

    public long answered() {
        return answered.get();
    }

    public long badLines() {
        return badLines.get();
    }

    /** Stops consuming (answered groups are committed), closes the program's stdin and ends it. */
    @Override
    public void close() {
        closing = true;
        consumer.close();
        Disposable s = subscription;
        if (s != null) {
            s.dispose();
        }
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the program may be gone already
        }
        try {
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroy();
                process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
        producer.flush();
        producer.close();
        log.info("bridge for '{}' closed: {}", component, status());
    }
}
