package org.rollstream.reward;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RewardConfigTest {

    @Test
    void parsesWeightsAndOptionsInOrder() {
        RewardConfig c = RewardConfig.parse(" accuracy=1.0, format=0.2,language=0,length=0.1,length.buffer=64 ");
        assertEquals(List.of("accuracy", "format", "language", "length"), List.copyOf(c.weights().keySet()));
        assertEquals(0.2, c.weights().get("format"));
        assertEquals(Map.of("buffer", "64"), c.options("length"));
        assertEquals(Map.of(), c.options("format"));
        assertEquals("accuracy=1.0,format=0.2,language=0.0,length=0.1,length.buffer=64", c.toString());
        assertEquals(c, RewardConfig.parse(c.toString()));
        assertEquals(RewardConfig.parse("accuracy=1,format=0.2"), RewardConfig.defaults());
        assertEquals("accuracy=1.0", RewardConfig.of(Map.of("accuracy", 1.0)).toString());
    }

    @Test
    void rejectsBadText() {
        assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse(""));
        assertEquals("reward configuration entry 'accuracy' is not name=value",
                assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse("accuracy")).getMessage());
        assertEquals("weight of reward 'format' is not a finite number: high",
                assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse("format=high")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse("format=NaN"));
        assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse("format=1,format=2"));
        assertThrows(IllegalArgumentException.class, () -> RewardConfig.parse("format=1,length.buffer=3"));
    }
}
