package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;

/**
 * Integer {@code +}, {@code -} and {@code *} with configurable operand sizes. Prompts look like
 * {@code 37+48=}. Traces work column by column from the units, so each step is a single-digit
 * fact a tiny character-level model can learn:
 * <ul>
 *   <li>{@code 37+48=} → {@code <think>7+8=15 3+4+1=8</think><answer>85</answer>}</li>
 *   <li>{@code 52-37=} → {@code <think>12-7=5 4-3=1</think><answer>15</answer>} (a borrowed column shows the raised digit)</li>
 *   <li>{@code 37-52=} → {@code <think>-(52-37) 12-7=5 4-3=1</think><answer>-15</answer>}</li>
 *   <li>{@code 7*48=} → {@code <think>7*8=56 7*4+5=33</think><answer>336</answer>}</li>
 * </ul>
 * Multipliers of two or more digits use partial products and one sum step.
 */
public final class ArithmeticTask implements Task {

    public static final String NAME = "arithmetic";

    public enum Op {
        ADD('+'), SUB('-'), MUL('*');

        final char symbol;

        Op(char symbol) {
            this.symbol = symbol;
        }

        static Op of(String symbol) {
            for (Op op : values()) {
                if (symbol.length() == 1 && symbol.charAt(0) == op.symbol) {
                    return op;
                }
            }
            throw new IllegalArgumentException("unknown arithmetic operator '" + symbol + "'");
        }
    }

    /** One kind of problem: operands with up to {@code leftDigits} and {@code rightDigits} digits. */
    public record Spec(Op op, int leftDigits, int rightDigits) {
        public Spec {
            Objects.requireNonNull(op, "op");
            if (leftDigits < 1 || rightDigits < 1 || leftDigits > 9 || rightDigits > 9) {
                throw new IllegalArgumentException("operand digits must be 1..9, got " + leftDigits + " and " + rightDigits);
            }
        }
    }

    /** 2-digit + and -, 1-digit × 2-digit: learnable from scratch by a width-96, 3-layer char model in minutes. */
    public static final List<Spec> DEFAULT_SPECS = List.of(new Spec(Op.ADD, 2, 2), new Spec(Op.SUB, 2, 2), new Spec(Op.MUL, 1, 2));

    /**
     * Name of the built-in easier variant: two-digit addition only ({@code 37+48=}), a carry chain of single-digit
     * facts that the tiny model learns to a clearly non-zero accuracy within a few hundred cold-start steps, so
     * tests that compare accuracies of stages can run in minutes with bars that bind.
     */
    public static final String ADDITION = "addition";
    /** The specs of {@link #ADDITION}. */
    public static final List<Spec> ADDITION_SPECS = List.of(new Spec(Op.ADD, 2, 2));

    private final String name;
    private final List<Spec> specs;

    public ArithmeticTask() {
        this(DEFAULT_SPECS);
    }

    public ArithmeticTask(List<Spec> specs) {
        this(NAME, specs);
    }

    /** A variant registered under its own {@code name}, so it can sit beside {@code arithmetic} in a registry. */
    public ArithmeticTask(String name, List<Spec> specs) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an arithmetic task needs a name");
        }
        if (specs.isEmpty()) {
            throw new IllegalArgumentException("arithmetic needs at least one problem spec");
        }
        this.name = name;
        this.specs = List.copyOf(specs);
    }

    /** The two-digit addition variant, named {@value #ADDITION}. */
    public static ArithmeticTask addition() {
        return new ArithmeticTask(ADDITION, ADDITION_SPECS);
    }

    public List<Spec> specs() {
        return specs;
    }

    @Override
    public String name() {
        return name;
    }

    /** Operands are uniform in {@code [0, 10^digits)}, so shorter operands occur too. */
    @Override
    public TaskInstance sample(Random rnd) {
        Spec spec = specs.get(rnd.nextInt(specs.size()));
        long a = uniform(rnd, spec.leftDigits());
        long b = uniform(rnd, spec.rightDigits());
        return instance(name, spec.op(), a, b);
    }

    /** The {@code arithmetic} instance for {@code a op b}; useful for tests and hand-made evaluation sets. */
    public static TaskInstance instance(Op op, long a, long b) {
        return instance(NAME, op, a, b);
    }

    private static TaskInstance instance(String task, Op op, long a, long b) {
        if (a < 0 || b < 0) {
            throw new IllegalArgumentException("operands must be non-negative");
        }
        String text = "" + a + op.symbol + b + "=";
        long result = switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
        };
        return new TaskInstance(StableHash.id(task, text), task, text, Long.toString(result),
                Map.of("a", Long.toString(a), "b", Long.toString(b), "op", String.valueOf(op.symbol)));
    }

    /** Numeric equivalence with the ground truth: {@code 85}, {@code 85.0} and {@code " 85 "} all pass. */
    @Override
    public Verdict verify(TaskInstance instance, String answer) {
        if (answer == null || answer.isBlank()) {
            return Verdict.wrong("empty answer");
        }
        if (Rational.parse(answer).isEmpty()) {
            return Verdict.wrong("not a number: " + answer.strip());
        }
        return Answers.equivalent(answer, instance.answer()) ? Verdict.ok()
                : Verdict.wrong("expected " + instance.answer() + ", got " + answer.strip());
    }

    @Override
    public String trace(TaskInstance instance, boolean perfect, Random rnd) {
        Op op = Op.of(instance.field("op"));
        long a = Long.parseLong(instance.field("a"));
        long b = Long.parseLong(instance.field("b"));
        Work w = switch (op) {
            case ADD -> add(a, b);
            case SUB -> a >= b ? subtract(a, b, "", 1) : subtract(b, a, "-(" + b + "-" + a + ") ", -1);
            case MUL -> multiply(a, b);
        };
        if (!perfect) {
            w = rnd.nextBoolean() ? w.slip(rnd) : w.wrongAnswer(rnd);
        }
        return Answers.format(w.think(), Long.toString(w.sign * w.magnitude));
    }

    private static long uniform(Random rnd, int digits) {
        long bound = 1;
        for (int i = 0; i < digits; i++) {
            bound *= 10;
        }
        return Math.floorMod(rnd.nextLong(), bound);
    }

    private static int digit(long n, int i) {
        for (int k = 0; k < i; k++) {
            n /= 10;
        }
        return (int) (n % 10);
    }

    private static int length(long n) {
        return Long.toString(n).length();
    }

    /** {@code 7+8=15 3+4+1=8}: each column adds both digits and the carry; the last column writes its full sum. */
    private static Work add(long a, long b) {
        List<Step> steps = new ArrayList<>();
        int cols = Math.max(length(a), length(b));
        int carry = 0;
        long place = 1;
        for (int i = 0; i < cols; i++, place *= 10) {
            int s = digit(a, i) + digit(b, i) + carry;
            steps.add(new Step(digit(a, i) + "+" + digit(b, i) + (carry > 0 ? "+" + carry : ""), s, place));
            carry = s / 10;
        }
        return new Work("", steps, a + b, 1);
    }

    /** {@code 12-7=5 4-3=1} for 52-37: a column that borrows shows its digit raised by ten; the next one shows it lowered. */
    private static Work subtract(long x, long y, String prefix, int sign) {
        List<Step> steps = new ArrayList<>();
        int borrow = 0;
        long place = 1;
        for (int i = 0; i < length(x); i++, place *= 10) {
            int m = digit(x, i) - borrow;
            int yi = digit(y, i);
            borrow = m < yi ? 1 : 0;
            m += 10 * borrow;
            steps.add(new Step(m + "-" + yi, m - yi, place));
        }
        return new Work(prefix, steps, x - y, sign);
    }

    /** One-digit multiplier: a carry chain {@code 7*8=56 7*4+5=33}; longer: partial products then one sum. */
    private static Work multiply(long a, long b) {
        long m = length(a) <= length(b) ? a : b;
        long x = m == a ? b : a;
        List<Step> steps = new ArrayList<>();
        if (m < 10) {
            int carry = 0;
            long place = 1;
            for (int i = 0; i < length(x); i++, place *= 10) {
                int v = (int) m * digit(x, i) + carry;
                steps.add(new Step(m + "*" + digit(x, i) + (carry > 0 ? "+" + carry : ""), v, place));
                carry = v / 10;
            }
        } else {
            StringBuilder sum = new StringBuilder();
            long place = 1;
            for (int j = 0; j < length(m); j++, place *= 10) {
                long p = x * digit(m, j);
                steps.add(new Step(x + "*" + digit(m, j), p, place));
                sum.append(j == 0 ? "" : "+").append(p * place);
            }
            steps.add(new Step(sum.toString(), x * m, 1));
        }
        return new Work("", steps, x * m, 1);
    }

    /** One written step {@code lhs=value}; changing its value by one moves the answer's magnitude by {@code place}. */
    private record Step(String lhs, long value, long place) {
    }

    private record Work(String prefix, List<Step> steps, long magnitude, int sign) {

        String think() {
            StringBuilder sb = new StringBuilder(prefix);
            for (int i = 0; i < steps.size(); i++) {
                sb.append(i == 0 ? "" : " ").append(steps.get(i).lhs()).append('=').append(steps.get(i).value());
            }
            return sb.toString();
        }

        /** One step off by one, the answer following that slip (as a careless student would). */
        Work slip(Random rnd) {
            int k = rnd.nextInt(steps.size());
            Step s = steps.get(k);
            int d = s.value() == 0 || rnd.nextBoolean() ? 1 : -1;
            List<Step> changed = new ArrayList<>(steps);
            changed.set(k, new Step(s.lhs(), s.value() + d, s.place()));
            return new Work(prefix, changed, magnitude + d * s.place(), sign);
        }

        /** Correct steps, then a final answer off by one or ten. */
        Work wrongAnswer(Random rnd) {
            long d = (rnd.nextBoolean() ? 1 : 10) * (magnitude == 0 || rnd.nextBoolean() ? 1 : -1);
            long signed = sign * magnitude + d;
            return new Work(prefix, steps, Math.abs(signed), signed < 0 ? -1 : 1);
        }
    }
}
