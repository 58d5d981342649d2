package dev.flowblend.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * When a load's requests arrive and in which order its points run. Pure functions of their
 * arguments, so two runs with the same flags make the same schedule and the same order.
 */
final class LoadSchedule {
    private LoadSchedule() {
    }

    /**
     * Arrival times of a Poisson process of {@code rate} per second, as nanos after the point's
     * start, seen from an arrival: arrival 0 at 0 (so no idle lead-in counts in the point's
     * window), arrival i after i exponential inter-arrival draws, -ln(1 - U) / rate with U from
     * {@code java.util.Random(seed)} (its algorithm is fixed by its specification, so the same seed
     * gives the same times on every JVM). At most {@code count} arrivals, and none later than
     * {@code durationSeconds} when that is positive (0: no time bound).
     *
     * <p>Every rate uses the same uniform draws, so the schedule at rate 2 is the schedule at rate 1
     * compressed by two: the points of a sweep differ by their rate only (common random numbers).
     */
    static long[] poisson(double rate, long seed, int count, double durationSeconds) {
        if (!(rate > 0) || Double.isInfinite(rate) || count < 0 || durationSeconds < 0) {
            throw new IllegalArgumentException("rate " + rate + " must be positive and finite, count " + count
                    + " and duration " + durationSeconds + " not negative");
        }
        Random random = new Random(seed);
        long[] at = new long[count];
        double t = 0;
        int n = 0;
        while (n < count) {
            if (n > 0) {
                t += -Math.log(1 - random.nextDouble()) / rate;
                if (durationSeconds > 0 && t > durationSeconds) {
                    break;
                }
            }
            at[n++] = Math.round(t * 1e9);
        }
        return n == count ? at : java.util.Arrays.copyOf(at, n);
    }

    /** One point of a sweep: the {@code loadIndex}-th load value run with {@code plan}. */
    record Slot(int loadIndex, String plan) {
    }

    /**
     * The points in the order they run: every load value in turn, and at each one every plan,
     * the plan order rotated by one per load value (two plans: A B, B A, A B, ...), so a slow drift
     * of the cluster (warming caches, a neighbour's load) falls on every plan alike rather than
     * always on the one that runs second.
     */
    static List<Slot> order(int loads, List<String> plans) {
        if (loads < 1 || plans.isEmpty()) {
            throw new IllegalArgumentException("need at least one load value and one plan");
        }
        List<Slot> out = new ArrayList<>(loads * plans.size());
        for (int l = 0; l < loads; l++) {
            for (int k = 0; k < plans.size(); k++) {
                out.add(new Slot(l, plans.get((k + l) % plans.size())));
            }
        }
        return out;
    }
}
