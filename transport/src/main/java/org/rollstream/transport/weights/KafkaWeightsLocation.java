package org.rollstream.transport.weights;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a version's chunks are on the weights topic:
 * {@code kafka:<topic>/<runId>/<version>?incarnation=I&partition=P&offset=O&chunks=N}, the offset being
 * that of the first chunk (all chunks follow it on the one partition). The announcement is sent only
 * after every chunk is acknowledged, so a reader of the announcement finds them all before the end
 * of the log as it was then.
 */
public record KafkaWeightsLocation(String topic, String runId, long incarnation, long version, int partition, long offset,
                                   int chunks) {
    public static final String SCHEME = "kafka:";

    public String format() {
        return SCHEME + topic + "/" + runId + "/" + version + "?incarnation=" + incarnation + "&partition=" + partition
                + "&offset=" + offset + "&chunks=" + chunks;
    }

    /** @throws WeightStoreException when {@code location} is not such a URI */
    public static KafkaWeightsLocation parse(String location) {
        try {
            if (location == null || !location.startsWith(SCHEME)) {
                throw new IllegalArgumentException("does not start with " + SCHEME);
            }
            String rest = location.substring(SCHEME.length());
            int q = rest.indexOf('?');
            if (q < 0) {
                throw new IllegalArgumentException("no query");
            }
            String[] path = rest.substring(0, q).split("/");
            if (path.length != 3) {
                throw new IllegalArgumentException("path is not <topic>/<runId>/<version>");
            }
            Map<String, String> query = new LinkedHashMap<>();
            for (String kv : rest.substring(q + 1).split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    query.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            KafkaWeightsLocation loc = new KafkaWeightsLocation(path[0], path[1], Long.parseLong(query.getOrDefault("incarnation", "0")),
                    Long.parseLong(path[2]), Integer.parseInt(query.getOrDefault("partition", "0")),
                    Long.parseLong(required(query, "offset")), Integer.parseInt(required(query, "chunks")));
            if (loc.offset < 0 || loc.chunks < 1 || loc.partition < 0) {
                throw new IllegalArgumentException("offset, partition or chunk count out of range");
            }
            return loc;
        } catch (RuntimeException e) {
            throw new WeightStoreException("not a Kafka weights location: '" + location + "' (" + e.getMessage() + ")", e);
        }
    }

    private static String required(Map<String, String> q, String key) {
        String v = q.get(key);
        if (v == null) {
            throw new IllegalArgumentException("no " + key);
        }
        return v;
    }
}
