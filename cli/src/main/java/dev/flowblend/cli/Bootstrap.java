package dev.flowblend.cli;

import java.util.Arrays;
import java.util.Random;
import java.util.function.ToDoubleFunction;

/**
 * Percentile bootstrap over paired benchmark iterations: how far a statistic of {@code n}
 * iterations would move if the run were repeated on the same noisy machine. Each resample draws
 * {@code n} iteration indices with replacement and evaluates the statistic on them, so the four
 * timings of one iteration (both plans, both modes, measured back to back) stay together. A single
 * `bench` run's ratio scattered by several hundredths between runs here; the interval says so in the
 * run itself. Deterministic for a given seed. Stateless; thread-safe.
 */
final class Bootstrap {
    private Bootstrap() {
    }

    /** The 2.5th and 97.5th percentiles of {@code statistic} over {@code resamples} resamples of 0..n-1. */
    static double[] interval95(int n, ToDoubleFunction<int[]> statistic, int resamples, long seed) {
        if (n < 1 || resamples < 1) {
            throw new IllegalArgumentException("need n >= 1 and resamples >= 1; got " + n + " and " + resamples);
        }
        Random random = new Random(seed);
        double[] values = new double[resamples];
        int[] sample = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                sample[i] = random.nextInt(n);
            }
            values[b] = statistic.applyAsDouble(sample);
        }
        Arrays.sort(values);
        return new double[] {values[(int) Math.floor(0.025 * (resamples - 1))],
                values[(int) Math.ceil(0.975 * (resamples - 1))]};
    }
}
