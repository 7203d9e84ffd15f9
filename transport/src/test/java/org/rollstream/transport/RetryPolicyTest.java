package org.rollstream.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    @Test
    void backoffDoublesUpToItsCap() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(300), Duration.ofSeconds(2));
        long[] expected = {300, 600, 1200, 2000, 2000};
        for (int failures = 1; failures <= expected.length; failures++) {
            assertEquals(Duration.ofMillis(expected[failures - 1]), p.backoff(failures), "after " + failures + " failures");
        }
        assertEquals(Duration.ofSeconds(2), p.backoff(1000), "no overflow after many failures");
    }

    @Test
    void refusesNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(-1, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(1, Duration.ofSeconds(2), Duration.ofSeconds(1)));
    }
}
