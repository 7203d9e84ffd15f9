package org.rollstream.transport.weights;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import org.rollstream.schemas.records.WeightChunk;

/** Cuts a {@link WeightBlob} into {@link WeightChunk}s of at most a given size, each with its CRC-32C. */
public final class WeightChunks {
    private WeightChunks() {
    }

    /** @param chunkBytes the most data per chunk (the weights topic takes {@code Topics.WEIGHT_CHUNK_BYTES}) */
    public static List<WeightChunk> split(WeightBlob blob, int chunkBytes) {
        if (chunkBytes < 1) {
            throw new IllegalArgumentException("chunk size must be positive, got " + chunkBytes);
        }
        byte[] b = blob.bytes();
        int count = Math.max(1, (b.length + chunkBytes - 1) / chunkBytes);
        List<WeightChunk> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int off = i * chunkBytes;
            int len = Math.min(chunkBytes, b.length - off);
            out.add(WeightChunk.newBuilder().setPolicy(blob.policy()).setRunId(blob.runId())
                    .setIncarnation(blob.incarnation()).setVersion(blob.version()).setIndex(i).setCount(count)
                    .setOffset(off).setTotalBytes(b.length).setSha256(blob.sha256()).setCrc32c(crc(b, off, len))
                    .setDtype(blob.fp16() ? "F16" : "F32").setData(ByteBuffer.wrap(b, off, len).slice()).build());
        }
        return out;
    }

    /** sha-256 hex of {@code bytes}, as {@link WeightBlob#sha256()} wants it. */
    public static String sha256(byte[] bytes) {
        return Sha256.hex(bytes);
    }

    static long crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return c.getValue();
    }

    static long crc(ByteBuffer data) {
        CRC32C c = new CRC32C();
        c.update(data.duplicate());
        return c.getValue();
    }
}
