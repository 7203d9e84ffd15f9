package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class LogicTaskTest {

    private static final String ALPHABET = "0123456789+-*/×÷=()?.,:; \n!<>[]%'\"#&_^"
            + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private final LogicTask task = new LogicTask();

    @Test
    void handMadeFormulaEvaluatesStepByStep() {
        TaskInstance inst = LogicTask.instance("(a&!b)+c", "a=T,b=F,c=F");
        assertEquals("a=T,b=F,c=F:(a&!b)+c=", inst.text());
        assertEquals("T", inst.answer());
        assertEquals("<think>(T&!F)+F (T&T)+F T+F T</think><answer>T</answer>", task.trace(inst, true, new Random(1)));
        assertTrue(task.isCorrect(inst, "T"));
        assertTrue(task.isCorrect(inst, " true "));
        assertFalse(task.isCorrect(inst, "F"));
        assertEquals("not a truth value: maybe", task.verify(inst, "maybe").reason());
        assertEquals("F", LogicTask.instance("!(a+b)&c", "a=F,b=T,c=T").answer());
        assertEquals("T", LogicTask.instance("!(a+b)&c", "a=F,b=F,c=T").answer());
    }

    @Test
    void verifierEvaluatesTheFormulaNotTheStoredAnswer() {
        TaskInstance real = LogicTask.instance("a&b", "a=T,b=F");
        TaskInstance forged = new TaskInstance(real.id(), real.task(), real.text(), "T", real.fields());
        assertFalse(task.isCorrect(forged, "T"));
        assertTrue(task.isCorrect(forged, "F"));
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        assertThrows(IllegalArgumentException.class, () -> LogicTask.instance("a&", "a=T"));
        assertThrows(IllegalArgumentException.class, () -> LogicTask.instance("a&z", "a=T"));
        assertThrows(IllegalArgumentException.class, () -> LogicTask.instance("a&b", "a=X,b=T"));
    }

    @Test
    void sampledProblemsTracesAndFlawsAreConsistent() {
        Random rnd = new Random(7);
        Set<String> texts = new HashSet<>();
        int trueAnswers = 0;
        for (int i = 0; i < 2000; i++) {
            TaskInstance inst = task.sample(rnd);
            texts.add(inst.text());
            trueAnswers += inst.answer().equals("T") ? 1 : 0;
            String good = task.trace(inst, true, rnd);
            String bad = task.trace(inst, false, rnd);
            for (String s : new String[] {inst.text(), good, bad}) {
                String plain = s.replace("<think>", "").replace("</think>", "").replace("<answer>", "").replace("</answer>", "");
                plain.chars().forEach(c -> assertTrue(ALPHABET.indexOf(c) >= 0, "character outside the model alphabet in " + s));
            }
            assertTrue(task.isCorrect(inst, Answers.extract(good).orElseThrow()), good);
            assertFalse(task.isCorrect(inst, Answers.extract(bad).orElseThrow()), bad);
            // each step of the good trace is the formula with exactly one operation fewer
            String[] steps = Reflection.think(good).orElseThrow().split(" ");
            assertEquals(inst.answer(), steps[steps.length - 1]);
        }
        assertTrue(texts.size() > 500, "distinct problems: " + texts.size());
        assertTrue(trueAnswers > 600 && trueAnswers < 1400, "answers should not be all one value: " + trueAnswers);
    }

    @Test
    void registeredByDefault() {
        assertSame(LogicTask.class, TaskRegistry.defaults().resolve("logic").getClass());
        assertTrue(TaskRegistry.defaults().names().contains("logic"));
    }
}
