package org.rollstream.policy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Immutable description of the decoder-only transformer (GPT-2 style, pre-LayerNorm, tied
 * input/output embeddings, tanh-GELU MLP).
 *
 * @param vocabSize     number of token ids
 * @param width         model width (d_model)
 * @param layers        number of transformer blocks
 * @param heads         attention heads; width must be divisible by heads
 * @param contextLength maximum sequence length (rows of {@code wpe.weight})
 * @param positional    positional scheme
 * @param mlpRatio      MLP hidden width = mlpRatio * width
 */
public record ModelSpec(int vocabSize, int width, int layers, int heads, int contextLength,
                        Positional positional, int mlpRatio) {

    /** Positional scheme. Only learned absolute positions (GPT-2) are implemented. */
    public enum Positional { LEARNED }

    /** Layer-norm epsilon, the same in every implementation of the architecture (DJL, ONNX). */
    public static final float LN_EPS = 1e-5f;
    /** Additive mask for disallowed attention; finite so fully-masked rows stay NaN-free. */
    public static final float MASK_VALUE = -1e9f;

    private static final ObjectMapper JSON = new ObjectMapper();

    public ModelSpec {
        if (vocabSize <= 0 || width <= 0 || layers <= 0 || heads <= 0 || contextLength <= 0 || mlpRatio <= 0) {
            throw new IllegalArgumentException("all ModelSpec sizes must be positive: " + describe(vocabSize, width, layers, heads, contextLength, mlpRatio));
        }
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        if (positional == null) {
            positional = Positional.LEARNED;
        }
    }

    private static String describe(int v, int w, int l, int h, int c, int m) {
        return "vocab=" + v + " width=" + w + " layers=" + l + " heads=" + h + " context=" + c + " mlpRatio=" + m;
    }

    /**
     * Named presets. {@code tiny}: trains SFT+GRPO on short arithmetic traces in minutes on 2 CPU
     * cores (vocabulary of the built-in character tokenizer). {@code student}: the distillation
     * student, half tiny's width and two layers instead of three (114,560 parameters against
     * tiny's 624,000, under a fifth). {@code gpt2-small}: GPT-2 124M shape.
     * {@code gpt2-small-char}: GPT-2 small's body (width 768, 12 layers, 12 heads) over the
     * built-in character tokenizer's vocabulary, so the built-in tasks train at that scale with
     * nothing to download (85.5 M parameters); context 512 covers every built-in task and the
     * learner benchmark's 320-token sequences.
     */
    public static ModelSpec preset(String name) {
        return switch (name) {
            case "tiny" -> new ModelSpec(CharTokenizer.builtin().vocabSize(), 128, 3, 4, 128, Positional.LEARNED, 4);
            case "student" -> new ModelSpec(CharTokenizer.builtin().vocabSize(), 64, 2, 4, 128, Positional.LEARNED, 4);
            case "gpt2-small" -> new ModelSpec(50257, 768, 12, 12, 1024, Positional.LEARNED, 4);
            case "gpt2-small-char" -> new ModelSpec(CharTokenizer.builtin().vocabSize(), 768, 12, 12, 512, Positional.LEARNED, 4);
            default -> throw new IllegalArgumentException("unknown model preset '" + name + "' (known: tiny, student, gpt2-small, gpt2-small-char)");
        };
    }

    public int headDim() {
        return width / heads;
    }

    public int mlpWidth() {
        return mlpRatio * width;
    }

    public ModelSpec withVocab(int vocab) {
        return new ModelSpec(vocab, width, layers, heads, contextLength, positional, mlpRatio);
    }

    public ModelSpec withContext(int context) {
        return new ModelSpec(vocabSize, width, layers, heads, context, positional, mlpRatio);
    }

    /**
     * Parameter names and shapes, in canonical order. Names follow GPT-2; matrices are stored
     * [in, out] (Hugging Face GPT-2 "Conv1D" layout), so {@code y = x @ W + b}.
     */
    public Map<String, long[]> parameterShapes() {
        long c = width, f = mlpWidth();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("wte.weight", new long[]{vocabSize, c});
        m.put("wpe.weight", new long[]{contextLength, c});
        for (int i = 0; i < layers; i++) {
            String p = "h." + i + ".";
            m.put(p + "ln_1.weight", new long[]{c});
            m.put(p + "ln_1.bias", new long[]{c});
            m.put(p + "attn.c_attn.weight", new long[]{c, 3 * c});
            m.put(p + "attn.c_attn.bias", new long[]{3 * c});
            m.put(p + "attn.c_proj.weight", new long[]{c, c});
            m.put(p + "attn.c_proj.bias", new long[]{c});
            m.put(p + "ln_2.weight", new long[]{c});
            m.put(p + "ln_2.bias", new long[]{c});
            m.put(p + "mlp.c_fc.weight", new long[]{c, f});
            m.put(p + "mlp.c_fc.bias", new long[]{f});
            m.put(p + "mlp.c_proj.weight", new long[]{f, c});
            m.put(p + "mlp.c_proj.bias", new long[]{c});
        }
        m.put("ln_f.weight", new long[]{c});
        m.put("ln_f.bias", new long[]{c});
        return m;
    }

    public long parameterCount() {
        long n = 0;
        for (long[] s : parameterShapes().values()) {
            long k = 1;
            for (long d : s) k *= d;
            n += k;
        }
        return n;
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ModelSpec fromJson(String json) {
        try {
            return JSON.readValue(json, ModelSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a ModelSpec JSON: " + e.getOriginalMessage(), e);
        }
    }
}
