package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Reach a target from 3–4 numbers with {@code + - * /}, each number at most once. Prompt:
 * {@code 3,7,25,50->81:}. Fields: {@code numbers} ({@code "3,7,25,50"}) and {@code target}
 * ({@code "81"}). The answer is an expression such as {@code 25*3+7-1}; it is checked by exact
 * rational evaluation, never by comparing strings. Generated instances use every number once and
 * keep every intermediate value a positive integer, so the known solution makes a clean trace:
 * {@code <think>25*3=75 75+7=82 82-1=81</think><answer>25*3+7-1</answer>}.
 */
public final class CountdownTask implements Task {

    public static final String NAME = "countdown";
    private static final char[] OPS = {'+', '-', '*', '/'};
    private static final int MAX_TRIES = 10_000;

    private final int minCount;
    private final int maxCount;
    private final int maxNumber;
    private final int maxTarget;

    /** 3–4 numbers in 1..25, targets in 1..100. */
    public CountdownTask() {
        this(3, 4, 25, 100);
    }

    public CountdownTask(int minCount, int maxCount, int maxNumber, int maxTarget) {
        if (minCount < 2 || maxCount < minCount || maxNumber < 2 || maxTarget < 1) {
            throw new IllegalArgumentException("countdown needs 2 <= minCount <= maxCount, maxNumber >= 2, maxTarget >= 1");
        }
        this.minCount = minCount;
        this.maxCount = maxCount;
        this.maxNumber = maxNumber;
        this.maxTarget = maxTarget;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskInstance sample(Random rnd) {
        for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
            int n = minCount + rnd.nextInt(maxCount - minCount + 1);
            long[] numbers = new long[n];
            for (int i = 0; i < n; i++) {
                numbers[i] = 1 + rnd.nextInt(maxNumber);
            }
            Expression.Node solution = combine(numbers, rnd);
            if (solution == null) {
                continue;
            }
            Rational v = solution.value();
            if (v.isInteger() && v.signum() > 0 && v.num.longValueExact() <= maxTarget) {
                return instance(numbers, v.num.longValueExact(), solution.toString());
            }
        }
        throw new IllegalStateException("no countdown instance found in " + MAX_TRIES + " tries; widen the ranges");
    }

    /** An instance with a known solution (used for traces and as the ground-truth answer). */
    public static TaskInstance instance(long[] numbers, long target, String solution) {
        String list = Arrays.stream(numbers).mapToObj(Long::toString).collect(Collectors.joining(","));
        String text = list + "->" + target + ":";
        return new TaskInstance(StableHash.id(NAME, text), NAME, text, solution,
                Map.of("numbers", list, "target", Long.toString(target)));
    }

    /** Random pairwise combination of all numbers; null when an intermediate would not be a positive integer. */
    private static Expression.Node combine(long[] numbers, Random rnd) {
        List<Expression.Node> pool = new ArrayList<>();
        for (long x : numbers) {
            pool.add(new Expression.Leaf(x));
        }
        while (pool.size() > 1) {
            Expression.Node a = pool.remove(rnd.nextInt(pool.size()));
            Expression.Node b = pool.remove(rnd.nextInt(pool.size()));
            char op = OPS[rnd.nextInt(OPS.length)];
            if (op == '-' && a.value().subtract(b.value()).signum() < 0) {
                Expression.Node t = a;
                a = b;
                b = t;
            }
            Expression.Node c = new Expression.Binary(op, a, b);
            Rational v = c.value();
            if (!v.isInteger() || v.signum() <= 0) {
                return null;
            }
            pool.add(c);
        }
        return pool.get(0);
    }

    /**
     * Correct when {@code answer} parses, uses each given number at most as often as it is given,
     * and evaluates exactly to the target. A division by zero is simply wrong.
     *
     * @throws IllegalArgumentException when the instance lacks {@code numbers} or {@code target}
     */
    @Override
    public Verdict verify(TaskInstance instance, String answer) {
        Map<Long, Integer> available = counts(parseNumbers(instance.field("numbers")));
        Rational target = Rational.parse(instance.field("target"))
                .orElseThrow(() -> new IllegalArgumentException("countdown target is not a number: " + instance.field("target")));
        if (answer == null || answer.isBlank()) {
            return Verdict.wrong("empty answer");
        }
        Expression.Node expr;
        try {
            expr = Expression.parse(answer);
        } catch (IllegalArgumentException e) {
            return Verdict.wrong("not an expression: " + e.getMessage());
        }
        List<Long> used = new ArrayList<>();
        expr.leaves(used);
        for (Map.Entry<Long, Integer> e : counts(used).entrySet()) {
            int have = available.getOrDefault(e.getKey(), 0);
            if (e.getValue() > have) {
                return Verdict.wrong(have == 0 ? e.getKey() + " is not among the numbers"
                        : e.getKey() + " used " + e.getValue() + " times, given " + have);
            }
        }
        Rational value;
        try {
            value = expr.value();
        } catch (ArithmeticException e) {
            return Verdict.wrong("division by zero");
        }
        return value.equals(target) ? Verdict.ok() : Verdict.wrong("evaluates to " + value + ", target " + target);
    }

    /**
     * Perfect: the known solution's steps. Imperfect: one operator of the solution is changed and
     * the steps are followed honestly to a wrong value, or (a slipped step) the last step falsely
     * claims the target.
     */
    @Override
    public String trace(TaskInstance instance, boolean perfect, Random rnd) {
        Expression.Node solution = Expression.parse(instance.answer());
        if (perfect) {
            return Answers.format(String.join(" ", Expression.steps(solution)), solution.toString());
        }
        String target = instance.field("target");
        for (int attempt = 0; attempt < 50; attempt++) {
            Expression.Node wrong = mutate(solution, rnd);
            try {
                if (wrong == null || wrong.value().equals(solution.value())) {
                    continue;
                }
            } catch (ArithmeticException e) {
                continue;
            }
            List<String> steps = Expression.steps(wrong);
            if (rnd.nextBoolean()) {
                String last = steps.get(steps.size() - 1);
                steps.set(steps.size() - 1, last.substring(0, last.lastIndexOf('=') + 1) + target);
            }
            return Answers.format(String.join(" ", steps), wrong.toString());
        }
        // every mutation kept the value (e.g. 2*2 vs 2+2): answer with the first number alone
        Expression.Node first = new Expression.Leaf(parseNumbers(instance.field("numbers")).get(0));
        return Answers.format(String.join(" ", Expression.steps(solution)), first.toString());
    }

    /** The tree with one random operator replaced by a different one; null for a single number. */
    private static Expression.Node mutate(Expression.Node node, Random rnd) {
        List<Expression.Binary> ops = new ArrayList<>();
        collect(node, ops);
        if (ops.isEmpty()) {
            return null;
        }
        Expression.Binary target = ops.get(rnd.nextInt(ops.size()));
        char op;
        do {
            op = OPS[rnd.nextInt(OPS.length)];
        } while (op == target.op());
        return replace(node, target, op);
    }

    private static void collect(Expression.Node node, List<Expression.Binary> out) {
        if (node instanceof Expression.Binary b) {
            out.add(b);
            collect(b.left(), out);
            collect(b.right(), out);
        }
    }

    private static Expression.Node replace(Expression.Node node, Expression.Binary target, char op) {
        if (node == target) {
            return new Expression.Binary(op, target.left(), target.right());
        }
        if (node instanceof Expression.Binary b) {
            return new Expression.Binary(b.op(), replace(b.left(), target, op), replace(b.right(), target, op));
        }
        return node;
    }

    private static List<Long> parseNumbers(String csv) {
        List<Long> out = new ArrayList<>();
        for (String part : csv.split("[,\\s]+")) {
            if (!part.isEmpty()) {
                try {
                    out.add(Long.parseLong(part));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("countdown numbers must be integers: " + csv, e);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("countdown numbers are empty");
        }
        return out;
    }

    private static Map<Long, Integer> counts(List<Long> xs) {
        Map<Long, Integer> m = new HashMap<>();
        for (long x : xs) {
            m.merge(x, 1, Integer::sum);
        }
        return m;
    }
}
