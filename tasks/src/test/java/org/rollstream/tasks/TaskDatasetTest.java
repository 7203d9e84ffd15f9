package org.rollstream.tasks;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

class TaskDatasetTest {

    private static Set<String> texts(List<TaskInstance> xs) {
        return xs.stream().map(TaskInstance::text).collect(Collectors.toSet());
    }

    @Test
    void generatedSplitsAreDisjointAndSeeded() {
        TaskDataset ds = TaskDataset.generated(new ArithmeticTask(), 1, 2000, 200);
        assertEquals(200, ds.heldOut().size());
        assertEquals(200, texts(ds.heldOut()).size(), "held-out problems are distinct");
        Set<String> held = texts(ds.heldOut());
        for (int e = 0; e < 3; e++) {
            List<TaskInstance> epoch = ds.epoch(e);
            assertEquals(2000, epoch.size());
            for (TaskInstance x : epoch) {
                assertFalse(held.contains(x.text()), x.text());
                assertFalse(ds.isHeldOut(x));
            }
        }
        ds.heldOut().forEach(x -> assertTrue(ds.isHeldOut(x)));
        TaskDataset again = TaskDataset.generated(new ArithmeticTask(), 1, 2000, 200);
        assertEquals(ds.heldOut(), again.heldOut());
        assertEquals(ds.epoch(2), again.epoch(2));
        assertNotEquals(ds.epoch(0), ds.epoch(1));
    }

    @Test
    void theSplitDependsOnTheProblemNotTheSeed() {
        TaskDataset a = TaskDataset.generated(new CountdownTask(), 1, 500, 50);
        TaskDataset b = TaskDataset.generated(new CountdownTask(), 99, 500, 50);
        Set<String> heldA = texts(a.heldOut());
        for (TaskInstance x : b.epoch(0)) {
            assertFalse(heldA.contains(x.text()), "another seed's training set never holds our held-out problems");
        }
    }

    @Test
    void fixedListsSplitByHashAndReshufflePerEpoch() {
        List<TaskInstance> all = new ArrayList<>();
        for (int a = 0; a < 40; a++) {
            for (int b = 0; b < 10; b++) {
                all.add(ArithmeticTask.instance(ArithmeticTask.Op.ADD, a, b));
            }
        }
        TaskDataset ds = TaskDataset.of("sums", all, 5, 0.2);
        int train = ds.epoch(0).size();
        assertEquals(400, train + ds.heldOut().size());
        assertTrue(ds.heldOut().size() > 40 && ds.heldOut().size() < 120, "about 20%: " + ds.heldOut().size());
        Set<String> inter = new HashSet<>(texts(ds.epoch(0)));
        inter.retainAll(texts(ds.heldOut()));
        assertTrue(inter.isEmpty());
        assertEquals(texts(ds.epoch(0)), texts(ds.epoch(1)));
        assertNotEquals(ds.epoch(0), ds.epoch(1), "order changes between epochs");

        Iterator<TaskInstance> it = ds.train(0);
        List<TaskInstance> twoEpochs = new ArrayList<>();
        for (int i = 0; i < 2 * train; i++) {
            twoEpochs.add(it.next());
        }
        assertEquals(ds.epoch(1), twoEpochs.subList(train, 2 * train));
        assertEquals(5, ds.trainStream(3).limit(5).count());
    }

    @Test
    void impossibleRequestsFailClearly() {
        ArithmeticTask tiny = new ArithmeticTask(List.of(new ArithmeticTask.Spec(ArithmeticTask.Op.ADD, 1, 1)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TaskDataset.generated(tiny, 1, 10, 500));
        assertTrue(e.getMessage().contains("too small"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TaskDataset.generated(tiny, 1, 10, 5, 1.0));
        assertThrows(DatasetException.class, () -> TaskDataset.of("one", List.of(ArithmeticTask.instance(ArithmeticTask.Op.ADD, 1, 1)), 1, 0.9999));
    }
}
