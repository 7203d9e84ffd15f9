/**
 * Rewards computed by an HTTP endpoint: {@link org.rollstream.reward.http.HttpReward} POSTs each
 * group as one JSON batch (the {@code rollstream} format, or the {@code openrlhf} compatibility
 * format), with per-request timeouts, jittered retries, a concurrency limit and a circuit breaker.
 * A failure is never a reward: it is either "retry the group later"
 * ({@link org.rollstream.reward.RewardUnavailableException}) or "dead-letter it with this reason"
 * ({@link org.rollstream.reward.RewardException}).
 */
package org.rollstream.reward.http;
