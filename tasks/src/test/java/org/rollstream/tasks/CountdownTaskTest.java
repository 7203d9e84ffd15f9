package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class CountdownTaskTest {

    private final CountdownTask task = new CountdownTask();

    private static TaskInstance of(String numbers, long target) {
        return TaskInstance.fromFields("countdown", "t", numbers + "->" + target + ":", "?",
                Map.of("numbers", numbers, "target", Long.toString(target)));
    }

    private String reason(TaskInstance inst, String answer) {
        return task.verify(inst, answer).reason();
    }

    @Test
    void acceptsAnyExactSolution() {
        TaskInstance inst = of("3,4,6", 8);
        assertTrue(task.isCorrect(inst, "6/(3/4)"), "6/(3/4) = 8 needs exact rationals");
        assertTrue(task.isCorrect(inst, "6/3*4"));
        assertTrue(task.isCorrect(inst, " ( 6 / 3 ) * 4 "));
        assertTrue(task.isCorrect(of("3,4,6", 6), "3\u00d74\u22126"), "× and − are accepted");
        assertTrue(task.isCorrect(of("3,4,6", 12), "3*4"), "numbers may be left unused");
        assertTrue(task.isCorrect(of("2,2,5", 9), "2+2+5"), "a number given twice may be used twice");
        assertTrue(task.isCorrect(of("3,4,6", 2), "4/6*3"), "4/6 is not an integer, the whole is");
    }

    @Test
    void rejectsWithAReason() {
        TaskInstance inst = of("3,4,6", 8);
        assertEquals("4 used 2 times, given 1", reason(inst, "(6-4)*4"));
        assertEquals("2 is not among the numbers", reason(inst, "6+2"));
        assertEquals("8 is not among the numbers", reason(inst, "8"));
        assertEquals("evaluates to 13, target 8", reason(inst, "3+4+6"));
        assertEquals("evaluates to 9/2, target 8", reason(inst, "6*3/4"));
        assertEquals("division by zero", reason(of("3,3,5", 1), "5/(3-3)"));
        assertTrue(reason(inst, "3*").startsWith("not an expression"));
        assertTrue(reason(inst, "(3+4").startsWith("not an expression"));
        assertTrue(reason(inst, "3 4").startsWith("not an expression"));
        assertTrue(reason(inst, "-3+6+4").startsWith("not an expression"), "no unary minus");
        assertTrue(reason(inst, "6/3*4=8").startsWith("not an expression"));
        assertEquals("empty answer", reason(inst, " "));
        assertTrue(reason(inst, "(".repeat(500) + "3" + ")".repeat(500)).startsWith("not an expression"));
    }

    @Test
    void aRecordWithoutTheSpecIsAnErrorNotAWrongAnswer() {
        TaskInstance broken = TaskInstance.fromFields("countdown", "t", "x", "1+2", Map.of("numbers", "1,2"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> task.verify(broken, "1+2"));
        assertTrue(e.getMessage().contains("target"));
    }

    @Test
    void handWrittenTrace() {
        TaskInstance inst = CountdownTask.instance(new long[]{25, 3, 7, 1}, 81, "25*3+7-1");
        assertEquals("25,3,7,1->81:", inst.text());
        assertEquals(Map.of("numbers", "25,3,7,1", "target", "81"), inst.fields());
        assertEquals("<think>25*3=75 75+7=82 82-1=81</think><answer>25*3+7-1</answer>", task.trace(inst, true, new Random(1)));
        TaskInstance nested = CountdownTask.instance(new long[]{2, 3, 9}, 9, "9/(3-2)");
        assertEquals("<think>3-2=1 9/1=9</think><answer>9/(3-2)</answer>", task.trace(nested, true, new Random(1)));
    }

    @Test
    void generatedInstancesAreSolvableAndTracesBehave() {
        Random rnd = new Random(42);
        for (int i = 0; i < 2000; i++) {
            TaskInstance inst = task.sample(rnd);
            String[] numbers = inst.field("numbers").split(",");
            assertTrue(numbers.length >= 3 && numbers.length <= 4, inst.text());
            long target = Long.parseLong(inst.field("target"));
            assertTrue(target >= 1 && target <= 100);
            assertTrue(task.isCorrect(inst, inst.answer()), inst.toString());
            String good = task.trace(inst, true, rnd);
            assertTrue(task.isCorrect(inst, Answers.extract(good).orElseThrow()), good);
            String bad = task.trace(inst, false, rnd);
            assertFalse(task.isCorrect(inst, Answers.extract(bad).orElseThrow()), bad);
        }
    }
}
