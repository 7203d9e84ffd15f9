package org.rollstream.tasks;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Optional;
import java.util.regex.Pattern;

/** Exact fraction, always reduced with a positive denominator; exactness is why verification never uses doubles. */
final class Rational {

    static final Rational ZERO = new Rational(BigInteger.ZERO, BigInteger.ONE);

    private static final Pattern FRACTION = Pattern.compile("([+-]?\\d+)\\s*/\\s*([+-]?\\d+)");
    private static final Pattern GROUPED = Pattern.compile("[+-]?\\d{1,3}(,\\d{3})+(\\.\\d*)?");
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE]([+-]?\\d{1,3}))?");
    private static final int MAX_EXPONENT = 100; // "1e999999999" must not allocate a huge integer

    final BigInteger num;
    final BigInteger den;

    private Rational(BigInteger num, BigInteger den) {
        this.num = num;
        this.den = den;
    }

    static Rational of(long n) {
        return new Rational(BigInteger.valueOf(n), BigInteger.ONE);
    }

    static Rational of(BigInteger n, BigInteger d) {
        if (d.signum() == 0) {
            throw new ArithmeticException("division by zero");
        }
        if (d.signum() < 0) {
            n = n.negate();
            d = d.negate();
        }
        BigInteger g = n.gcd(d);
        if (!g.equals(BigInteger.ONE) && g.signum() != 0) {
            n = n.divide(g);
            d = d.divide(g);
        }
        return new Rational(n, d);
    }

    Rational add(Rational o) {
        return of(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
    }

    Rational subtract(Rational o) {
        return of(num.multiply(o.den).subtract(o.num.multiply(den)), den.multiply(o.den));
    }

    Rational multiply(Rational o) {
        return of(num.multiply(o.num), den.multiply(o.den));
    }

    Rational divide(Rational o) {
        return of(num.multiply(o.den), den.multiply(o.num));
    }

    boolean isInteger() {
        return den.equals(BigInteger.ONE);
    }

    int signum() {
        return num.signum();
    }

    /**
     * Parses a number as people and models write it: {@code 85}, {@code 85.0}, {@code -3},
     * {@code −3} (Unicode minus), {@code +5}, {@code 1/2}, {@code .5}, {@code 1,234}, {@code 1e3}.
     */
    static Optional<Rational> parse(String s) {
        String t = s.strip().replace('\u2212', '-').replace('\u2013', '-');
        if (t.isEmpty()) {
            return Optional.empty();
        }
        try {
            var f = FRACTION.matcher(t);
            if (f.matches()) {
                BigInteger d = new BigInteger(f.group(2));
                return d.signum() == 0 ? Optional.empty() : Optional.of(of(new BigInteger(f.group(1)), d));
            }
            if (GROUPED.matcher(t).matches()) {
                t = t.replace(",", "");
            }
            var m = DECIMAL.matcher(t);
            if (!m.matches() || (m.group(3) != null && Math.abs(Integer.parseInt(m.group(3))) > MAX_EXPONENT)) {
                return Optional.empty();
            }
            BigDecimal bd = new BigDecimal(t);
            return Optional.of(bd.scale() <= 0
                    ? of(bd.toBigIntegerExact(), BigInteger.ONE)
                    : of(bd.unscaledValue(), BigInteger.TEN.pow(bd.scale())));
        } catch (NumberFormatException | ArithmeticException e) {
            return Optional.empty();
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Rational r && num.equals(r.num) && den.equals(r.den);
    }

    @Override
    public int hashCode() {
        return num.hashCode() * 31 + den.hashCode();
    }

    /** {@code 7} or {@code 7/2}. */
    @Override
    public String toString() {
        return isInteger() ? num.toString() : num + "/" + den;
    }
}
