/**
 * Reactor bridge over plain Kafka clients (reactor-kafka is discontinued and breaks on
 * kafka-clients 4). Start with {@link org.rollstream.transport.KafkaSettings}, create topics with
 * {@link org.rollstream.transport.TopicAdmin} (it waits until the partitions are served), consume with
 * {@link org.rollstream.transport.ReactiveConsumer} and ack every
 * {@link org.rollstream.transport.Received}, produce with {@link org.rollstream.transport.ReactiveProducer}.
 * Delivery is at least once: a record is redelivered unless it was acked and its offset committed.
 */
package org.rollstream.transport;
