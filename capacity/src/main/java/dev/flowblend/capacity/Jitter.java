package dev.flowblend.capacity;

import java.util.SplittableRandom;

/**
 * How much slower or faster a device runs now than its nominal costs say: a factor constant over
 * windows of {@code periodMs} and independent between windows, log-normal with mean 1 and
 * coefficient of variation {@code cv}. A real device's speed wanders with what shares its host
 * (other processes, garbage collection, clocks): a generation that runs in a slow stretch is slow
 * at every step, which is why latencies spread even with one client and nothing queued, and what
 * independent noise per batch, averaging out over 50 steps, would not show. With {@code cv} 0 every
 * factor is exactly 1. Deterministic: window k's factor depends only on the seed and k.
 */
final class Jitter {
    private final double sigma;
    private final double periodMs;
    private final long seed;
    private long window = Long.MIN_VALUE;
    private double factor = 1.0;

    Jitter(double cv, double periodMs, long seed) {
        this.sigma = Math.sqrt(Math.log1p(cv * cv));
        this.periodMs = periodMs;
        this.seed = seed;
    }

    /** The factor at simulated time {@code ms}. */
    double factor(double ms) {
        if (sigma == 0) {
            return 1.0;
        }
        long k = (long) Math.floor(ms / periodMs);
        if (k != window) {
            window = k;
            double z = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + k).nextGaussian();
            factor = Math.exp(sigma * z - sigma * sigma / 2);
        }
        return factor;
    }
}
