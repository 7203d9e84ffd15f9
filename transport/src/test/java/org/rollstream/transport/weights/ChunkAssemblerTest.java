package org.rollstream.transport.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.rollstream.schemas.records.WeightChunk;

/** Splitting a version into chunks and assembling it back: any order, and nothing partial or corrupt gets through. */
class ChunkAssemblerTest {
    private static final byte[] FILE = random(10_000 + 37, 1);
    private static final WeightBlob BLOB = new WeightBlob("default", "run-a", 0, 5, FILE, WeightChunks.sha256(FILE), true);

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static ChunkAssembler assembler() {
        return new ChunkAssembler("default", "run-a", 0, 5, BLOB.sha256());
    }

    @Test
    void splitsIntoBoundedChunksThatCoverTheFileOnce() {
        List<WeightChunk> chunks = WeightChunks.split(BLOB, 1000);
        assertEquals(11, chunks.size());
        long covered = 0;
        for (int i = 0; i < chunks.size(); i++) {
            WeightChunk c = chunks.get(i);
            assertEquals(i, c.getIndex());
            assertEquals(11, c.getCount());
            assertEquals(covered, c.getOffset());
            assertTrue(c.getData().remaining() <= 1000);
            assertEquals("F16", c.getDtype());
            covered += c.getData().remaining();
        }
        assertEquals(FILE.length, covered);
    }

    @Test
    void assemblesChunksInAnyOrderIgnoringOtherVersionsAndRepeats() {
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(BLOB, 1000));
        chunks.addAll(WeightChunks.split(new WeightBlob("default", "run-a", 0, 6, random(3000, 2), "ab", true), 1000));
        chunks.add(chunks.get(3)); // a repeat
        Collections.shuffle(chunks, new Random(7));
        ChunkAssembler a = assembler();
        int mine = 0;
        for (WeightChunk c : chunks) {
            if (a.accept(c)) {
                mine++;
            }
        }
        assertEquals(12, mine);
        assertTrue(a.complete());
        assertArrayEquals(FILE, a.bytes());
    }

    @Test
    void aMissingChunkLeavesTheVersionPartial() {
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(BLOB, 1000));
        chunks.remove(4);
        ChunkAssembler a = assembler();
        chunks.forEach(a::accept);
        assertFalse(a.complete());
        WeightStoreException e = assertThrows(WeightStoreException.class, a::bytes);
        assertTrue(e.getMessage().contains("partial: 10 of 11 chunks"), e.getMessage());
    }

    @Test
    void aCorruptChunkFailsItsChecksum() {
        List<WeightChunk> chunks = WeightChunks.split(BLOB, 1000);
        WeightChunk bad = WeightChunk.newBuilder(chunks.get(2)).build();
        byte[] data = new byte[bad.getData().remaining()];
        bad.getData().duplicate().get(data);
        data[17] ^= 0x40;
        bad.setData(ByteBuffer.wrap(data));
        ChunkAssembler a = assembler();
        a.accept(chunks.get(0));
        WeightStoreException e = assertThrows(WeightStoreException.class, () -> a.accept(bad));
        assertTrue(e.getMessage().contains("CRC-32C"), e.getMessage());
    }

    @Test
    void aChunkWhoseChecksumWasRecomputedStillFailsTheWholeSha256() {
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(BLOB, 1000));
        WeightChunk c = chunks.get(9);
        byte[] data = new byte[c.getData().remaining()];
        c.getData().duplicate().get(data);
        data[0] ^= 1;
        chunks.set(9, WeightChunk.newBuilder(c).setData(ByteBuffer.wrap(data)).setCrc32c(WeightChunks.crc(data, 0, data.length)).build());
        ChunkAssembler a = assembler();
        chunks.forEach(a::accept);
        assertTrue(a.complete());
        WeightStoreException e = assertThrows(WeightStoreException.class, a::bytes);
        assertTrue(e.getMessage().contains("assembled to sha-256"), e.getMessage());
    }

    @Test
    void overlappingChunksCannotPassOffAnotherFile() {
        // chunk 1 claims chunk 0's place: every chunk is intact and in order, yet the file has a hole
        List<WeightChunk> chunks = new ArrayList<>(WeightChunks.split(BLOB, 1000));
        chunks.set(1, WeightChunk.newBuilder(chunks.get(1)).setOffset(0).setData(chunks.get(0).getData().duplicate())
                .setCrc32c(chunks.get(0).getCrc32c()).build());
        ChunkAssembler a = assembler();
        chunks.forEach(a::accept);
        assertTrue(a.complete());
        assertThrows(WeightStoreException.class, a::bytes);
    }

    @Test
    void chunksDisagreeingOnTheCountOrTheFileAreRefused() {
        List<WeightChunk> chunks = WeightChunks.split(BLOB, 1000);
        ChunkAssembler a = assembler();
        a.accept(chunks.get(0));
        WeightChunk otherCount = WeightChunk.newBuilder(chunks.get(1)).setCount(12).build();
        assertThrows(WeightStoreException.class, () -> a.accept(otherCount));
        WeightChunk otherFile = WeightChunk.newBuilder(chunks.get(1)).setSha256("00").build();
        assertThrows(WeightStoreException.class, () -> a.accept(otherFile));
        WeightChunk outside = WeightChunk.newBuilder(chunks.get(1)).setOffset(FILE.length - 10).build();
        assertThrows(WeightStoreException.class, () -> a.accept(outside));
    }
}
