package dev.flowblend.calibration;

/**
 * Video and feature metrics used by calibration and evaluation. Videos are [F, H, W, C] floats in
 * [0, 1]. Pure functions; thread-safe.
 */
public final class Metrics {
    /** PSNR of identical videos is infinite; reported capped so results stay valid JSON. */
    public static final double PSNR_CAP = 100.0;

    private Metrics() {
    }

    /** Peak signal-to-noise ratio in dB for signals in [0, 1]. */
    public static double psnr(float[] a, float[] b) {
        requireSameLength(a, b);
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = a[i] - b[i];
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10(1.0 / mse));
    }

    /**
     * Mean SSIM (Wang et al. 2004): 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, data
     * range 1, evaluated where the window fits, averaged over frames and channels.
     */
    public static double ssim(float[] a, float[] b, int frames, int height, int width, int channels) {
        requireSameLength(a, b);
        int r = 5;
        double[] g = gaussian(r, 1.5);
        double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
        double total = 0;
        int count = 0;
        for (int f = 0; f < frames; f++) {
            for (int c = 0; c < channels; c++) {
                for (int y = r; y < height - r; y++) {
                    for (int x = r; x < width - r; x++) {
                        double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0;
                        for (int dy = -r; dy <= r; dy++) {
                            for (int dx = -r; dx <= r; dx++) {
                                double w = g[dy + r] * g[dx + r];
                                int i = (((f * height) + y + dy) * width + x + dx) * channels + c;
                                double va = a[i], vb = b[i];
                                ma += w * va;
                                mb += w * vb;
                                saa += w * va * va;
                                sbb += w * vb * vb;
                                sab += w * va * vb;
                            }
                        }
                        double va = saa - ma * ma, vb = sbb - mb * mb, cov = sab - ma * mb;
                        total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                        count++;
                    }
                }
            }
        }
        if (count == 0) {
            throw new IllegalArgumentException("frames of " + width + "x" + height + " are smaller than the 11x11 SSIM window");
        }
        return total / count;
    }

    private static double[] gaussian(int r, double sigma) {
        double[] g = new double[2 * r + 1];
        double s = 0;
        for (int i = -r; i <= r; i++) {
            g[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
            s += g[i + r];
        }
        for (int i = 0; i < g.length; i++) {
            g[i] /= s;
        }
        return g;
    }

    /** Cosine similarity; 0 when either vector is all zeros. */
    public static double cosine(float[] a, float[] b) {
        requireSameLength(a, b);
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return aa == 0 || bb == 0 ? 0 : ab / Math.sqrt(aa * bb);
    }

    /** ||a - b|| / ||a||: the velocity divergence of b from reference a. */
    public static double relativeL2(float[] a, float[] b) {
        requireSameLength(a, b);
        double d = 0, n = 0;
        for (int i = 0; i < a.length; i++) {
            double x = a[i] - b[i];
            d += x * x;
            n += (double) a[i] * a[i];
        }
        return n == 0 ? (d == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(d / n);
    }

    /**
     * Temporal coherence against a reference video: cosine similarity of the frame-difference
     * sequences (x[t+1] - x[t]). Static content cancels out, so it scores only whether things move
     * where and as the reference's do; 1 is identical motion. Frames of {@code frameSize} values.
     */
    public static double motionSimilarity(float[] a, float[] reference, int frames, int frameSize) {
        requireSameLength(a, reference);
        int n = (frames - 1) * frameSize;
        float[] da = new float[n];
        float[] dr = new float[n];
        for (int i = 0; i < n; i++) {
            da[i] = a[i + frameSize] - a[i];
            dr[i] = reference[i + frameSize] - reference[i];
        }
        return cosine(da, dr);
    }

    private static void requireSameLength(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("arrays differ in length: " + a.length + " vs " + b.length);
        }
    }
}
