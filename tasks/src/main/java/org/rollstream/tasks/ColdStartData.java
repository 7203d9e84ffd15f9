package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Cold-start SFT pairs from the training side of datasets, deliberately imperfect so the SFT model
 * is not already perfect and RL has room to improve it, in two ways:
 * <ul>
 *   <li>flawed traces: a slipped step or a wrong final answer ({@code imperfectShare});</li>
 *   <li>answer-only traces: {@code <think></think><answer>…</answer>}, the right answer with no
 *       reasoning ({@code answerOnlyShare}). A small model cannot compute the answer without the
 *       steps, so imitating them mostly fails; RL has to discover that thinking first pays, which
 *       is the behaviour DeepSeek-R1's RL stage grew (longer responses, higher accuracy).</li>
 *   <li>reflective traces ({@code reflectShare}): a flawed first attempt, a {@code check:} step
 *       that catches it and the reasoning redone to the right answer ({@link Reflection}), so RL
 *       has verified self-correction to reinforce. Their answer is right ({@code perfect}).</li>
 * </ul>
 * Exactly {@code round(n * share)} of {@code n} pairs are of each kind, at seeded positions.
 */
public final class ColdStartData {

    public static final double DEFAULT_IMPERFECT_SHARE = 0.3;

    private final TaskRegistry registry;
    private final double imperfectShare;
    private final double answerOnlyShare;
    private final double reflectShare;
    private final long seed;

    public ColdStartData(long seed) {
        this(TaskRegistry.defaults(), DEFAULT_IMPERFECT_SHARE, seed);
    }

    public ColdStartData(TaskRegistry registry, double imperfectShare, long seed) {
        this(registry, imperfectShare, 0.0, seed);
    }

    public ColdStartData(TaskRegistry registry, double imperfectShare, double answerOnlyShare, long seed) {
        this(registry, imperfectShare, answerOnlyShare, 0.0, seed);
    }

    /** @throws IllegalArgumentException unless the three shares are each in [0, 1] and sum to at most 1 */
    public ColdStartData(TaskRegistry registry, double imperfectShare, double answerOnlyShare, double reflectShare, long seed) {
        if (!(imperfectShare >= 0 && imperfectShare <= 1)) {
            throw new IllegalArgumentException("imperfect share must be in [0, 1], got " + imperfectShare);
        }
        if (!(answerOnlyShare >= 0 && answerOnlyShare + imperfectShare <= 1)) {
            throw new IllegalArgumentException("answer-only share must be in [0, 1 - imperfect share], got " + answerOnlyShare);
        }
        this.registry = registry;
        this.imperfectShare = imperfectShare;
        if (!(reflectShare >= 0 && reflectShare + answerOnlyShare + imperfectShare <= 1)) {
            throw new IllegalArgumentException("reflect share must be in [0, 1 - imperfect share - answer-only share], got " + reflectShare);
        }
        this.answerOnlyShare = answerOnlyShare;
        this.reflectShare = reflectShare;
        this.seed = seed;
    }

    private enum Kind { PERFECT, FLAWED, ANSWER_ONLY, REFLECTIVE }

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
        int answerOnly = (int) Math.round(n * answerOnlyShare);
        int reflective = Math.min(n - imperfect - answerOnly, (int) Math.round(n * reflectShare));
        List<Kind> kinds = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            kinds.add(i < imperfect ? Kind.FLAWED : i < imperfect + answerOnly ? Kind.ANSWER_ONLY
                    : i < imperfect + answerOnly + reflective ? Kind.REFLECTIVE : Kind.PERFECT);
        }
        Collections.shuffle(kinds, rnd);
        List<Iterator<TaskInstance>> sources = new ArrayList<>();
        for (TaskDataset d : datasets) {
            sources.add(d.train(0));
        }
        List<SftExample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TaskInstance inst = sources.get(i % sources.size()).next();
            String id = "cold-" + seed + "-" + i;
            out.add(switch (kinds.get(i)) {
                case ANSWER_ONLY -> answerOnly(inst, id);
                case REFLECTIVE -> reflective(inst, rnd, id);
                default -> example(inst, kinds.get(i) == Kind.PERFECT, rnd, id);
            });
        }
        return out;
    }

    /** The right answer without reasoning. */
    public static SftExample answerOnly(TaskInstance inst, String id) {
        return new SftExample(id, inst.task(), inst.text(), Answers.format("", inst.answer()), false);
    }

    /** A flawed attempt caught by a check step and corrected (see {@link Reflection}); its answer is right. */
    public SftExample reflective(TaskInstance inst, Random rnd, String id) {
        Task task = registry.resolve(inst.task());
        return new SftExample(id, inst.task(), inst.text(), Reflection.trace(task, inst, rnd), true);
    }

    /** One pair for a given problem. */
    public SftExample example(TaskInstance inst, boolean perfect, Random rnd, String id) {
        Task task = registry.resolve(inst.task());
        return new SftExample(id, inst.task(), inst.text(), task.trace(inst, perfect, rnd), perfect);
    }
}
