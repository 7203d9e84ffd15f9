package org.rollstream.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class GeneralTaskTest {

    private final GeneralTask task = new GeneralTask();

    @Test
    void answersAreComputedFromTheFields() {
        assertEquals("LAMP", GeneralTask.instance("upper", "lamp").answer());
        assertEquals("p", GeneralTask.instance("last", "lamp").answer());
        assertEquals("4", GeneralTask.instance("size", "lamp").answer());
        TaskInstance i = GeneralTask.instance("upper", "lamp");
        assertTrue(task.isCorrect(i, " LAMP "));
        assertFalse(task.isCorrect(i, "lamp"), "case matters for upper");
        assertFalse(task.isCorrect(i, ""));
    }

    @Test
    void perfectTracesAreDirectAndRightImperfectOnesWrong() {
        Random rnd = new Random(3);
        for (int k = 0; k < 200; k++) {
            TaskInstance i = task.sample(rnd);
            String good = task.trace(i, true, rnd);
            String bad = task.trace(i, false, rnd);
            assertTrue(good.startsWith(Answers.THINK + Answers.THINK_END), good);
            assertTrue(task.isCorrect(i, Answers.extract(good).orElseThrow()), good);
            assertFalse(task.isCorrect(i, Answers.extract(bad).orElseThrow()), bad);
        }
    }

    @Test
    void badInputIsRefusedWithTheReason() {
        assertThrows(IllegalArgumentException.class, () -> GeneralTask.instance("shout", "lamp"));
        assertThrows(IllegalArgumentException.class, () -> GeneralTask.instance("copy", "Lamp"));
        assertTrue(TaskRegistry.defaults().names().contains("general"));
    }
}
