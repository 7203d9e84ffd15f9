/**
 * Where policy weights live between the learner and the actors, and how announcements of them are
 * signed. {@link org.rollstream.transport.weights.WeightStore} is the contract; the directory store
 * needs a disk every role shares, the Kafka store needs nothing but the cluster.
 */
package org.rollstream.transport.weights;
