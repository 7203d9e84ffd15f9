package org.rollstream.transport;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A demand-driven {@link Flux} over a plain {@code KafkaConsumer} in a consumer group.
 *
 * <ul>
 *   <li>One thread owns the consumer (it is not thread-safe) and only polls, decodes and commits;
 *       records reach user code on the delivery scheduler, so slow processing never stalls polling.</li>
 *   <li>Backpressure: when downstream has no demand the assigned partitions are paused and the
 *       thread keeps polling (so the group keeps the member); they resume when demand returns.
 *       At most {@code maxBuffered} records wait between the poll thread and user code.</li>
 *   <li>Offsets are committed only for the contiguous acked prefix of each partition, every
 *       {@code commitInterval}, synchronously when partitions are revoked, and on close.</li>
 *   <li>Records whose value fails to decode go to {@code <topic>.dlq} with the original bytes and
 *       never reach downstream; they count as acked once the dead letter is written.</li>
 *   <li>Cancelling the Flux or {@link #close()} is graceful: no new records are handed out,
 *       records already in user hands get up to {@code closeTimeout} to be acked, acked offsets
 *       are committed, then the consumer leaves the group.</li>
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
        return polled.publishOn(options.deliveryScheduler, options.maxBuffered)
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

        /** Where decode failures and {@link Received#fail} go; by default one owned by this consumer. */
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
                o.deadLetters = new DeadLetterPublisher(o.settings, who);
                o.ownsDeadLetters = true;
            }
            return new ReactiveConsumer<>(o);
        }
    }
}
