package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Seeded train and held-out splits of one task (generated) or of a fixed list (user data).
 * A problem is held out exactly when the stable hash of (task, prompt text) falls in the held-out
 * bucket, so the same problem can never be on both sides, whatever the seed or the epoch.
 */
public final class TaskDataset {

    public static final double DEFAULT_HELD_OUT_SHARE = 0.1;
    private static final int BUCKETS = 10_000;
    private static final long HELD_OUT_SALT = 0x5eed_4e1d_0a17L;

    private final String name;
    private final Task task;                 // null for a fixed list
    private final List<TaskInstance> train;  // null for a generated task
    private final List<TaskInstance> heldOut;
    private final long seed;
    private final int epochSize;
    private final double heldOutShare;

    private TaskDataset(String name, Task task, List<TaskInstance> train, List<TaskInstance> heldOut,
                        long seed, int epochSize, double heldOutShare) {
        this.name = name;
        this.task = task;
        this.train = train;
        this.heldOut = heldOut;
        this.seed = seed;
        this.epochSize = epochSize;
        this.heldOutShare = heldOutShare;
    }

    /** A generated task with {@code epochSize} training problems per epoch and {@code heldOutSize} distinct held-out ones. */
    public static TaskDataset generated(Task task, long seed, int epochSize, int heldOutSize) {
        return generated(task, seed, epochSize, heldOutSize, DEFAULT_HELD_OUT_SHARE);
    }

    public static TaskDataset generated(Task task, long seed, int epochSize, int heldOutSize, double heldOutShare) {
        Objects.requireNonNull(task, "task");
        checkShare(heldOutShare);
        if (epochSize < 1 || heldOutSize < 0) {
            throw new IllegalArgumentException("epochSize must be >= 1 and heldOutSize >= 0");
        }
        if (heldOutSize > 0 && heldOutShare == 0) {
            throw new IllegalArgumentException("a held-out list of " + heldOutSize + " needs heldOutShare > 0");
        }
        Random rnd = new Random(seed ^ HELD_OUT_SALT);
        List<TaskInstance> held = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long tries = 0;
        long maxTries = 1000L * Math.max(1, heldOutSize) + 100_000;
        while (held.size() < heldOutSize) {
            if (++tries > maxTries) {
                throw new IllegalStateException("found only " + held.size() + " distinct held-out problems of " + task.name()
                        + " after " + maxTries + " draws; the problem space is too small for " + heldOutSize);
            }
            TaskInstance inst = task.sample(rnd);
            if (isHeldOut(inst, heldOutShare) && seen.add(inst.text())) {
                held.add(inst);
            }
        }
        return new TaskDataset(task.name(), task, null, List.copyOf(held), seed, epochSize, heldOutShare);
    }

    /** A fixed list (e.g. from {@link JsonlDataset}); the training side is reshuffled every epoch. */
    public static TaskDataset of(String name, List<TaskInstance> all, long seed, double heldOutShare) {
        checkShare(heldOutShare);
        List<TaskInstance> tr = new ArrayList<>();
        List<TaskInstance> ho = new ArrayList<>();
        for (TaskInstance inst : all) {
            (isHeldOut(inst, heldOutShare) ? ho : tr).add(inst);
        }
        if (tr.isEmpty()) {
            throw new DatasetException(name, 0, "no training problems left after holding out " + ho.size() + " of " + all.size());
        }
        return new TaskDataset(name, null, List.copyOf(tr), List.copyOf(ho), seed, tr.size(), heldOutShare);
    }

    public String name() {
        return name;
    }

    /** The fixed held-out list, in a stable order. */
    public List<TaskInstance> heldOut() {
        return heldOut;
    }

    /** Problems per training epoch. */
    public int epochSize() {
        return epochSize;
    }

    /** Whether this dataset's split puts {@code inst} on the held-out side. */
    public boolean isHeldOut(TaskInstance inst) {
        return isHeldOut(inst, heldOutShare);
    }

    /** The training problems of one epoch; the same epoch always yields the same sequence. */
    public List<TaskInstance> epoch(int epoch) {
        Random rnd = new Random(seed * 0x9E3779B97F4A7C15L + epoch);
        if (task == null) {
            List<TaskInstance> shuffled = new ArrayList<>(train);
            Collections.shuffle(shuffled, rnd);
            return shuffled;
        }
        List<TaskInstance> out = new ArrayList<>(epochSize);
        long tries = 0;
        while (out.size() < epochSize) {
            if (++tries > 1000L * epochSize + 100_000) {
                throw new IllegalStateException("cannot draw training problems of " + name + " outside the held-out bucket");
            }
            TaskInstance inst = task.sample(rnd);
            if (!isHeldOut(inst, heldOutShare)) {
                out.add(inst);
            }
        }
        return out;
    }

    /** Training problems epoch after epoch, from {@code firstEpoch} on, without end. */
    public Iterator<TaskInstance> train(int firstEpoch) {
        return new Iterator<>() {
            int epoch = firstEpoch;
            Iterator<TaskInstance> current = epoch(epoch).iterator();

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public TaskInstance next() {
                while (!current.hasNext()) {
                    current = epoch(++epoch).iterator();
                }
                return current.next();
            }
        };
    }

    public Stream<TaskInstance> trainStream(int firstEpoch) {
        Iterator<TaskInstance> it = train(firstEpoch);
        return Stream.generate(it::next);
    }

    /** The split rule: held out when the problem's stable hash falls in the first {@code share} of buckets. */
    static boolean isHeldOut(TaskInstance inst, double share) {
        long bucket = Math.floorMod(StableHash.of(inst.task(), inst.text()), (long) BUCKETS);
        return bucket < Math.round(share * BUCKETS);
    }

    private static void checkShare(double share) {
        if (!(share >= 0 && share < 1)) {
            throw new IllegalArgumentException("held-out share must be in [0, 1), got " + share);
        }
    }
}
