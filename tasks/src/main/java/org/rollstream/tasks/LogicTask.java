package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Evaluate a small boolean formula over given variable values. Prompt: {@code a=T,b=F,c=T:(a&!b)+c=},
 * answer {@code T} or {@code F}. Notation fits the character model's alphabet: {@code T}/{@code F}
 * for true/false, {@code !} not, {@code &} and, {@code +} or, parentheses around every binary
 * sub-formula below the top. The trace substitutes the values, then reduces one innermost operation
 * at a time, each step the whole formula rewritten (a local edit a tiny model can learn):
 * {@code <think>(T&!F)+T (T&T)+T T+T T</think><answer>T</answer>}.
 * <p>
 * Fields: {@code values} ({@code "a=T,b=F,c=T"}) and {@code formula} ({@code "(a&!b)+c"}). The
 * verifier evaluates the formula from these fields, so it never trusts the stored answer alone.
 */
public final class LogicTask implements Task {

    public static final String NAME = "logic";
    private static final String VARS = "abcd";

    private final int minOps;
    private final int maxOps;
    private final int maxVars;

    /** 2–3 operators over up to 3 variables. */
    public LogicTask() {
        this(2, 3, 3);
    }

    public LogicTask(int minOps, int maxOps, int maxVars) {
        if (minOps < 1 || maxOps < minOps || maxOps > 6 || maxVars < 1 || maxVars > VARS.length()) {
            throw new IllegalArgumentException("logic needs 1 <= minOps <= maxOps <= 6 and 1..4 variables");
        }
        this.minOps = minOps;
        this.maxOps = maxOps;
        this.maxVars = maxVars;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public TaskInstance sample(Random rnd) {
        int vars = 1 + rnd.nextInt(maxVars);
        int ops = minOps + rnd.nextInt(maxOps - minOps + 1);
        Node f = random(rnd, ops, vars);
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < vars; i++) {
            values.append(i == 0 ? "" : ",").append(VARS.charAt(i)).append('=').append(rnd.nextBoolean() ? 'T' : 'F');
        }
        return instance(f.print(true), values.toString());
    }

    /**
     * The instance for {@code formula} under {@code values}; useful for tests and hand-made sets.
     *
     * @throws IllegalArgumentException for a formula that does not parse or names an unset variable
     */
    public static TaskInstance instance(String formula, String values) {
        Map<Character, Boolean> env = parseValues(values);
        Node f = Parser.parse(formula);
        String text = values + ":" + formula + "=";
        return new TaskInstance(StableHash.id(NAME, text), NAME, text, letter(f.eval(env)),
                Map.of("formula", formula, "values", values));
    }

    /** Accepts {@code T}/{@code F}, {@code true}/{@code false} (any case) and {@code 1}/{@code 0}. */
    @Override
    public Verdict verify(TaskInstance instance, String answer) {
        if (answer == null || answer.isBlank()) {
            return Verdict.wrong("empty answer");
        }
        Boolean given = switch (answer.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "t", "true", "1" -> Boolean.TRUE;
            case "f", "false", "0" -> Boolean.FALSE;
            default -> null;
        };
        if (given == null) {
            return Verdict.wrong("not a truth value: " + answer.strip());
        }
        boolean truth = Parser.parse(instance.field("formula")).eval(parseValues(instance.field("values")));
        return given == truth ? Verdict.ok() : Verdict.wrong("expected " + letter(truth) + ", got " + answer.strip());
    }

    /**
     * Imperfect: one reduction step gets the wrong value and the rest follows it (only a slip that
     * reaches the answer is chosen; a masked one, e.g. under {@code T+…}, would leave it right), or
     * the final answer is flipped.
     */
    @Override
    public String trace(TaskInstance instance, boolean perfect, Random rnd) {
        Node f = Parser.parse(instance.field("formula")).substitute(parseValues(instance.field("values")));
        boolean truth = f.eval(Map.of());
        if (perfect) {
            return reduce(f, -1);
        }
        if (rnd.nextBoolean()) {
            List<Integer> at = new ArrayList<>();
            for (int k = 0; k < f.ops(); k++) {
                at.add(k);
            }
            java.util.Collections.shuffle(at, rnd);
            for (int k : at) {
                String t = reduce(f, k);
                if (!Answers.extract(t).orElseThrow().equals(letter(truth))) {
                    return t;
                }
            }
        }
        String right = reduce(f, -1);
        return Answers.format(Reflection.think(right).orElseThrow(), letter(!truth));
    }

    /** Substituted formula, then one reduction per step, the {@code slipAt}-th reduction negated. */
    private static String reduce(Node f, int slipAt) {
        List<String> steps = new ArrayList<>();
        steps.add(f.print(true));
        int ops = f.ops();
        for (int k = 0; k < ops; k++) {
            f = f.reduceOne(k == slipAt);
            steps.add(f.print(true));
        }
        return Answers.format(String.join(" ", steps), letter(((Lit) f).value));
    }

    static String letter(boolean b) {
        return b ? "T" : "F";
    }

    private static Map<Character, Boolean> parseValues(String values) {
        Map<Character, Boolean> env = new java.util.HashMap<>();
        for (String part : values.split(",")) {
            String p = part.strip();
            if (p.length() != 3 || p.charAt(1) != '=' || !Character.isLowerCase(p.charAt(0)) || "TF".indexOf(p.charAt(2)) < 0) {
                throw new IllegalArgumentException("logic values must look like a=T,b=F; got '" + values + "'");
            }
            env.put(p.charAt(0), p.charAt(2) == 'T');
        }
        return env;
    }

    private static Node random(Random rnd, int ops, int vars) {
        if (ops == 0) {
            return new Var(VARS.charAt(rnd.nextInt(vars)));
        }
        if (rnd.nextInt(4) == 0) {
            return new Not(random(rnd, ops - 1, vars));
        }
        int left = rnd.nextInt(ops);
        return new Bin(rnd.nextBoolean() ? '&' : '+', random(rnd, left, vars), random(rnd, ops - 1 - left, vars));
    }

    /** A formula tree; literals appear once the variables are substituted. */
    private sealed interface Node permits Var, Lit, Not, Bin {
        boolean eval(Map<Character, Boolean> env);

        Node substitute(Map<Character, Boolean> env);

        /** Number of operators left. */
        int ops();

        /** Whether this is a literal. */
        default boolean reduced() {
            return this instanceof Lit;
        }

        /** Replaces the leftmost operation whose operands are literals with its value (negated when {@code slip}). */
        Node reduceOne(boolean slip);

        String print(boolean top);
    }

    private record Var(char name) implements Node {
        public boolean eval(Map<Character, Boolean> env) {
            Boolean v = env.get(name);
            if (v == null) {
                throw new IllegalArgumentException("logic variable '" + name + "' has no value");
            }
            return v;
        }

        public Node substitute(Map<Character, Boolean> env) {
            return new Lit(eval(env));
        }

        public int ops() {
            return 0;
        }

        public Node reduceOne(boolean slip) {
            throw new IllegalStateException("substitute variables before reducing");
        }

        public String print(boolean top) {
            return String.valueOf(name);
        }
    }

    private record Lit(boolean value) implements Node {
        public boolean eval(Map<Character, Boolean> env) {
            return value;
        }

        public Node substitute(Map<Character, Boolean> env) {
            return this;
        }

        public int ops() {
            return 0;
        }

        public Node reduceOne(boolean slip) {
            throw new IllegalStateException("nothing to reduce");
        }

        public String print(boolean top) {
            return letter(value);
        }
    }

    private record Not(Node child) implements Node {
        public boolean eval(Map<Character, Boolean> env) {
            return !child.eval(env);
        }

        public Node substitute(Map<Character, Boolean> env) {
            return new Not(child.substitute(env));
        }

        public int ops() {
            return 1 + child.ops();
        }

        public Node reduceOne(boolean slip) {
            return child.reduced() ? new Lit(!((Lit) child).value ^ slip) : new Not(child.reduceOne(slip));
        }

        public String print(boolean top) {
            return "!" + child.print(false);
        }
    }

    private record Bin(char op, Node left, Node right) implements Node {
        public boolean eval(Map<Character, Boolean> env) {
            return op == '&' ? left.eval(env) && right.eval(env) : left.eval(env) || right.eval(env);
        }

        public Node substitute(Map<Character, Boolean> env) {
            return new Bin(op, left.substitute(env), right.substitute(env));
        }

        public int ops() {
            return 1 + left.ops() + right.ops();
        }

        public Node reduceOne(boolean slip) {
            if (!left.reduced()) {
                return new Bin(op, left.reduceOne(slip), right);
            }
            if (!right.reduced()) {
                return new Bin(op, left, right.reduceOne(slip));
            }
            return new Lit(eval(Map.of()) ^ slip);
        }

        public String print(boolean top) {
            String s = left.print(false) + op + right.print(false);
            return top ? s : "(" + s + ")";
        }
    }

    /** Recursive descent over {@code formula := term (op term)?}, {@code term := var | T | F | !term | (formula)}. */
    private static final class Parser {
        private final String s;
        private int i;

        private Parser(String s) {
            this.s = s;
        }

        static Node parse(String formula) {
            Parser p = new Parser(formula.strip());
            Node n = p.formula();
            if (p.i != p.s.length()) {
                throw p.error();
            }
            return n;
        }

        private Node formula() {
            Node left = term();
            if (i < s.length() && (s.charAt(i) == '&' || s.charAt(i) == '+')) {
                char op = s.charAt(i++);
                return new Bin(op, left, term());
            }
            return left;
        }

        private Node term() {
            if (i >= s.length()) {
                throw error();
            }
            char c = s.charAt(i++);
            if (c == '!') {
                return new Not(term());
            }
            if (c == '(') {
                Node n = formula();
                if (i >= s.length() || s.charAt(i++) != ')') {
                    throw error();
                }
                return n;
            }
            if (c == 'T' || c == 'F') {
                return new Lit(c == 'T');
            }
            if (c >= 'a' && c <= 'z') {
                return new Var(c);
            }
            throw error();
        }

        private IllegalArgumentException error() {
            return new IllegalArgumentException("logic formula '" + s + "' does not parse at position " + i);
        }
    }
}
