package dev.flowblend.capacity;

import java.util.Locale;

/** The one style of input error: "{field path} is {value}; must be {limit}". Stateless. */
final class Check {
    private Check() {
    }

    static void range(String field, double value, double min, double max) {
        if (!Double.isFinite(value) || value < min) {
            throw new IllegalArgumentException(field + " is " + show(value) + "; must be >= " + show(min));
        }
        if (value > max) {
            throw new IllegalArgumentException(field + " is " + show(value) + "; must be <= " + show(max));
        }
    }

    static void range(String field, long value, long min, long max) {
        if (value < min) {
            throw new IllegalArgumentException(field + " is " + value + "; must be >= " + min);
        }
        if (value > max) {
            throw new IllegalArgumentException(field + " is " + value + "; must be <= " + max);
        }
    }

    /** Strictly positive and finite (a rate, a limit of time). */
    static void positive(String field, double value, double max) {
        if (!Double.isFinite(value) || !(value > 0)) {
            throw new IllegalArgumentException(field + " is " + show(value) + "; must be > 0");
        }
        if (value > max) {
            throw new IllegalArgumentException(field + " is " + show(value) + "; must be <= " + show(max));
        }
    }

    static void that(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** 2.0 as "2", 0.25 as "0.25": the numbers as a person wrote them. */
    static String show(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.valueOf((long) v);
        }
        return String.format(Locale.ROOT, "%s", v);
    }
}
