package dev.flowblend.calibration;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a plan must keep relative to large-only. Defaults: feature similarity >= 0.95, accuracy >=
 * 98% of large-only's, Fréchet <= 1.1 x large-only's. Immutable.
 */
public record Tolerances(double minSimilarity, double minAccuracyRatio, double maxFrechetRatio) {
    public static final Tolerances DEFAULT = new Tolerances(0.95, 0.98, 1.1);

    public Tolerances {
        if (!(minSimilarity >= -1 && minSimilarity <= 1)) {
            throw new IllegalArgumentException("min similarity is " + minSimilarity + "; must be in [-1, 1]");
        }
        if (!(minAccuracyRatio >= 0) || !(maxFrechetRatio >= 1)) {
            throw new IllegalArgumentException("min accuracy ratio must be >= 0 and max Fréchet ratio >= 1; got "
                    + minAccuracyRatio + ", " + maxFrechetRatio);
        }
    }

    /** Whether measurements of a plan meet the tolerances against large-only's accuracy and Fréchet distance. */
    public boolean meets(double similarity, double accuracy, double frechet, double largeOnlyAccuracy,
                         double largeOnlyFrechet) {
        return similarity >= minSimilarity && accuracy >= minAccuracyRatio * largeOnlyAccuracy
                && frechet <= maxFrechetRatio * largeOnlyFrechet;
    }

    /** The criteria {@code q} misses against {@code largeOnly}; empty when it passes. */
    public List<String> violations(PlanQuality q, PlanQuality largeOnly) {
        List<String> v = new ArrayList<>();
        if (q.similarity() < minSimilarity) {
            v.add(String.format(Locale.ROOT, "similarity %.4f < %.4f", q.similarity(), minSimilarity));
        }
        if (q.accuracy() < minAccuracyRatio * largeOnly.accuracy()) {
            v.add(String.format(Locale.ROOT, "accuracy %.4f < %.2f x %.4f", q.accuracy(), minAccuracyRatio, largeOnly.accuracy()));
        }
        if (q.frechet() > maxFrechetRatio * largeOnly.frechet()) {
            v.add(String.format(Locale.ROOT, "frechet %.4f > %.2f x %.4f", q.frechet(), maxFrechetRatio, largeOnly.frechet()));
        }
        return v;
    }
}
