package org.rollstream.transport.weights;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.BitSet;
import java.util.concurrent.CompletableFuture;

import org.rollstream.schemas.records.WeightChunk;

/**
 * Puts one version back together from its {@link WeightChunk}s, in whatever order they come; chunks
 * of other versions are ignored, a repeated chunk with the same checksum too. Refuses (throws
 * {@link WeightStoreException}) a chunk that fails its CRC-32C or disagrees with the others on count,
 * size or sha-256, and hands out the bytes only when every chunk is in and the whole matches the
 * announced sha-256. Chunks arriving in order (as they do from one partition) are hashed as they
 * come, on a hashing thread of their own, while the reader goes on fetching, so the final check
 * costs little more than the last chunk's hash; out of order, the whole is hashed at the end. Not
 * thread-safe: one reader assembles one version.
 */
public final class ChunkAssembler {
    /** Hashing threads, shared by all assemblers (each chains its own updates in order); daemons, idle ones expire. */
    private static final java.util.concurrent.Executor HASHERS = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "weights-hash");
        t.setDaemon(true);
        return t;
    });

    private final String policy;
    private final String runId;
    private final long incarnation;
    private final long version;
    private final String sha256;
    private byte[] bytes; // allocated with the first chunk
    private int count = -1;
    private long[] crcs;
    private int[] lengths;
    private long[] offsets;
    private long hashedBytes; // bytes 0..hashedBytes-1 are in the running digest
    private boolean runningValid = true; // false once a chunk does not start where the previous ended
    private final MessageDigest running = Sha256.digest(); // touched only by the tasks chained on hashing
    private CompletableFuture<Void> hashing = CompletableFuture.completedFuture(null); // in-order updates, one after another
    private int hashedUpTo; // chunks 0..hashedUpTo-1 are in (or queued for) the running digest
    private final BitSet received = new BitSet();
    private long verifyNanos;

    /** @param sha256 the announced sha-256 of the whole file; null while it is not known (then {@link #bytes(String)} names it) */
    public ChunkAssembler(String policy, String runId, long incarnation, long version, String sha256) {
        this.policy = policy;
        this.runId = runId;
        this.incarnation = incarnation;
        this.version = version;
        this.sha256 = sha256;
    }

    /**
     * Takes a chunk if it belongs to this version.
     *
     * @return true when it was this version's (new or a repeat), false when it belongs to another
     * @throws WeightStoreException when it is corrupt or inconsistent with this version's other chunks
     */
    public boolean accept(WeightChunk c) {
        if (c.getVersion() != version || c.getIncarnation() != incarnation || !runId.equals(c.getRunId().toString())
                || !policy.equals(c.getPolicy().toString())) {
            return false;
        }
        String where = "chunk " + c.getIndex() + " of policy '" + policy + "' run '" + runId + "' v" + version;
        if (sha256 != null && c.getSha256() != null && !sha256.equalsIgnoreCase(c.getSha256().toString())) {
            throw new WeightStoreException(where + " is of a file with sha-256 " + c.getSha256() + ", the announcement names " + sha256);
        }
        ByteBuffer data = c.getData();
        long total = c.getTotalBytes();
        if (c.getCount() < 1 || c.getIndex() < 0 || c.getIndex() >= c.getCount() || total < 0 || total > Integer.MAX_VALUE - 8
                || c.getOffset() < 0 || c.getOffset() + data.remaining() > total) {
            throw new WeightStoreException(where + " is malformed: index " + c.getIndex() + " of " + c.getCount() + ", bytes "
                    + c.getOffset() + "+" + data.remaining() + " of " + total);
        }
        if (count < 0) {
            count = c.getCount();
            crcs = new long[count];
            lengths = new int[count];
            offsets = new long[count];
            bytes = new byte[(int) total];
        } else if (c.getCount() != count || total != bytes.length) {
            throw new WeightStoreException(where + " says " + c.getCount() + " chunks of " + total + " bytes, earlier chunks said "
                    + count + " of " + bytes.length);
        }
        if (WeightChunks.crc(data) != c.getCrc32c()) {
            throw new WeightStoreException(where + " fails its CRC-32C: corrupted on the way or on the broker");
        }
        int i = c.getIndex();
        if (received.get(i)) {
            if (crcs[i] != c.getCrc32c()) {
                throw new WeightStoreException(where + " came twice with different contents");
            }
            return true;
        }
        data.duplicate().get(bytes, (int) c.getOffset(), data.remaining());
        crcs[i] = c.getCrc32c();
        lengths[i] = data.remaining();
        offsets[i] = c.getOffset();
        received.set(i);
        // the next chunks in order, each starting where the last ended (so none overlaps what is hashed): queue
        // them for the hashing thread; their bytes are written before the task is chained, and never again
        while (runningValid && hashedUpTo < count && received.get(hashedUpTo)) {
            if (offsets[hashedUpTo] != hashedBytes) {
                runningValid = false;
                break;
            }
            int from = (int) hashedBytes, len = lengths[hashedUpTo];
            hashing = hashing.thenRunAsync(() -> running.update(bytes, from, len), HASHERS);
            hashedBytes += len;
            hashedUpTo++;
        }
        return true;
    }

    public boolean complete() {
        return count > 0 && received.cardinality() == count;
    }

    /** How many chunks are in, and how many the version has (-1 before the first). */
    public String progress() {
        return received.cardinality() + " of " + (count < 0 ? "?" : Integer.toString(count)) + " chunks";
    }

    /**
     * The whole file, checked against the announced sha-256.
     *
     * @throws WeightStoreException when chunks are missing or the whole does not match
     */
    public byte[] bytes() {
        return bytes(sha256);
    }

    /** {@link #bytes()}, checked against {@code expectedSha256} (the announced one). */
    public byte[] bytes(String expectedSha256) {
        if (expectedSha256 == null) {
            throw new IllegalArgumentException("no sha-256 to check policy '" + policy + "' v" + version + " against");
        }
        if (!complete()) {
            throw new WeightStoreException("policy '" + policy + "' run '" + runId + "' v" + version + " is partial: "
                    + progress() + " found");
        }
        long t0 = System.nanoTime();
        String actual;
        if (inOrderCoversAll()) {
            hashing.join(); // the hash of the chunks still queued
            actual = java.util.HexFormat.of().formatHex(running.digest());
        } else {
            actual = Sha256.hex(bytes);
        }
        verifyNanos = System.nanoTime() - t0;
        if (!MessageDigest.isEqual(actual.getBytes(), expectedSha256.toLowerCase().getBytes())) {
            throw new WeightStoreException("policy '" + policy + "' run '" + runId + "' v" + version
                    + " assembled to sha-256 " + actual + " but the announcement names " + expectedSha256);
        }
        return bytes;
    }

    /**
     * True when the running digest covers the whole file: every chunk started where the previous
     * ended, from 0 to the end, so each byte was written by exactly one chunk before it was hashed.
     */
    private boolean inOrderCoversAll() {
        return runningValid && hashedUpTo == count && hashedBytes == bytes.length;
    }

    /** Time {@link #bytes()} spent on the checksum beyond what was hashed while the chunks came. */
    long verifyNanos() {
        return verifyNanos;
    }
}
