package org.rollstream.policy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsTest {
    static final ModelSpec SPEC = new ModelSpec(20, 16, 2, 2, 12, ModelSpec.Positional.LEARNED, 4);

    static Weights random(ModelSpec spec, long seed) {
        Random r = new Random(seed);
        Weights w = new Weights();
        spec.parameterShapes().forEach((name, shape) -> {
            float[] d = new float[(int) Weights.Tensor.numel(shape)];
            for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
            w.put(name, shape, d);
        });
        return w;
    }

    @Test
    void roundTripIsBitIdentical(@TempDir Path dir) {
        Weights w = random(SPEC, 1);
        WeightSnapshot snap = WeightSnapshot.write(dir, w, SPEC, 7, 1234);
        assertEquals(64, snap.sha256().length());
        assertTrue(w.contentEquals(snap.load()));
        WeightSnapshot reopened = WeightSnapshot.open(snap.path());
        assertEquals(snap, reopened);
        SafetensorsFile.Contents c = SafetensorsFile.read(snap.path(), snap.sha256(), SPEC);
        assertEquals("7", c.metadata().get("version"));
        assertEquals("1234", c.metadata().get("step"));
        assertEquals(SPEC, ModelSpec.fromJson(c.metadata().get("spec")));
    }

    @Test
    void headerLayoutMatchesTheFormat(@TempDir Path dir) throws Exception {
        Weights w = new Weights().put("a", new long[]{2, 3}, new float[]{1, 2, 3, 4, 5, 6}).put("b", new long[]{1}, new float[]{-1});
        Path p = dir.resolve("x.safetensors");
        SafetensorsFile.write(p, w, Map.of("k", "v"));
        byte[] b = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, n % 8);
        String header = new String(b, 8, (int) n, StandardCharsets.UTF_8).trim();
        assertTrue(header.contains("\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}"), header);
        assertTrue(header.contains("\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[24,28]}"), header);
        assertEquals(8 + n + 28, b.length);
        assertEquals(6f, ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n + 20)));
    }

    @Test
    void fp16RoundTripIsClose(@TempDir Path dir) {
        Weights w = random(SPEC, 2);
        Path p = dir.resolve("h.safetensors");
        SafetensorsFile.write(p, w, Map.of(), true);
        Weights back = SafetensorsFile.read(p, null, SPEC).weights();
        for (var e : w.tensors().entrySet()) {
            float[] a = e.getValue().data(), c = back.get(e.getKey()).data();
            for (int i = 0; i < a.length; i++) assertEquals(a[i], c[i], Math.abs(a[i]) * 1e-3 + 1e-6);
        }
    }

    @Test
    void bytesInMemoryAreTheFileThatWouldBeWritten(@TempDir Path dir) throws Exception {
        Weights w = random(SPEC, 5);
        for (boolean fp16 : new boolean[]{false, true}) {
            Path f = dir.resolve("w" + fp16 + ".safetensors");
            String sha = SafetensorsFile.write(f, w, Map.of("k", "v"), fp16);
            byte[] mem = SafetensorsFile.toBytes(w, Map.of("k", "v"), fp16);
            assertArrayEquals(Files.readAllBytes(f), mem, "fp16=" + fp16);
            SafetensorsFile.Contents c = SafetensorsFile.fromBytes(mem, "memory", sha, SPEC);
            assertEquals(sha, c.sha256());
            SafetensorsFile.Contents v = SafetensorsFile.fromVerifiedBytes(mem, "memory", SPEC);
            assertTrue(c.weights().contentEquals(v.weights()));
            if (!fp16) {
                assertTrue(w.contentEquals(v.weights()));
            }
        }
    }

    /** Announced bytes leave the data checksum out of the header: same tensors, readable, checked whole by the caller. */
    @Test
    void bytesWithoutTheDataChecksumHoldTheSameTensors() {
        Weights w = random(SPEC, 6);
        for (boolean fp16 : new boolean[]{false, true}) {
            byte[] with = SafetensorsFile.toBytes(w, Map.of("k", "v"), fp16);
            byte[] without = SafetensorsFile.toBytes(w, Map.of("k", "v"), fp16, false);
            SafetensorsFile.Contents a = SafetensorsFile.fromBytes(with, "with", null, SPEC);
            SafetensorsFile.Contents b = SafetensorsFile.fromBytes(without, "without", null, SPEC);
            assertTrue(a.metadata().containsKey(SafetensorsFile.META_DATA_SHA));
            assertFalse(b.metadata().containsKey(SafetensorsFile.META_DATA_SHA), "fp16=" + fp16);
            assertEquals("v", b.metadata().get("k"));
            assertTrue(a.weights().contentEquals(b.weights()), "fp16=" + fp16);
            // the data section is byte for byte the same; only the header differs
            int da = with.length - (int) dataLength(w, fp16), db = without.length - (int) dataLength(w, fp16);
            assertArrayEquals(Arrays.copyOfRange(with, da, with.length), Arrays.copyOfRange(without, db, without.length));
        }
    }

    private static long dataLength(Weights w, boolean fp16) {
        return w.tensors().values().stream().mapToLong(t -> (long) t.data().length * (fp16 ? 2 : 4)).sum();
    }

    @Test
    void tableDecodingOfHalvesMatchesTheConversionForEveryBitPattern() {
        ByteBuffer all = ByteBuffer.allocate(2 * 65536 + 2).order(ByteOrder.LITTLE_ENDIAN);
        all.putShort((short) 0x7777); // decoding starts past the buffer's beginning
        for (int i = 0; i < 65536; i++) {
            all.putShort((short) i);
        }
        float[] out = new float[65536];
        Half.toFloats(all, 2, out, out.length);
        for (int i = 0; i < 65536; i++) {
            assertEquals(Float.floatToRawIntBits(Half.toFloat((short) i)), Float.floatToRawIntBits(out[i]), "bits " + i);
        }
    }

    @Test
    void tamperedFileIsRefused(@TempDir Path dir) throws Exception {
        WeightSnapshot snap = WeightSnapshot.write(dir, random(SPEC, 3), SPEC, 1, 1);
        byte[] b = Files.readAllBytes(snap.path());
        b[b.length - 5] ^= 0x10; // flip one bit in the last tensor
        Files.write(snap.path(), b);
        WeightsException e = assertThrows(WeightsException.class, snap::load);
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        // also refused without the external checksum, through the recorded data checksum
        WeightsException e2 = assertThrows(WeightsException.class, () -> SafetensorsFile.read(snap.path(), null, null));
        assertTrue(e2.getMessage().contains("checksum mismatch"), e2.getMessage());
    }

    @Test
    void wrongShapeIsRefused(@TempDir Path dir) {
        ModelSpec wider = new ModelSpec(20, 32, 2, 2, 12, ModelSpec.Positional.LEARNED, 4);
        Weights w = random(wider, 4);
        Path p = dir.resolve("w.safetensors");
        SafetensorsFile.write(p, w, Map.of()); // no spec metadata: the shape check must catch it
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsFile.read(p, null, SPEC));
        assertTrue(e.getMessage().contains("wte.weight") && e.getMessage().contains("[20, 32]"), e.getMessage());
        Weights missing = random(SPEC, 5);
        Weights partial = new Weights();
        missing.tensors().forEach((k, v) -> { if (!k.equals("ln_f.bias")) partial.put(k, v); });
        assertThrows(WeightsException.class, () -> WeightSnapshot.write(dir, partial, SPEC, 1, 1));
    }

    @Test
    void malformedHeaderIsRefused(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("bad.safetensors");
        byte[] junk = "{not json".getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + junk.length).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(junk.length).put(junk);
        Files.write(p, bb.array());
        WeightsException e = assertThrows(WeightsException.class, () -> SafetensorsFile.read(p));
        assertTrue(e.getMessage().contains("malformed"), e.getMessage());
        Files.write(p, new byte[]{1, 2, 3});
        assertThrows(WeightsException.class, () -> SafetensorsFile.read(p));
    }
}
