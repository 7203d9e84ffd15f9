package org.rollstream.schemas.serde;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Avro single-object encoding of one record type: {@code C3 01}, the writer schema's 8-byte
 * little-endian fingerprint, then the binary body. Reading resolves the writer schema through a
 * {@link SchemaRegistry}, so records written by a registered earlier version still decode.
 *
 * <p>Thread-safe: Avro's message encoder and decoder keep per-thread buffers.
 */
public final class AvroCodec<T extends SpecificRecord> {
    private static final int HEADER_BYTES = 10;

    private final Class<T> type;
    private final Schema schema;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;

    private AvroCodec(Class<T> type, SchemaRegistry registry) {
        this.type = type;
        this.schema = SpecificData.get().getSchema(type);
        SpecificData data = SpecificData.getForClass(type);
        this.encoder = new BinaryMessageEncoder<>(data, schema);
        this.decoder = new BinaryMessageDecoder<>(data, schema, registry);
    }

    /** A codec reading with the default registry (current schemas and shipped history). */
    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type, SchemaRegistry.defaultRegistry());
    }

    public static <T extends SpecificRecord> AvroCodec<T> of(Class<T> type, SchemaRegistry registry) {
        return new AvroCodec<>(type, registry);
    }

    public Schema schema() {
        return schema;
    }

    public Class<T> type() {
        return type;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buf = encoder.encode(record);
            byte[] out = new byte[buf.remaining()];
            buf.get(out);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + schema.getFullName(), e);
        }
    }

    /**
     * @throws UnknownSchemaException when the fingerprint names no registered schema
     * @throws RecordDecodeException when the payload is not a readable single-object record
     */
    public T decode(byte[] bytes) {
        if (bytes == null) {
            throw new RecordDecodeException("null payload where a " + schema.getName() + " was expected", null);
        }
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new UnknownSchemaException(schema.getFullName(), fingerprintOf(bytes), e);
        } catch (BadHeaderException e) {
            throw new RecordDecodeException("not an Avro single-object payload (" + bytes.length + " bytes, bad header) for "
                    + schema.getName() + ": " + e.getMessage(), e);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new RecordDecodeException("cannot decode " + schema.getName() + " (" + bytes.length + " bytes): " + e, e);
        }
    }

    public Serializer<T> serializer() {
        return (topic, record) -> record == null ? null : encode(record);
    }

    public Deserializer<T> deserializer() {
        return (topic, bytes) -> bytes == null ? null : decode(bytes);
    }

    private static long fingerprintOf(byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            return 0L;
        }
        return ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
