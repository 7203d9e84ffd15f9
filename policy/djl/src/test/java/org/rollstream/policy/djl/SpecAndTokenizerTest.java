package org.rollstream.policy.djl;

import org.rollstream.policy.CharTokenizer;
import org.rollstream.policy.ModelSpec;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class SpecAndTokenizerTest {

    @Test
    void presetsAndJsonRoundTrip() {
        ModelSpec g = ModelSpec.preset("gpt2-small");
        assertEquals(768, g.width());
        assertEquals(12, g.layers());
        assertEquals(12, g.heads());
        assertEquals(50257, g.vocabSize());
        assertEquals(1024, g.contextLength());
        assertEquals(124_439_808L, g.parameterCount()); // GPT-2 small with tied lm head
        ModelSpec t = ModelSpec.preset("tiny");
        assertEquals(CharTokenizer.builtin().vocabSize(), t.vocabSize());
        assertEquals(t, ModelSpec.fromJson(t.toJson()));
        assertEquals(99, t.withVocab(99).vocabSize());
        assertThrows(IllegalArgumentException.class, () -> ModelSpec.preset("huge"));
        assertThrows(IllegalArgumentException.class, () -> new ModelSpec(10, 30, 1, 4, 8, ModelSpec.Positional.LEARNED, 4));
    }

    @Test
    void charTokenizerRoundTripAndSpecials() {
        CharTokenizer tok = CharTokenizer.builtin();
        String text = "<think>12+30=42</think><answer>42</answer>";
        int[] ids = tok.encode(text);
        assertEquals(tok.special("<think>").getAsInt(), ids[0]);
        assertEquals(1 + 8 + 1 + 1 + 2 + 1, ids.length);
        assertEquals(text, tok.decode(ids));
        assertEquals("a×b÷c (x)? y.", tok.decode(tok.encode("a×b÷c (x)? y.")));
        int unk = tok.special("<unk>").getAsInt();
        assertArrayEquals(new int[]{unk}, tok.encode("€"));
        assertNotEquals(tok.bos(), tok.eos());
        assertTrue(tok.special("<nope>").isEmpty());
        assertEquals("<eos>", tok.decode(new int[]{tok.eos()}));
        assertTrue(tok.vocabSize() < 128);
    }

    @Test
    void hfTokenizerLoadsTokenizerJson(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // a minimal word-level tokenizer.json
        String json = """
                {"version":"1.0","truncation":null,"padding":null,
                 "added_tokens":[{"id":0,"content":"<eos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
                 "normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
                 "model":{"type":"WordLevel","vocab":{"<eos>":0,"hello":1,"world":2,"[UNK]":3},"unk_token":"[UNK]"}}
                """;
        Path p = dir.resolve("tokenizer.json");
        Files.writeString(p, json);
        try (HfTokenizer tok = HfTokenizer.load(p)) {
            assertArrayEquals(new int[]{1, 2, 3}, tok.encode("hello world foo"));
            assertEquals(4, tok.vocabSize());
            assertEquals(0, tok.eos());
            assertEquals(0, tok.special("<eos>").getAsInt());
        }
    }
}
