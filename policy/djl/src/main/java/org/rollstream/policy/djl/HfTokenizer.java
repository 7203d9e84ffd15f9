package org.rollstream.policy.djl;

import org.rollstream.policy.Tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} through DJL's tokenizers binding. Special tokens are
 * looked up by their literal text in the tokenizer's vocabulary; GPT-2 style tokenizers have only
 * {@code <|endoftext|>}, which then serves as bos, eos and pad.
 */
public final class HfTokenizer implements Tokenizer, AutoCloseable {
    private final HuggingFaceTokenizer tok;
    private final int vocab;
    private final int bos, eos, pad;

    private HfTokenizer(HuggingFaceTokenizer tok, int vocab) {
        this.tok = tok;
        this.vocab = vocab;
        int eot = id("<|endoftext|>");
        this.eos = first(id(EOS), id("</s>"), eot);
        this.bos = first(id(BOS), id("<s>"), eot, eos);
        this.pad = first(id(PAD), eot, eos);
    }

    /** Vocabulary size = 1 + the largest id in model.vocab and added_tokens. */
    private static int vocabSizeOf(Path json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        int max = -1;
        JsonNode v = root.path("model").path("vocab");
        if (v.isObject()) {
            for (JsonNode id : (Iterable<JsonNode>) v::elements) max = Math.max(max, id.asInt());
        } else if (v.isArray()) {
            max = v.size() - 1; // unigram: list of [piece, score]
        }
        for (JsonNode a : root.path("added_tokens")) max = Math.max(max, a.path("id").asInt());
        return max + 1;
    }

    private static int first(int... ids) {
        for (int i : ids) if (i >= 0) return i;
        return -1;
    }

    /** Loads {@code tokenizer.json}; no special tokens are added on encode. */
    public static HfTokenizer load(Path tokenizerJson) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IllegalArgumentException("tokenizer file not found: " + tokenizerJson);
        }
        try {
            return new HfTokenizer(HuggingFaceTokenizer.newInstance(tokenizerJson,
                    Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false")),
                    vocabSizeOf(tokenizerJson));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer " + tokenizerJson, e);
        }
    }

    private int id(String token) {
        Encoding e = tok.encode(token, false, false);
        long[] ids = e.getIds();
        if (ids.length != 1) return -1;
        String back = tok.decode(ids, false);
        return back.equals(token) ? (int) ids[0] : -1;
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tok.encode(text, false, false).getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
        return out;
    }

    @Override
    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tok.decode(l, false);
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    @Override
    public int pad() {
        return pad;
    }

    @Override
    public OptionalInt special(String token) {
        int i = id(token);
        return i < 0 ? OptionalInt.empty() : OptionalInt.of(i);
    }

    @Override
    public void close() {
        tok.close();
    }
}
