package dev.flowblend.calibration;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Metric math against values computed by hand. */
class MetricsTest {

    @Test
    void psnr_uniformErrorOfPointOne_twentyDecibels() {
        assertEquals(20.0, Metrics.psnr(new float[] {0, 0, 0, 0}, new float[] {0.1f, 0.1f, 0.1f, 0.1f}), 1e-5);
    }

    @Test
    void psnr_identical_cappedAtHundred() {
        assertEquals(100.0, Metrics.psnr(new float[] {0.3f}, new float[] {0.3f}), 0);
    }

    @Test
    void ssim_identicalVideos_one() {
        float[] a = new float[2 * 16 * 16];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i * 37 % 101) / 101f;
        }
        assertEquals(1.0, Metrics.ssim(a, a.clone(), 2, 16, 16, 1), 1e-12);
    }

    @Test
    void ssim_twoConstantImages_luminanceTermOnly() {
        // constant 0.2 vs 0.4: variances 0, so SSIM = (2*0.2*0.4 + C1) / (0.04 + 0.16 + C1)
        float[] a = new float[12 * 12];
        float[] b = new float[12 * 12];
        Arrays.fill(a, 0.2f);
        Arrays.fill(b, 0.4f);
        double c1 = 1e-4;
        assertEquals((0.16 + c1) / (0.2 + c1), Metrics.ssim(a, b, 1, 12, 12, 1), 1e-6);
    }

    @Test
    void cosine_unitAndDiagonal_oneOverRootTwo() {
        assertEquals(1 / Math.sqrt(2), Metrics.cosine(new float[] {1, 0}, new float[] {1, 1}), 1e-12);
    }

    @Test
    void relativeL2_threeFourFive_pointSix() {
        // a = (3, 4): |a| = 5; b = (0, 1): |a - b| = sqrt(9 + 9) = 4.2426
        assertEquals(Math.sqrt(18) / 5, Metrics.relativeL2(new float[] {3, 4}, new float[] {0, 1}), 1e-9);
    }

    @Test
    void motionSimilarity_sameMotionDifferentStaticContent_one() {
        // frame size 2, 3 frames: a moves +1 per frame on value 0; b has an offset but the same motion
        float[] a = {0, 5, 1, 5, 2, 5};
        float[] b = {3, 9, 4, 9, 5, 9};
        assertEquals(1.0, Metrics.motionSimilarity(a, b, 3, 2), 1e-12);
        float[] c = {2, 5, 1, 5, 0, 5};  // opposite motion
        assertEquals(-1.0, Metrics.motionSimilarity(a, c, 3, 2), 1e-12);
    }

    @Test
    void frechet_oneDimensional_matchesClosedForm() {
        // N(0, 1) vs N(1, 4): (0-1)^2 + 1 + 4 - 2*sqrt(1*4) = 2
        Gaussian p = new Gaussian(new double[] {0}, new double[][] {{1}});
        Gaussian q = new Gaussian(new double[] {1}, new double[][] {{4}});
        assertEquals(2.0, p.frechet(q), 1e-12);
    }

    @Test
    void frechet_rotatedCovariance_matchesHandComputed() {
        // C1 = I, C2 = [[2,1],[1,2]] (eigenvalues 3, 1): Tr = 2 + 4 - 2*(sqrt3 + 1)
        Gaussian p = new Gaussian(new double[] {0, 0}, new double[][] {{1, 0}, {0, 1}});
        Gaussian q = new Gaussian(new double[] {0, 0}, new double[][] {{2, 1}, {1, 2}});
        assertEquals(6 - 2 * (Math.sqrt(3) + 1), p.frechet(q), 1e-10);
        assertEquals(0.0, q.frechet(q), 1e-10);
    }

    @Test
    void gaussianOf_threeSamples_unbiasedCovariance() {
        Gaussian g = Gaussian.of(List.of(new float[] {1, 2}, new float[] {3, 2}, new float[] {5, 8}));
        assertEquals(3.0, g.mean()[0], 1e-12);
        assertEquals(4.0, g.mean()[1], 1e-12);
        assertEquals(4.0, g.covariance()[0][0], 1e-12);  // ((-2)^2 + 0 + 2^2) / 2
        assertEquals(6.0, g.covariance()[0][1], 1e-12);  // ((-2)(-2) + 0 + 2*4) / 2
        assertEquals(12.0, g.covariance()[1][1], 1e-12);
    }
}
