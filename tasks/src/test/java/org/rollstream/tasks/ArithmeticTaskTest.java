package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.rollstream.tasks.ArithmeticTask.Op.*;
import static org.junit.jupiter.api.Assertions.*;

class ArithmeticTaskTest {

    private final ArithmeticTask task = new ArithmeticTask();
    private final Random rnd = new Random(7);

    private String perfect(ArithmeticTask.Op op, long a, long b) {
        TaskInstance inst = ArithmeticTask.instance(op, a, b);
        return task.trace(inst, true, rnd);
    }

    @Test
    void promptAndAnswer() {
        TaskInstance inst = ArithmeticTask.instance(ADD, 37, 48);
        assertEquals("37+48=", inst.text());
        assertEquals("85", inst.answer());
        assertEquals("arithmetic", inst.task());
        assertEquals("-15", ArithmeticTask.instance(SUB, 37, 52).answer());
        assertEquals("336", ArithmeticTask.instance(MUL, 7, 48).answer());
    }

    @Test
    void additionIsTheTwoDigitAdditionVariantUnderItsOwnName() {
        Task addition = TaskRegistry.defaults().resolve(ArithmeticTask.ADDITION);
        Random r = new Random(3);
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < 2000; i++) {
            TaskInstance inst = addition.sample(r);
            assertEquals("addition", inst.task());
            assertTrue(inst.text().matches("\\d{1,2}\\+\\d{1,2}="), inst.text());
            assertTrue(addition.isCorrect(inst, inst.answer()));
            assertEquals(task.trace(ArithmeticTask.instance(ADD, Long.parseLong(inst.field("a")), Long.parseLong(inst.field("b"))),
                    true, new Random(1)), addition.trace(inst, true, new Random(1)));
            seen.add(inst.text());
        }
        assertTrue(seen.size() > 1500, "distinct problems: " + seen.size());
        assertEquals("arithmetic", TaskRegistry.defaults().resolve("arithmetic").name());
    }

    @Test
    void handWrittenTraces() {
        assertEquals("<think>7+8=15 3+4+1=8</think><answer>85</answer>", perfect(ADD, 37, 48));
        assertEquals("<think>8+5=13 3+0+1=4</think><answer>43</answer>", perfect(ADD, 38, 5));
        assertEquals("<think>9+1=10 9+0+1=10</think><answer>100</answer>", perfect(ADD, 99, 1));
        assertEquals("<think>12-7=5 4-3=1</think><answer>15</answer>", perfect(SUB, 52, 37));
        assertEquals("<think>-(52-37) 12-7=5 4-3=1</think><answer>-15</answer>", perfect(SUB, 37, 52));
        assertEquals("<think>7-7=0</think><answer>0</answer>", perfect(SUB, 7, 7));
        assertEquals("<think>10-1=9 9-0=9 0-0=0</think><answer>99</answer>", perfect(SUB, 100, 1));
        assertEquals("<think>7*8=56 7*4+5=33</think><answer>336</answer>", perfect(MUL, 7, 48));
        assertEquals("<think>7*8=56 7*4+5=33</think><answer>336</answer>", perfect(MUL, 48, 7), "the shorter operand multiplies");
        assertEquals("<think>34*2=68 34*1=34 68+340=408</think><answer>408</answer>", perfect(MUL, 12, 34));
    }

    @Test
    void verifiesByNumericEquivalence() {
        TaskInstance inst = ArithmeticTask.instance(ADD, 37, 48);
        assertTrue(task.isCorrect(inst, "85"));
        assertTrue(task.isCorrect(inst, " 85.0 "));
        assertFalse(task.isCorrect(inst, "86"));
        assertEquals("not a number: eighty-five", task.verify(inst, "eighty-five").reason());
        assertFalse(task.isCorrect(inst, ""));
        assertTrue(task.isCorrect(ArithmeticTask.instance(SUB, 37, 52), "\u221215"));
    }

    @Test
    void perfectTracesAreRightAndImperfectOnesWrong() {
        for (int i = 0; i < 3000; i++) {
            TaskInstance inst = task.sample(rnd);
            String good = task.trace(inst, true, rnd);
            String bad = task.trace(inst, false, rnd);
            assertTrue(task.isCorrect(inst, Answers.extract(good).orElseThrow()), good);
            assertFalse(task.isCorrect(inst, Answers.extract(bad).orElseThrow()), bad);
            assertTrue(good.length() <= 56, good);
        }
    }

    @Test
    void instanceSurvivesAStringMapRoundTrip() {
        TaskInstance inst = task.sample(new Random(3));
        TaskInstance back = TaskInstance.fromFields(inst.task(), inst.id(), inst.text(), inst.answer(), new java.util.HashMap<>(inst.fields()));
        assertEquals(inst, back);
        assertEquals(task.trace(inst, true, new Random(1)), task.trace(back, true, new Random(1)));
    }

    @Test
    void samplingIsSeededAndRespectsTheSpecs() {
        ArithmeticTask big = new ArithmeticTask(List.of(new ArithmeticTask.Spec(MUL, 3, 3)));
        Random a = new Random(11);
        Random b = new Random(11);
        for (int i = 0; i < 100; i++) {
            TaskInstance x = big.sample(a);
            assertEquals(x, big.sample(b));
            assertTrue(x.text().matches("\\d{1,3}\\*\\d{1,3}="), x.text());
            assertTrue(big.isCorrect(x, Answers.extract(big.trace(x, true, a)).orElseThrow()));
        }
        assertThrows(IllegalArgumentException.class, () -> new ArithmeticTask.Spec(ADD, 0, 2));
    }
}
