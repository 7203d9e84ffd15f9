package org.rollstream.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TopicsTest {
    @Test
    void everyDataTopicHasADeadLetterTopic() {
        Set<String> names = Topics.all(3).stream().map(Topics.TopicSpec::name).collect(Collectors.toSet());
        for (String t : new String[] {Topics.PROMPTS, Topics.ROLLOUTS_SAMPLED, Topics.ROLLOUTS_SCORED,
                Topics.POLICY_VERSIONS, Topics.SFT_SAMPLES, Topics.METRICS}) {
            assertTrue(names.contains(t), t);
            assertTrue(names.contains(Topics.dlq(t)), t);
        }
    }

    @Test
    void policyVersionsIsCompactedWithOnePartition() {
        Topics.TopicSpec pv = Topics.all(4).stream().filter(s -> s.name().equals(Topics.POLICY_VERSIONS)).findFirst().orElseThrow();
        assertEquals(1, pv.partitions());
        assertEquals("compact", pv.configs().get("cleanup.policy"));
    }

    @Test
    void weightsTopicKeepsTheLastVersionsAndTakesWholeChunks() {
        Topics.TopicSpec w = Topics.all(4).stream().filter(s -> s.name().equals(Topics.POLICY_WEIGHTS)).findFirst().orElseThrow();
        assertEquals(1, w.partitions()); // a version's chunks in order, at offsets an announcement can name
        assertEquals("compact", w.configs().get("cleanup.policy")); // on rotating slot keys: the last few versions stay
        assertTrue(Integer.parseInt(w.configs().get("max.message.bytes")) > Topics.WEIGHT_CHUNK_BYTES + 4096);
    }

    @Test
    void rejectsZeroPartitions() {
        assertThrows(IllegalArgumentException.class, () -> new Topics.TopicSpec("x", 0, Map.of()));
    }
}
