package org.rollstream.policy;

import java.util.OptionalInt;

/** Text to token ids and back. Implementations are thread-safe for encode/decode. */
public interface Tokenizer {
    String BOS = "<bos>", EOS = "<eos>", PAD = "<pad>", UNK = "<unk>";
    String THINK = "<think>", THINK_END = "</think>", ANSWER = "<answer>", ANSWER_END = "</answer>";

    int[] encode(String text);

    String decode(int[] ids);

    int vocabSize();

    int bos();

    int eos();

    int pad();

    /** The id of a special token such as {@code <think>}, if this tokenizer has it. */
    OptionalInt special(String token);
}
