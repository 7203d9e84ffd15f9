package org.rollstream.tasks;

import java.util.ArrayList;
import java.util.List;

/** A countdown expression: parsing with exact evaluation, and the trees the generator builds. */
final class Expression {

    private static final int MAX_DEPTH = 64;

    private Expression() {
    }

    sealed interface Node permits Leaf, Binary {
        Rational value();

        /** Literal numbers in the order they appear. */
        void leaves(List<Long> out);
    }

    record Leaf(long number) implements Node {
        @Override
        public Rational value() {
            return Rational.of(number);
        }

        @Override
        public void leaves(List<Long> out) {
            out.add(number);
        }

        @Override
        public String toString() {
            return Long.toString(number);
        }
    }

    /** @throws ArithmeticException from {@link #value()} on division by zero */
    record Binary(char op, Node left, Node right) implements Node {
        @Override
        public Rational value() {
            Rational l = left.value();
            Rational r = right.value();
            return switch (op) {
                case '+' -> l.add(r);
                case '-' -> l.subtract(r);
                case '*' -> l.multiply(r);
                case '/' -> l.divide(r);
                default -> throw new IllegalStateException("operator " + op);
            };
        }

        @Override
        public void leaves(List<Long> out) {
            left.leaves(out);
            right.leaves(out);
        }

        /** Minimal parentheses: only where precedence or non-associativity ({@code a-(b+c)}, {@code a/(b*c)}) needs them. */
        @Override
        public String toString() {
            String l = left.toString();
            String r = right.toString();
            if (left instanceof Binary b && precedence(b.op) < precedence(op)) {
                l = "(" + l + ")";
            }
            if (right instanceof Binary b && (precedence(b.op) < precedence(op)
                    || precedence(b.op) == precedence(op) && (op == '-' || op == '/'))) {
                r = "(" + r + ")";
            }
            return l + op + r;
        }
    }

    static int precedence(char op) {
        return op == '+' || op == '-' ? 1 : 2;
    }

    /** Steps in evaluation order, e.g. {@code 25*3=75 75+7=82}. */
    static List<String> steps(Node node) {
        List<String> out = new ArrayList<>();
        collectSteps(node, out);
        return out;
    }

    private static Rational collectSteps(Node node, List<String> out) {
        if (node instanceof Binary b) {
            Rational l = collectSteps(b.left(), out);
            Rational r = collectSteps(b.right(), out);
            Rational v = b.value();
            out.add(l + String.valueOf(b.op()) + r + "=" + v);
            return v;
        }
        return node.value();
    }

    /**
     * Parses {@code + - * /} (also {@code × ÷ −}), parentheses and non-negative integers; no unary minus.
     *
     * @throws IllegalArgumentException with a short reason when the text is not such an expression
     */
    static Node parse(String text) {
        Parser p = new Parser(text.replace('×', '*').replace('÷', '/').replace('\u2212', '-'));
        Node n = p.expr(0);
        p.skipSpace();
        if (p.pos < p.s.length()) {
            throw new IllegalArgumentException("unexpected '" + p.s.charAt(p.pos) + "' at " + p.pos);
        }
        return n;
    }

    private static final class Parser {
        final String s;
        int pos;

        Parser(String s) {
            this.s = s;
        }

        void skipSpace() {
            while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
                pos++;
            }
        }

        boolean eat(char c) {
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == c) {
                pos++;
                return true;
            }
            return false;
        }

        Node expr(int depth) {
            Node n = term(depth);
            while (true) {
                if (eat('+')) {
                    n = new Binary('+', n, term(depth));
                } else if (eat('-')) {
                    n = new Binary('-', n, term(depth));
                } else {
                    return n;
                }
            }
        }

        Node term(int depth) {
            Node n = factor(depth);
            while (true) {
                if (eat('*')) {
                    n = new Binary('*', n, factor(depth));
                } else if (eat('/')) {
                    n = new Binary('/', n, factor(depth));
                } else {
                    return n;
                }
            }
        }

        Node factor(int depth) {
            if (depth > MAX_DEPTH) {
                throw new IllegalArgumentException("parentheses nested too deeply");
            }
            if (eat('(')) {
                Node n = expr(depth + 1);
                if (!eat(')')) {
                    throw new IllegalArgumentException("missing ')' at " + pos);
                }
                return n;
            }
            skipSpace();
            int start = pos;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                pos++;
            }
            if (start == pos) {
                throw new IllegalArgumentException(pos < s.length() ? "unexpected '" + s.charAt(pos) + "' at " + pos : "unexpected end");
            }
            if (pos - start > 12) {
                throw new IllegalArgumentException("number too long at " + start);
            }
            return new Leaf(Long.parseLong(s.substring(start, pos)));
        }
    }
}
