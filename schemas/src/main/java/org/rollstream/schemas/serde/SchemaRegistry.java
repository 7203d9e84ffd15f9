package org.rollstream.schemas.serde;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/**
 * Writer schemas by their 64-bit Avro fingerprint (CRC-64-AVRO of the parsing canonical form), so a
 * reader can resolve a record written by any registered earlier version of a schema.
 *
 * <p>The default registry holds every current schema plus the earlier versions listed in
 * {@code META-INF/rollstream/schema-history.list} files on the class path (one resource path of an
 * {@code .avsc} per line). A release that changes a schema appends the previous {@code .avsc} there.
 */
public final class SchemaRegistry implements SchemaStore {
    static final String HISTORY_INDEX = "META-INF/rollstream/schema-history.list";

    private static final SchemaRegistry DEFAULT = loadDefault();

    private final Map<Long, Schema> byFingerprint = new ConcurrentHashMap<>();

    public SchemaRegistry() {
    }

    /** The process-wide registry: current schemas and the shipped history. */
    public static SchemaRegistry defaultRegistry() {
        return DEFAULT;
    }

    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    /** Registers a writer schema; returns its fingerprint. */
    public long register(Schema schema) {
        long fp = fingerprint(schema);
        byFingerprint.putIfAbsent(fp, schema);
        return fp;
    }

    /** Parses and registers an {@code .avsc} document (with its own named types). */
    public long register(String avscJson) {
        return register(new Schema.Parser().parse(avscJson));
    }

    @Override
    public Schema findByFingerprint(long fingerprint) {
        return byFingerprint.get(fingerprint);
    }

    public Collection<Schema> schemas() {
        return List.copyOf(byFingerprint.values());
    }

    private static SchemaRegistry loadDefault() {
        SchemaRegistry registry = new SchemaRegistry();
        for (Schema s : CurrentSchemas.all()) {
            registry.register(s);
        }
        ClassLoader cl = SchemaRegistry.class.getClassLoader();
        try {
            Enumeration<URL> indexes = cl.getResources(HISTORY_INDEX);
            while (indexes.hasMoreElements()) {
                URL index = indexes.nextElement();
                for (String path : readLines(index.openStream())) {
                    try (InputStream in = cl.getResourceAsStream(path)) {
                        if (in == null) {
                            throw new IllegalStateException(index + " lists " + path + " but no such resource exists");
                        }
                        registry.register(new String(in.readAllBytes(), StandardCharsets.UTF_8));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema history", e);
        }
        return registry;
    }

    private static List<String> readLines(InputStream in) throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        }
    }
}
