package dev.flowblend.calibration;

/**
 * Eigendecomposition of small symmetric matrices by cyclic Jacobi rotations (exact to rounding
 * for the 64x64 covariances Fréchet distances need). Pure functions.
 */
final class SymmetricEigen {
    private SymmetricEigen() {
    }

    /** Returns the eigenvalues of symmetric {@code m} and fills {@code v} with its eigenvectors (columns). */
    static double[] decompose(double[][] m, double[][] v) {
        int n = m.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = m[i].clone();
            java.util.Arrays.fill(v[i], 0);
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p][q] * a[p][q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] eig = new double[n];
        for (int i = 0; i < n; i++) {
            eig[i] = a[i][i];
        }
        return eig;
    }

    static double[] eigenvalues(double[][] m) {
        return decompose(symmetrize(m), new double[m.length][m.length]);
    }

    /** The PSD square root V diag(sqrt(max(l, 0))) V^T. */
    static double[][] sqrtPsd(double[][] m) {
        int n = m.length;
        double[][] v = new double[n][n];
        double[] l = decompose(symmetrize(m), v);
        double[][] r = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < n; k++) {
                    s += v[i][k] * Math.sqrt(Math.max(0, l[k])) * v[j][k];
                }
                r[i][j] = s;
            }
        }
        return r;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length, m = b[0].length, k = b.length;
        double[][] r = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < k; t++) {
                double x = a[i][t];
                for (int j = 0; j < m; j++) {
                    r[i][j] += x * b[t][j];
                }
            }
        }
        return r;
    }

    private static double[][] symmetrize(double[][] m) {
        int n = m.length;
        double[][] s = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                s[i][j] = (m[i][j] + m[j][i]) / 2;
            }
        }
        return s;
    }
}
