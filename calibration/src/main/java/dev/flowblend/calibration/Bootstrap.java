package dev.flowblend.calibration;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * How sure a pass is: the share of bootstrap resamples of a video set on which a plan still meets
 * the tolerances. A resample draws n video indices with replacement and takes the plan's video i
 * together with large-only's video i (same prompt and seed), so the two sides stay paired as in
 * the measurement itself. A plan measured just inside a tolerance passes about half the
 * resamples; requiring a high share keeps a guard band as wide as the set's own sampling noise,
 * which is what a verdict on unseen seeds will see. Pure; deterministic for a seed.
 */
public final class Bootstrap {

    /** Per-video measurements of one plan on one set, index i = sample i. */
    public record Side(boolean[] right, double[] similarity, List<float[]> features) {
        public Side {
            if (right.length != similarity.length || right.length != features.size()) {
                throw new IllegalArgumentException("per-video arrays differ in length: " + right.length + ", "
                        + similarity.length + ", " + features.size());
            }
        }
    }

    private Bootstrap() {
    }

    /**
     * The share, in [0, 1], of {@code resamples} resamples on which {@code plan} meets {@code tol}
     * against {@code largeOnly}, Fréchet distances taken to {@code real}.
     */
    public static double passShare(Side plan, Side largeOnly, Gaussian real, Tolerances tol, int resamples, long seed) {
        int n = plan.right().length;
        if (largeOnly.right().length != n || n < 2) {
            throw new IllegalArgumentException("need the same n >= 2 videos on both sides; got " + n + " and "
                    + largeOnly.right().length);
        }
        if (resamples < 1) {
            throw new IllegalArgumentException("resamples is " + resamples + "; must be >= 1");
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int passed = 0;
        int[] idx = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                idx[i] = rng.nextInt(n);
            }
            if (tol.meets(mean(plan.similarity(), idx), share(plan.right(), idx), frechet(plan, idx, real),
                    share(largeOnly.right(), idx), frechet(largeOnly, idx, real))) {
                passed++;
            }
        }
        return passed / (double) resamples;
    }

    private static double share(boolean[] v, int[] idx) {
        int k = 0;
        for (int i : idx) {
            k += v[i] ? 1 : 0;
        }
        return k / (double) idx.length;
    }

    private static double mean(double[] v, int[] idx) {
        double s = 0;
        for (int i : idx) {
            s += v[i];
        }
        return s / idx.length;
    }

    private static double frechet(Side side, int[] idx, Gaussian real) {
        List<float[]> f = new ArrayList<>(idx.length);
        for (int i : idx) {
            f.add(side.features().get(i));
        }
        return Gaussian.of(f).frechet(real);
    }
}
