package org.rollstream.it;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.rollstream.transport.BrokerUnreachableException;
import org.rollstream.transport.KafkaSettings;

/** A wrong {@code --bootstrap-servers} fails fast with a message that names the address. */
class UnreachableBrokerTest {

    @Test
    void refusedPortFailsWithinThirtySeconds() {
        long t0 = System.nanoTime();
        BrokerUnreachableException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                assertThrows(BrokerUnreachableException.class,
                        () -> KafkaSettings.of("127.0.0.1:1").verifyReachable(Duration.ofSeconds(10))));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("unreachable broker reported after %d ms: %s%n", ms, e.getMessage());
        assertTrue(e.getMessage().startsWith("cannot reach Kafka at 127.0.0.1:1 within 10s"), e.getMessage());
    }

    @Test
    void unresolvableHostFailsAtOnce() {
        BrokerUnreachableException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                assertThrows(BrokerUnreachableException.class,
                        () -> KafkaSettings.of("no-such-host.invalid:9092").verifyReachable(Duration.ofSeconds(10))));
        assertTrue(e.getMessage().contains("no-such-host.invalid:9092"), e.getMessage());
    }

    @Test
    void consumerFluxErrorsInsteadOfWaitingForever() {
        var consumer = org.rollstream.transport.ReactiveConsumer
                .builder(KafkaSettings.of("127.0.0.1:1"), "nobody", bytes -> bytes).topics("prompts").build();
        Throwable error = assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                assertThrows(BrokerUnreachableException.class, () -> consumer.receive().blockFirst()));
        assertTrue(error.getMessage().contains("127.0.0.1:1"), error.getMessage());
    }
}
