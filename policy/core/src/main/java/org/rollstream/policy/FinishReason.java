package org.rollstream.policy;

/** Why a sampled sequence ended. */
public enum FinishReason {
    /** a stop token (e.g. {@code <eos>}) was sampled; it is the last token of the sequence */
    STOP,
    /** the max-new-tokens (or context) limit was reached */
    LENGTH
}
