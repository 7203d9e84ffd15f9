/**
 * The topic protocol: external scorers in any language write a named component per group to
 * {@code rewards.partial} ({@code PartialReward} in Avro, or its JSON variant,
 * {@link org.rollstream.reward.topic.PartialRewardCodec}); the scorer waits for the components it
 * is configured with in a {@link org.rollstream.reward.topic.ComponentJoin}, each with a deadline and
 * a declared policy when it is late ({@link org.rollstream.reward.topic.TopicComponent}).
 * {@link org.rollstream.reward.topic.BridgeJson} is the JSON-lines form the score bridge speaks
 * with programs that have no Kafka client.
 */
package org.rollstream.reward.topic;
