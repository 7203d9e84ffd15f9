package org.rollstream.policy;


/** How a prompt becomes model input everywhere in Rollstream: {@code <bos>} then the prompt text. */
public final class PromptTokens {
    private PromptTokens() {
    }

    public static int[] encode(Tokenizer tokenizer, String prompt) {
        int[] body = tokenizer.encode(prompt);
        int[] out = new int[body.length + 1];
        out[0] = tokenizer.bos();
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }
}
