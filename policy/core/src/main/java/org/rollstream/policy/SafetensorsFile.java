package org.rollstream.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads and writes the safetensors format: 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus string-to-string {@code __metadata__}),
 * space-padded to a multiple of 8, then the little-endian tensor bytes in header order.
 * Python's {@code safetensors.safe_open} reads these files.
 *
 * <p>Besides the caller's metadata, the writer records {@code data_sha256} (sha-256 of the data
 * section) so tampering is caught even when the caller has no file checksum to compare.
 */
public final class SafetensorsFile {
    public static final String META_VERSION = "version", META_STEP = "step", META_SPEC = "spec", META_DATA_SHA = "data_sha256";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private SafetensorsFile() {
    }

    /** Result of a read: the tensors and the header metadata. */
    public record Contents(Weights weights, Map<String, String> metadata, String sha256) {
    }

    /** Writes fp32 tensors; returns the sha-256 hex of the whole file. */
    public static String write(Path path, Weights weights, Map<String, String> metadata) {
        return write(path, weights, metadata, false);
    }

    /**
     * Writes atomically (temp file + rename); {@code fp16} stores every tensor as F16.
     *
     * @return sha-256 hex of the file as written
     */
    public static String write(Path path, Weights weights, Map<String, String> metadata, boolean fp16) {
        MessageDigest dataSha = sha();
        byte[] chunk = new byte[1 << 16];
        for (Weights.Tensor t : weights.tensors().values()) {
            forEachChunk(t.data(), fp16, chunk, len -> dataSha.update(chunk, 0, len));
        }
        byte[] hp = paddedHeader(weights, metadata, fp16, HexFormat.of().formatHex(dataSha.digest()));
        MessageDigest fileSha = sha();
        try {
            Path parent = path.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, path.getFileName().toString(), ".tmp");
            try (OutputStream os = new DigestOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20), fileSha)) {
                os.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(hp.length).array());
                os.write(hp);
                for (Weights.Tensor t : weights.tensors().values()) {
                    IOConsumer w = len -> os.write(chunk, 0, len);
                    forEachChunk(t.data(), fp16, chunk, w);
                }
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write weights to " + path, e);
        }
        return HexFormat.of().formatHex(fileSha.digest());
    }

    /**
     * The bytes {@link #write(Path, Weights, Map, boolean)} would write, in memory (for stores that
     * send weights elsewhere than a file); at most 2 GiB.
     */
    public static byte[] toBytes(Weights weights, Map<String, String> metadata, boolean fp16) {
        return toBytes(weights, metadata, fp16, true);
    }

    /**
     * As {@link #toBytes(Weights, Map, boolean)}; without {@code recordDataSha} the header carries no
     * checksum of the data, which saves a pass over it. For bytes whose whole sha-256 travels with
     * them (an announced policy version is checked whole against its announcement); a file that
     * must vouch for itself on disk keeps it.
     */
    public static byte[] toBytes(Weights weights, Map<String, String> metadata, boolean fp16, boolean recordDataSha) {
        // the header records the data's sha-256, which is only known after the data: write the data
        // once behind a header with a stand-in checksum of the same length, then the real header
        byte[] provisional = paddedHeader(weights, metadata, fp16, recordDataSha ? "0".repeat(64) : null);
        long dataLen = 0;
        for (Weights.Tensor t : weights.tensors().values()) {
            dataLen += (long) t.data().length * (fp16 ? 2 : 4);
        }
        long total = 8 + provisional.length + dataLen;
        if (total > Integer.MAX_VALUE - 8) {
            throw new WeightsException("weights of " + total + " bytes do not fit in memory as one array");
        }
        int dataStart = 8 + provisional.length;
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(provisional.length).position(dataStart);
        for (Weights.Tensor t : weights.tensors().values()) {
            float[] d = t.data();
            if (fp16) {
                Half.fromFloats(d, out, out.position());
                out.position(out.position() + 2 * d.length);
            } else {
                out.asFloatBuffer().put(d);
                out.position(out.position() + 4 * d.length);
            }
        }
        byte[] bytes = out.array();
        if (!recordDataSha) {
            System.arraycopy(provisional, 0, bytes, 8, provisional.length);
            return bytes;
        }
        MessageDigest dataSha = sha();
        dataSha.update(bytes, dataStart, (int) dataLen);
        byte[] header = paddedHeader(weights, metadata, fp16, HexFormat.of().formatHex(dataSha.digest()));
        if (header.length != provisional.length) {
            throw new IllegalStateException("safetensors header changed length with its checksum");
        }
        System.arraycopy(header, 0, bytes, 8, header.length);
        return bytes;
    }

    /**
     * A float16 file of {@code halves} as they are (no conversion, one bulk copy each), with no data
     * checksum in its header: as {@link #toBytes(Weights, Map, boolean, boolean)} with fp16 and without
     * {@code recordDataSha} writes them from float32.
     */
    public static byte[] toBytes(HalfWeights halves, Map<String, String> metadata) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long dataLen = 0;
        for (var e : halves.tensors().entrySet()) {
            shapes.put(e.getKey(), e.getValue().shape());
            dataLen += e.getValue().data().remaining();
        }
        byte[] header = paddedHeader(shapes, metadata, true, null);
        long total = 8 + header.length + dataLen;
        if (total > Integer.MAX_VALUE - 8) {
            throw new WeightsException("weights of " + total + " bytes do not fit in memory as one array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(header.length).put(header);
        for (HalfWeights.Tensor t : halves.tensors().values()) {
            out.put(t.data().duplicate());
        }
        return out.array();
    }

    /** Header JSON (metadata with the data checksum, then the tensors), space-padded to a multiple of 8. */
    private static byte[] paddedHeader(Weights weights, Map<String, String> metadata, boolean fp16, String dataSha256) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        weights.tensors().forEach((name, t) -> shapes.put(name, t.shape()));
        return paddedHeader(shapes, metadata, fp16, dataSha256);
    }

    private static byte[] paddedHeader(Map<String, long[]> shapes, Map<String, String> metadata, boolean fp16, String dataSha256) {
        int elem = fp16 ? 2 : 4;
        ObjectNode header = JSON.createObjectNode();
        long offset = 0;
        for (var e : shapes.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", fp16 ? "F16" : "F32");
            ArrayNode shape = t.putArray("shape");
            for (long d : e.getValue()) shape.add(d);
            long n = Weights.Tensor.numel(e.getValue()) * elem;
            t.putArray("data_offsets").add(offset).add(offset + n);
            offset += n;
        }
        Map<String, String> meta = new LinkedHashMap<>(metadata == null ? Map.of() : metadata);
        if (dataSha256 != null) {
            meta.put(META_DATA_SHA, dataSha256);
        }
        ObjectNode m = JSON.createObjectNode();
        meta.forEach(m::put);
        // __metadata__ first, as the Python writer does
        ObjectNode ordered = JSON.createObjectNode();
        ordered.set("__metadata__", m);
        ordered.setAll(header);
        byte[] h = ordered.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        byte[] hp = Arrays.copyOf(h, padded);
        Arrays.fill(hp, h.length, padded, (byte) ' ');
        return hp;
    }

    private interface IOConsumer {
        void accept(int len) throws IOException;
    }

    private static void forEachChunk(float[] data, boolean fp16, byte[] chunk, IOConsumer sink) {
        ByteBuffer bb = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        int per = chunk.length / (fp16 ? 2 : 4);
        try {
            for (int i = 0; i < data.length; i += per) {
                int n = Math.min(per, data.length - i);
                bb.clear();
                for (int k = 0; k < n; k++) {
                    if (fp16) bb.putShort(Half.fromFloat(data[i + k]));
                    else bb.putFloat(data[i + k]);
                }
                sink.accept(bb.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads without checks beyond the format itself. */
    public static Contents read(Path path) {
        return read(path, null, null);
    }

    /**
     * Reads a file, refusing it with a {@link WeightsException} when the file's sha-256 differs
     * from {@code expectedSha256} (if given), the recorded data checksum does not match, the header
     * is malformed, or a tensor's name/shape differs from {@code expectedSpec} (if given).
     */
    public static Contents read(Path path, String expectedSha256, ModelSpec expectedSpec) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new WeightsException("cannot read weights file " + path + ": " + e.getMessage(), e);
        }
        return fromBytes(bytes, path.toString(), expectedSha256, expectedSpec);
    }

    /**
     * As {@link #read(Path, String, ModelSpec)}, from the bytes of a whole file received some other
     * way; {@code path} names their source in error messages.
     */
    public static Contents fromBytes(byte[] bytes, String path, String expectedSha256, ModelSpec expectedSpec) {
        return decode(bytes, path, expectedSha256, expectedSpec, true);
    }

    /**
     * Decodes a whole file whose sha-256 the caller has already checked against a value it trusts
     * (e.g. a signed announcement's); the data checksum, which that covers, is not computed again.
     * Format and spec checks are as in {@link #read(Path, String, ModelSpec)}; the result's
     * {@code sha256} is null (not computed here).
     */
    public static Contents fromVerifiedBytes(byte[] bytes, String path, ModelSpec expectedSpec) {
        return decode(bytes, path, null, expectedSpec, false);
    }

    /**
     * The tensors of a whole file whose sha-256 the caller has already checked (as
     * {@link #fromVerifiedBytes}) as views of its bytes, when every tensor is F16: for a reader
     * that runs in float16 and needs no floats (an actor's float16 session), which so skips a
     * decode to fp32 and an encode back. Format and spec checks are those of {@link #fromVerifiedBytes}.
     *
     * @return the views, or null when some tensor is not F16
     */
    public static HalfWeights halvesOfVerifiedBytes(byte[] bytes, String path, ModelSpec expectedSpec) {
        Parsed parsed = parse(bytes, path, null, expectedSpec, false);
        if (parsed.entries().stream().anyMatch(e -> !e.dtype().equals("F16"))) {
            return null;
        }
        HalfWeights h = new HalfWeights();
        ByteBuffer all = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : parsed.entries()) {
            // (a derived buffer starts big-endian whatever its parent's order: set it last)
            h.put(e.name(), e.shape(), all.duplicate().position(e.start()).limit(e.start() + e.length()).slice()
                    .asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
        }
        if (expectedSpec != null) {
            try {
                h.checkAgainst(expectedSpec);
            } catch (WeightsException ex) {
                throw new WeightsException("weights file " + path + ": " + ex.getMessage(), ex);
            }
        }
        return h;
    }

    /** One tensor of a parsed header: its place in the file's bytes, checked against the data section. */
    private record Entry(String name, String dtype, long[] shape, int start, int length) {
    }

    private record Parsed(Map<String, String> metadata, java.util.List<Entry> entries, String fileSha) {
    }

    private static Contents decode(byte[] bytes, String path, String expectedSha256, ModelSpec expectedSpec, boolean checkData) {
        Parsed parsed = parse(bytes, path, expectedSha256, expectedSpec, checkData);
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Weights w = new Weights();
        for (Entry e : parsed.entries()) {
            w.put(e.name(), decodeTensor(e, bb));
        }
        if (expectedSpec != null) {
            try {
                w.checkAgainst(expectedSpec);
            } catch (WeightsException ex) {
                throw new WeightsException("weights file " + path + ": " + ex.getMessage(), ex);
            }
        }
        return new Contents(w, parsed.metadata(), parsed.fileSha());
    }

    /** Checksums, header, metadata (and its spec against {@code expectedSpec}) and every tensor's place. */
    private static Parsed parse(byte[] bytes, String path, String expectedSha256, ModelSpec expectedSpec, boolean checkData) {
        String fileSha = checkData ? HexFormat.of().formatHex(sha().digest(bytes)) : null;
        if (expectedSha256 != null && !expectedSha256.equalsIgnoreCase(fileSha)) {
            throw new WeightsException("checksum mismatch for " + path + ": expected sha-256 " + expectedSha256 + " but file has " + fileSha);
        }
        if (bytes.length < 8) throw new WeightsException("malformed safetensors file " + path + ": shorter than 8 bytes");
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long hlen = bb.getLong(0);
        if (hlen <= 0 || hlen > MAX_HEADER || 8 + hlen > bytes.length) {
            throw new WeightsException("malformed safetensors file " + path + ": header length " + hlen + " does not fit a file of " + bytes.length + " bytes");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) hlen, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new WeightsException("malformed safetensors header in " + path + ": " + e.getMessage(), e);
        }
        if (header == null || !header.isObject()) throw new WeightsException("malformed safetensors header in " + path + ": not a JSON object");
        int dataStart = 8 + (int) hlen;
        long dataLen = bytes.length - dataStart;
        Map<String, String> meta = new LinkedHashMap<>();
        JsonNode m = header.get("__metadata__");
        if (m != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().isTextual()) throw new WeightsException("malformed metadata in " + path + ": '" + e.getKey() + "' is not a string");
                meta.put(e.getKey(), e.getValue().asText());
            }
        }
        String recorded = meta.get(META_DATA_SHA);
        if (recorded != null && checkData) {
            MessageDigest d = sha();
            d.update(bytes, dataStart, (int) dataLen);
            String actual = HexFormat.of().formatHex(d.digest());
            if (!actual.equals(recorded)) {
                throw new WeightsException("checksum mismatch for " + path + ": tensor data sha-256 is " + actual + " but the header records " + recorded + " (file modified or truncated)");
            }
        }
        java.util.List<Entry> entries = new java.util.ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) continue;
            entries.add(entry(path, e.getKey(), e.getValue(), dataStart, dataLen));
        }
        if (expectedSpec != null) {
            String specJson = meta.get(META_SPEC);
            if (specJson != null) {
                ModelSpec fileSpec;
                try {
                    fileSpec = ModelSpec.fromJson(specJson);
                } catch (IllegalArgumentException ex) {
                    throw new WeightsException("malformed spec metadata in " + path + ": " + ex.getMessage(), ex);
                }
                if (!fileSpec.equals(expectedSpec)) {
                    throw new WeightsException("weights file " + path + " was written for spec " + specJson + " but " + expectedSpec.toJson() + " was expected");
                }
            }
        }
        return new Parsed(meta, entries, fileSha);
    }

    private static Entry entry(String path, String name, JsonNode t, int dataStart, long dataLen) {
        String where = "malformed tensor '" + name + "' in " + path + ": ";
        String dtype = t.path("dtype").asText("");
        int elem = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new WeightsException(where + "unsupported dtype '" + dtype + "' (F32, F16, BF16 are read)");
        };
        JsonNode s = t.get("shape"), o = t.get("data_offsets");
        if (s == null || !s.isArray() || o == null || !o.isArray() || o.size() != 2) throw new WeightsException(where + "needs shape and two data_offsets");
        long[] shape = new long[s.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!s.get(i).canConvertToLong() || s.get(i).asLong() < 0) throw new WeightsException(where + "bad shape " + s);
            shape[i] = s.get(i).asLong();
        }
        long begin = o.get(0).asLong(-1), end = o.get(1).asLong(-1);
        long n = Weights.Tensor.numel(shape);
        if (begin < 0 || end < begin || end > dataLen) throw new WeightsException(where + "data_offsets " + o + " outside data section of " + dataLen + " bytes");
        if (end - begin != n * elem) throw new WeightsException(where + "shape " + s + " of " + dtype + " needs " + n * elem + " bytes, offsets give " + (end - begin));
        if (n > Integer.MAX_VALUE - 8) throw new WeightsException(where + "too large");
        return new Entry(name, dtype, shape, dataStart + (int) begin, (int) (end - begin));
    }

    private static Weights.Tensor decodeTensor(Entry e, ByteBuffer bb) {
        int n = (int) Weights.Tensor.numel(e.shape());
        float[] data = new float[n];
        int p = e.start();
        switch (e.dtype()) {
            case "F32" -> bb.duplicate().order(ByteOrder.LITTLE_ENDIAN).position(p).slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            case "F16" -> Half.toFloats(bb, p, data, n);
            default -> { // BF16
                for (int i = 0; i < n; i++, p += 2) {
                    data[i] = Half.bf16ToFloat(bb.getShort(p));
                }
            }
        }
        return new Weights.Tensor(e.shape(), data);
    }

    static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
