package org.rollstream.transport.weights;

import org.rollstream.transport.KafkaSettings;

/**
 * What an actor fetches announced weights with: a location on the weights topic
 * ({@code kafka:...}) from the cluster, anything else as a file path. The announcement decides,
 * so an actor follows whichever store the learner publishes to; the Kafka consumer opens on the
 * first Kafka location, and from then on reads new versions as their chunks arrive
 * ({@link KafkaWeightStore#prefetching}).
 */
public final class WeightReader implements WeightStore {
    private final DirectoryWeightStore files = DirectoryWeightStore.reader();
    private final KafkaWeightStore kafka;

    public WeightReader(KafkaSettings settings, String clientId) {
        this.kafka = KafkaWeightStore.prefetching(settings, clientId);
    }

    @Override
    public String put(WeightBlob blob) {
        throw new UnsupportedOperationException("a weight reader stores nothing");
    }

    @Override
    public Fetched fetch(String location, String sha256) {
        return kafka.handles(location) ? kafka.fetch(location, sha256) : files.fetch(location, sha256);
    }

    @Override
    public boolean handles(String location) {
        return kafka.handles(location) || files.handles(location);
    }

    @Override
    public void close() {
        kafka.close();
    }
}
