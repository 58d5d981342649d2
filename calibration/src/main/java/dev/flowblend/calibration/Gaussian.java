package dev.flowblend.calibration;

import java.util.List;

/**
 * A feature distribution summarised as mean and covariance, and the Fréchet distance between
 * two such (the FID/FVD formula). Immutable.
 */
public record Gaussian(double[] mean, double[][] covariance) {

    /** Mean and unbiased covariance of feature vectors (at least two). */
    public static Gaussian of(List<float[]> features) {
        int n = features.size();
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 feature vectors, got " + n);
        }
        int d = features.get(0).length;
        double[] mu = new double[d];
        for (float[] f : features) {
            for (int i = 0; i < d; i++) {
                mu[i] += f[i];
            }
        }
        for (int i = 0; i < d; i++) {
            mu[i] /= n;
        }
        double[][] cov = new double[d][d];
        for (float[] f : features) {
            for (int i = 0; i < d; i++) {
                double di = f[i] - mu[i];
                for (int j = i; j < d; j++) {
                    cov[i][j] += di * (f[j] - mu[j]);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                cov[i][j] /= n - 1;
                cov[j][i] = cov[i][j];
            }
        }
        return new Gaussian(mu, cov);
    }

    /**
     * |mu1 - mu2|^2 + Tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2). Both square roots come from
     * symmetric eigendecompositions, so the result is real and stable for PSD covariances.
     */
    public double frechet(Gaussian other) {
        int d = mean.length;
        if (other.mean.length != d) {
            throw new IllegalArgumentException("feature dimensions differ: " + d + " vs " + other.mean.length);
        }
        double dist = 0;
        for (int i = 0; i < d; i++) {
            double x = mean[i] - other.mean[i];
            dist += x * x;
        }
        double[][] s1 = SymmetricEigen.sqrtPsd(covariance);
        double[][] inner = SymmetricEigen.multiply(SymmetricEigen.multiply(s1, other.covariance), s1);
        double trSqrt = 0;
        for (double l : SymmetricEigen.eigenvalues(inner)) {
            trSqrt += Math.sqrt(Math.max(0, l));
        }
        double tr1 = 0, tr2 = 0;
        for (int i = 0; i < d; i++) {
            tr1 += covariance[i][i];
            tr2 += other.covariance[i][i];
        }
        return dist + tr1 + tr2 - 2 * trSqrt;
    }
}
