/**
 * Reactor bridge over plain Kafka clients (reactor-kafka is discontinued and breaks on
 * kafka-clients 4). Start with {@link org.rollstream.transport.KafkaSettings}, create topics with
 * {@link org.rollstream.transport.TopicAdmin} (each with its dead-letter topic; it waits until the
 * partitions are served), consume with {@link org.rollstream.transport.ReactiveConsumer} and settle every
 * {@link org.rollstream.transport.Received} with {@code ack()} or {@code nack(error)} (the error's type,
 * from {@code org.rollstream.transport.errors}, decides: dead-letter, retry, or stop), produce with
 * {@link org.rollstream.transport.ReactiveProducer}. Deadlines and backoffs read a
 * {@link org.rollstream.transport.time.Time}. Delivery is at least once: a record is redelivered
 * unless it was settled and its offset committed.
 */
package org.rollstream.transport;
