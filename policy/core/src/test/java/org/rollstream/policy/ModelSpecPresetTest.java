package org.rollstream.policy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelSpecPresetTest {

    /** GPT-2's count: per block 12C² + 13C, plus token and position embeddings and ln_f. */
    private static long gpt2Count(long vocab, long context, long c, long layers) {
        return layers * (12 * c * c + 13 * c) + vocab * c + context * c + 2 * c;
    }

    @Test
    void gpt2SmallCharIsGpt2SmallOverTheBuiltInVocabulary() {
        ModelSpec spec = ModelSpec.preset("gpt2-small-char");
        ModelSpec small = ModelSpec.preset("gpt2-small");
        int vocab = CharTokenizer.builtin().vocabSize();

        assertEquals(vocab, spec.vocabSize());
        assertEquals(small.width(), spec.width());
        assertEquals(small.layers(), spec.layers());
        assertEquals(small.heads(), spec.heads());
        assertEquals(small.mlpRatio(), spec.mlpRatio());
        assertEquals(64, spec.headDim());
        assertTrue(spec.contextLength() >= 320, "the learner benchmark's 320-token sequences must fit");

        assertEquals(gpt2Count(vocab, spec.contextLength(), 768, 12), spec.parameterCount());
        assertEquals(85_524_480L, spec.parameterCount());
        assertArrayEquals(new long[]{vocab, 768}, spec.parameterShapes().get("wte.weight"));
        assertArrayEquals(new long[]{768, 3 * 768}, spec.parameterShapes().get("h.11.attn.c_attn.weight"));
        assertEquals(2 + 12 * 12 + 2, spec.parameterShapes().size());
    }

    @Test
    void theSameFormulaGivesGpt2Small124M() {
        ModelSpec small = ModelSpec.preset("gpt2-small");
        assertEquals(gpt2Count(50_257, 1024, 768, 12), small.parameterCount());
        assertEquals(124_439_808L, small.parameterCount());
    }

    @Test
    void unknownPresetNamesTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelSpec.preset("gpt3"));
        assertTrue(e.getMessage().contains("gpt2-small-char"), e.getMessage());
    }
}
