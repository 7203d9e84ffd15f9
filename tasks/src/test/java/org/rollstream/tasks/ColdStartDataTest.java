package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class ColdStartDataTest {

    @Test
    void exactImperfectShareSeededAndOnlyFromTraining() {
        TaskDataset arith = TaskDataset.generated(new ArithmeticTask(), 3, 500, 100);
        TaskDataset count = TaskDataset.generated(new CountdownTask(), 3, 500, 100);
        List<SftExample> xs = new ColdStartData(9).generate(List.of(arith, count), 1000);
        assertEquals(1000, xs.size());
        assertEquals(300, xs.stream().filter(x -> !x.perfect()).count());
        assertEquals(500, xs.stream().filter(x -> x.task().equals("countdown")).count());
        assertEquals(xs, new ColdStartData(9).generate(List.of(arith, count), 1000));
        assertNotEquals(xs, new ColdStartData(10).generate(List.of(arith, count), 1000));

        Set<String> held = arith.heldOut().stream().map(TaskInstance::text).collect(Collectors.toSet());
        held.addAll(count.heldOut().stream().map(TaskInstance::text).collect(Collectors.toSet()));
        TaskRegistry reg = TaskRegistry.defaults();
        java.util.Map<String, TaskInstance> byText = new java.util.HashMap<>();
        arith.epoch(0).forEach(i -> byText.put(i.text(), i));
        count.epoch(0).forEach(i -> byText.put(i.text(), i));
        for (SftExample x : xs) {
            assertFalse(held.contains(x.prompt()));
            assertTrue(x.completion().matches("<think>[^<]*</think><answer>[^<]+</answer>"), x.completion());
            TaskInstance inst = byText.get(x.prompt());
            boolean right = reg.resolve(x.task()).isCorrect(inst, Answers.extract(x.completion()).orElseThrow());
            assertEquals(x.perfect(), right, x.toString());
        }
    }

    @Test
    void shareIsConfigurable() {
        TaskDataset arith = TaskDataset.generated(new ArithmeticTask(), 3, 100, 10);
        assertEquals(0, new ColdStartData(TaskRegistry.defaults(), 0.0, 1).generate(arith, 50).stream().filter(x -> !x.perfect()).count());
        assertEquals(50, new ColdStartData(TaskRegistry.defaults(), 1.0, 1).generate(arith, 50).stream().filter(x -> !x.perfect()).count());
        assertThrows(IllegalArgumentException.class, () -> new ColdStartData(TaskRegistry.defaults(), 1.5, 1));
    }
}
