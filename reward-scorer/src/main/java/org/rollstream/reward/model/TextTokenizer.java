package org.rollstream.reward.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/** Turns a reward model's input text into token ids. Thread-safe. */
interface TextTokenizer extends AutoCloseable {

    /** Ids as the model expects them, special tokens included. */
    long[] encode(String text);

    @Override
    default void close() {
    }

    /** {@code bytes}: one id per UTF-8 byte (0..255), for byte-level models. */
    static TextTokenizer bytes() {
        return text -> {
            byte[] b = text.getBytes(StandardCharsets.UTF_8);
            long[] ids = new long[b.length];
            for (int i = 0; i < b.length; i++) {
                ids[i] = b[i] & 0xff;
            }
            return ids;
        };
    }

    /** {@code char}: the built-in character tokenizer (special tags as single ids), for models made by {@code rollstream train-rm}. */
    static TextTokenizer chars() {
        org.rollstream.policy.CharTokenizer tok = org.rollstream.policy.CharTokenizer.builtin();
        return text -> {
            int[] ids = tok.encode(text);
            long[] out = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                out[i] = ids[i];
            }
            return out;
        };
    }

    /** A Hugging Face {@code tokenizer.json}, with the special tokens it declares (e.g. [CLS] ... [SEP]). */
    static TextTokenizer huggingFace(Path tokenizerJson) {
        if (!Files.isRegularFile(tokenizerJson)) {
            throw new IllegalArgumentException("tokenizer file not found: " + tokenizerJson);
        }
        HuggingFaceTokenizer tok;
        try {
            tok = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load tokenizer " + tokenizerJson, e);
        }
        return new TextTokenizer() {
            @Override
            public long[] encode(String text) {
                return tok.encode(text).getIds();
            }

            @Override
            public void close() {
                tok.close();
            }
        };
    }
}
