package org.rollstream.transport;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.rollstream.transport.time.Time;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A demand-driven {@link Flux} over a plain {@code KafkaConsumer} in a consumer group.
 *
 * <ul>
 *   <li>One thread owns the consumer (it is not thread-safe) and only polls, decodes, pauses and
 *       commits; records reach user code on the delivery scheduler, so slow processing never
 *       stalls polling. Nothing on that thread waits for a dead letter or an admin call once
 *       polling has started.</li>
 *   <li>Start-up, before the first poll: the cluster must answer within 10 s, and a missing
 *       {@code <topic>.dlq} is created, so a dead letter never waits for a topic.</li>
 *   <li>Backpressure: when downstream has no demand the assigned partitions are paused and the
 *       thread keeps polling (so the group keeps the member); they resume when demand returns.
 *       At most {@code maxBuffered} records wait between the poll thread and user code.</li>
 *   <li>Bounded memory: per partition at most {@code ackWindow} records between the committed
 *       position and the newest polled one are held (plus at most one poll's worth, up to
 *       {@code max.poll.records}); when the window is full the partition is paused until its
 *       oldest records are settled, so one slow record cannot make memory grow.</li>
 *   <li>Every handed-out record must be settled with {@link Received#ack()} or
 *       {@link Received#nack(Throwable)}; see {@link Received} for what each kind of error does.
 *       Retriable failures, and records not settled within {@code processingTimeout} of reaching
 *       user code, are delivered again after a backoff ({@link RetryPolicy}), then dead-lettered:
 *       a record is never stuck, and commits move past it.</li>
 *   <li>Offsets are committed only for the contiguous settled prefix of each partition, every
 *       {@code commitInterval}, synchronously when partitions are revoked, and on close.</li>
 *   <li>Records whose value fails to decode go to {@code <topic>.dlq} with the original bytes and
 *       never reach downstream; they count as settled once the dead letter is written.</li>
 *   <li>Cancelling the Flux or {@link #close()} is graceful: no new records are handed out,
 *       records already in user hands get up to {@code closeTimeout} to be settled, settled
 *       offsets are committed, then the consumer leaves the group. Records waiting for a retry
 *       are left uncommitted for the next owner.</li>
 *   <li>Errors: a fatal {@code nack}, a dead letter that cannot be written after retries, an
 *       unreachable cluster or a consumer failure end the Flux with that error, after the same
 *       graceful close. A bad record never does.</li>
 * </ul>
 * A ReactiveConsumer serves one subscription; create a new one to consume again.
 */
public final class ReactiveConsumer<V> implements AutoCloseable {
    private final Options<V> options;
    private final AtomicBoolean subscribed = new AtomicBoolean();
    private final ConsumerStats stats = new ConsumerStats();
    private volatile ConsumerLoop<V> loop;

    private ReactiveConsumer(Options<V> options) {
        this.options = options;
    }

    public static <V> Builder<V> builder(KafkaSettings settings, String groupId, Function<byte[], V> decoder) {
        return new Builder<>(settings, groupId, decoder);
    }

    /** The records, in partition order, on the delivery scheduler. Subscribe once. */
    public Flux<Received<V>> receive() {
        Flux<Received<V>> polled = Flux.create(sink -> {
            if (!subscribed.compareAndSet(false, true)) {
                sink.error(new IllegalStateException("a ReactiveConsumer serves one subscription"));
                return;
            }
            ConsumerLoop<V> l = new ConsumerLoop<>(options, sink, stats);
            loop = l;
            sink.onRequest(l::request);
            sink.onDispose(l::stop);
            l.start();
        }, FluxSink.OverflowStrategy.BUFFER);
        @SuppressWarnings({"unchecked", "rawtypes"})
        Class<Received<V>> type = (Class) Received.class;
        // discard hook: records still queued for delivery at cancel are not waited for at close
        // the processing deadline starts as user code receives the record, not while it is queued
        return polled.publishOn(options.deliveryScheduler, options.maxBuffered)
                .doOnNext(r -> r.markDelivered(loop.deadlineFromNow()))
                .doOnDiscard(type, Received::discard);
    }

    public ConsumerStats stats() {
        return stats;
    }

    /** Stops consuming, commits what was acked, and waits until the consumer has left the group. */
    @Override
    public void close() {
        ConsumerLoop<V> l = loop;
        if (l != null) {
            l.stop();
            l.awaitTermination(options.closeTimeout.plusSeconds(30));
        } else if (subscribed.compareAndSet(false, true) && options.ownsDeadLetters) {
            options.deadLetters.close(); // never subscribed: the loop that would close it never ran
        }
    }

    /** Settings of one consumer; immutable once built. */
    static final class Options<V> {
        final KafkaSettings settings;
        final String groupId;
        final Function<byte[], V> decoder;
        List<String> topics = List.of();
        DeadLetterPublisher deadLetters;
        boolean ownsDeadLetters;
        int maxBuffered = 256;
        int ackWindow = 1024;
        RetryPolicy retry = RetryPolicy.DEFAULT;
        Duration processingTimeout = Duration.ofMinutes(5);
        Time time = Time.SYSTEM;
        Duration commitInterval = Duration.ofMillis(200);
        Duration closeTimeout = Duration.ofSeconds(10);
        Duration pollTimeout = Duration.ofMillis(100);
        Scheduler deliveryScheduler = Schedulers.boundedElastic();
        String clientId;

        Options(KafkaSettings settings, String groupId, Function<byte[], V> decoder) {
            this.settings = Objects.requireNonNull(settings);
            this.groupId = Objects.requireNonNull(groupId);
            this.decoder = Objects.requireNonNull(decoder);
        }
    }

    public static final class Builder<V> {
        private final Options<V> o;

        private Builder(KafkaSettings settings, String groupId, Function<byte[], V> decoder) {
            o = new Options<>(settings, groupId, decoder);
        }

        public Builder<V> topics(String... topics) {
            o.topics = List.of(topics);
            return this;
        }

        public Builder<V> topics(List<String> topics) {
            o.topics = List.copyOf(topics);
            return this;
        }

        /** Where dead letters go; by default a publisher owned by this consumer. */
        public Builder<V> deadLetters(DeadLetterPublisher publisher) {
            o.deadLetters = publisher;
            return this;
        }

        /** Records buffered between the poll thread and user code before partitions are paused. */
        public Builder<V> maxBuffered(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("maxBuffered must be positive");
            }
            o.maxBuffered = records;
            return this;
        }

        /**
         * Records of one partition that may be held between its committed position and the newest
         * polled record (default 1024); when reached, the partition is paused until its oldest
         * records are settled.
         */
        public Builder<V> ackWindow(int records) {
            if (records < 1) {
                throw new IllegalArgumentException("ackWindow must be positive");
            }
            o.ackWindow = records;
            return this;
        }

        /** How often and after what waits retriable failures are delivered again; default {@link RetryPolicy#DEFAULT}. */
        public Builder<V> retry(RetryPolicy policy) {
            o.retry = Objects.requireNonNull(policy);
            return this;
        }

        /**
         * How long user code may hold a record without settling it (default 5 minutes); after that
         * the delivery counts as a retriable failure. Size it above the longest legitimate wait,
         * e.g. an actor holding prompts until a policy version arrives.
         */
        public Builder<V> processingTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("processingTimeout must be positive");
            }
            o.processingTimeout = timeout;
            return this;
        }

        /** The clock of deadlines, backoffs and commit intervals; tests pass a ManualTime. */
        public Builder<V> time(Time time) {
            o.time = Objects.requireNonNull(time);
            return this;
        }

        public Builder<V> commitInterval(Duration interval) {
            o.commitInterval = interval;
            return this;
        }

        /** How long close waits for records in user hands to be acked; zero = commit what is acked now. */
        public Builder<V> closeTimeout(Duration timeout) {
            o.closeTimeout = timeout;
            return this;
        }

        public Builder<V> deliveryScheduler(Scheduler scheduler) {
            o.deliveryScheduler = scheduler;
            return this;
        }

        public Builder<V> clientId(String clientId) {
            o.clientId = clientId;
            return this;
        }

        public ReactiveConsumer<V> build() {
            if (o.topics.isEmpty()) {
                throw new IllegalStateException("no topics to consume");
            }
            if (o.deadLetters == null) {
                String who = o.clientId != null ? o.clientId : o.groupId;
                o.deadLetters = new DeadLetterPublisher(ReactiveProducer.create(o.settings, who + "-dlq"), true, who, o.time);
                o.ownsDeadLetters = true;
            }
            return new ReactiveConsumer<>(o);
        }
    }
}
