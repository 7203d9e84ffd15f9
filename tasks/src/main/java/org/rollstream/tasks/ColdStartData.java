package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Cold-start SFT pairs from the training side of datasets. A share of the traces is deliberately
 * imperfect (a slipped step or a wrong final answer) so the SFT model is not already perfect and
 * RL has room to improve it. Exactly {@code round(n * imperfectShare)} of {@code n} pairs are
 * imperfect, at seeded positions.
 */
public final class ColdStartData {

    public static final double DEFAULT_IMPERFECT_SHARE = 0.3;

    private final TaskRegistry registry;
    private final double imperfectShare;
    private final long seed;

    public ColdStartData(long seed) {
        this(TaskRegistry.defaults(), DEFAULT_IMPERFECT_SHARE, seed);
    }

    public ColdStartData(TaskRegistry registry, double imperfectShare, long seed) {
        if (!(imperfectShare >= 0 && imperfectShare <= 1)) {
            throw new IllegalArgumentException("imperfect share must be in [0, 1], got " + imperfectShare);
        }
        this.registry = registry;
        this.imperfectShare = imperfectShare;
        this.seed = seed;
    }

    public List<SftExample> generate(TaskDataset dataset, int n) {
        return generate(List.of(dataset), n);
    }

    /** {@code n} pairs taking problems round-robin from the datasets' training epochs (held-out problems never appear). */
    public List<SftExample> generate(List<TaskDataset> datasets, int n) {
        if (datasets.isEmpty()) {
            throw new IllegalArgumentException("no datasets");
        }
        Random rnd = new Random(seed);
        int imperfect = (int) Math.round(n * imperfectShare);
        List<Boolean> perfect = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            perfect.add(i >= imperfect);
        }
        Collections.shuffle(perfect, rnd);
        List<Iterator<TaskInstance>> sources = new ArrayList<>();
        for (TaskDataset d : datasets) {
            sources.add(d.train(0));
        }
        List<SftExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TaskInstance inst = sources.get(i % sources.size()).next();
            out.add(example(inst, perfect.get(i), rnd, "cold-" + seed + "-" + i));
        }
        return out;
    }

    /** One pair for a given problem. */
    public SftExample example(TaskInstance inst, boolean perfect, Random rnd, String id) {
        Task task = registry.resolve(inst.task());
        return new SftExample(id, inst.task(), inst.text(), task.trace(inst, perfect, rnd), perfect);
    }
}
