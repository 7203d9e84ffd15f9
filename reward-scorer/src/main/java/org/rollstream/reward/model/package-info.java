/**
 * Reward models run inside the scorer: {@link org.rollstream.reward.model.OnnxReward} runs an ONNX
 * sequence-classification model with ONNX Runtime (CPU, or CUDA when its provider is loaded) over
 * padded batches of a group's texts.
 */
package org.rollstream.reward.model;
