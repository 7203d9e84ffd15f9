package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ReflectionTest {

    private final TaskRegistry reg = TaskRegistry.defaults();

    @Test
    void parsesOkAndCorrectionSteps() {
        List<Optional<Reflection.Check>> cs = Reflection.parse("7+8=15 check: 37+48=95 no 3+4+1=8 85 check: 85 ok", "37+48=");
        assertEquals(List.of(Optional.of(new Reflection.Check("95", false, "85")), Optional.of(new Reflection.Check("85", true, ""))), cs);
        assertEquals("85", cs.get(0).orElseThrow().conclusion());
        assertEquals(List.of(), Reflection.parse("let me check 85 again", "37+48="));
        assertEquals(List.of(Optional.empty()), Reflection.parse("check: 85 maybe", ""));
        assertEquals(List.of(Optional.empty()), Reflection.parse("check: 85 no", ""));
        assertEquals(List.of(Optional.empty()), Reflection.parse("check:", ""));
    }

    @Test
    void truthIsDecidedByTheVerifier() {
        Task arith = reg.resolve("arithmetic");
        TaskInstance inst = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48);
        assertTrue(Reflection.holds(arith, inst, new Reflection.Check("85", true, "")));
        assertFalse(Reflection.holds(arith, inst, new Reflection.Check("95", true, "")));
        assertTrue(Reflection.holds(arith, inst, new Reflection.Check("95", false, "85")));
        assertFalse(Reflection.holds(arith, inst, new Reflection.Check("95", false, "86")));
        assertFalse(Reflection.holds(arith, inst, new Reflection.Check("85", false, "85")));
    }

    @Test
    void reflectiveTracesOfEveryGeneratedTaskVerify() {
        Random rnd = new Random(3);
        for (String name : List.of("arithmetic", "countdown", "logic")) {
            Task task = reg.resolve(name);
            for (int i = 0; i < 300; i++) {
                TaskInstance inst = task.sample(rnd);
                String trace = Reflection.trace(task, inst, rnd);
                assertTrue(trace.matches("<think>[^<]*</think><answer>[^<]+</answer>"), trace);
                assertTrue(task.isCorrect(inst, Answers.extract(trace).orElseThrow()), trace);
                List<Optional<Reflection.Check>> checks = Reflection.parse(Reflection.think(trace).orElseThrow(), inst.text());
                assertEquals(1, checks.size(), trace);
                Reflection.Check c = checks.get(0).orElseThrow(() -> new AssertionError("unparsed check in " + trace));
                assertFalse(c.confirmed(), trace);
                assertTrue(Reflection.holds(task, inst, c), trace);
                assertEquals(Answers.extract(trace).orElseThrow(), c.conclusion());
            }
        }
    }

    @Test
    void arithmeticReflectiveTraceReadsAsACorrection() {
        TaskInstance inst = ArithmeticTask.instance(ArithmeticTask.Op.ADD, 37, 48);
        String t = Reflection.trace(reg.resolve("arithmetic"), inst, new Random(5));
        assertTrue(t.contains(" check: 37+48="), t);
        assertTrue(t.endsWith("7+8=15 3+4+1=8 85</think><answer>85</answer>"), t);
    }

    @Test
    void coldStartMixesAnExactShareOfReflectiveTraces() {
        TaskDataset arith = TaskDataset.generated(new ArithmeticTask(), 3, 400, 50);
        TaskDataset logic = TaskDataset.generated(new LogicTask(), 3, 400, 50);
        ColdStartData data = new ColdStartData(reg, 0.2, 0.1, 0.25, 11);
        List<SftExample> xs = data.generate(List.of(arith, logic), 400);
        java.util.Map<String, TaskInstance> byText = new java.util.HashMap<>();
        arith.epoch(0).forEach(i -> byText.put(i.text(), i));
        logic.epoch(0).forEach(i -> byText.put(i.text(), i));
        int reflective = 0;
        for (SftExample x : xs) {
            TaskInstance inst = byText.get(x.prompt());
            Task task = reg.resolve(x.task());
            boolean right = task.isCorrect(inst, Answers.extract(x.completion()).orElseThrow());
            boolean answerOnly = x.completion().startsWith("<think></think>");
            assertEquals(x.perfect() || answerOnly, right, x.toString());
            List<Optional<Reflection.Check>> checks = Reflection.parse(Reflection.think(x.completion()).orElseThrow(), inst.text());
            if (!checks.isEmpty()) {
                reflective++;
                assertTrue(Reflection.holds(task, inst, checks.get(0).orElseThrow()), x.toString());
                assertTrue(right, x.toString());
            }
        }
        assertEquals(100, reflective);
        assertEquals(80 + 40, xs.stream().filter(x -> !x.perfect()).count());
        assertEquals(xs, new ColdStartData(reg, 0.2, 0.1, 0.25, 11).generate(List.of(arith, logic), 400));
        assertThrows(IllegalArgumentException.class, () -> new ColdStartData(reg, 0.5, 0.3, 0.3, 1));
    }
}
