package dev.flowblend.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ONNX Runtime Java runs the bundled exports; batch composition changes results only in the last bits. */
class OnnxModelTest {
    private static ModelFamily family;
    private static OnnxModel large;

    @BeforeAll
    static void load() {
        family = ModelFamily.load(ModelFamily.defaultDirectory());
        large = OnnxModel.load(family, family.byRole(ModelFamily.ROLE_VELOCITY_LARGE), RuntimeOptions.cpu(1));
    }

    @AfterAll
    static void close() {
        large.close();
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void run_sameSamplesAloneAndInsideLargerBatch_agreeWithin1e5Relative() throws Exception {
        int lat = (int) large.spec().input("latent").sampleElements();
        int ctx = (int) large.spec().input("context").sampleElements();
        float[] x8 = random(8 * lat, 1);
        float[] t8 = {900, 900, 10, 500, 250, 999, 1, 640};
        float[] c8 = random(8 * ctx, 2);
        float[] v8 = large.runFloats(List.of(x8, t8, c8), 8).get(0);
        float[] v2 = large.runFloats(List.of(java.util.Arrays.copyOf(x8, 2 * lat), java.util.Arrays.copyOf(t8, 2),
                java.util.Arrays.copyOf(c8, 2 * ctx)), 2).get(0);
        double num = 0, den = 0;
        for (int i = 0; i < v2.length; i++) {
            num += (v2[i] - v8[i]) * (double) (v2[i] - v8[i]);
            den += v8[i] * (double) v8[i];
        }
        double rel = Math.sqrt(num / den);
        assertTrue(rel < 1e-5, "relative L2 difference " + rel);
    }

    @Test
    void run_wrongInputCount_rejectedNamingModel() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> large.runFloats(List.of(new float[1]), 1));
        assertEquals("model 'velocity-large' takes 3 inputs, got 1", e.getMessage());
    }

    @Test
    void load_cudaOnAHostWithoutIt_errorNamesModelProviderAndRemedy() {
        ModelEntry small = family.byRole(ModelFamily.ROLE_VELOCITY_SMALL);
        IllegalStateException e;
        try (OnnxModel m = OnnxModel.load(family, small, new RuntimeOptions(1, 1, "cuda"))) {
            Assumptions.abort("this host runs the CUDA provider: nothing to refuse");
            return;
        } catch (IllegalStateException x) {
            e = x;
        }
        String m = e.getMessage();
        assertTrue(m.contains("'" + small.name() + "'") && m.contains("'cuda'"), m);
        // a CPU build names the profile to build with; a -Pgpu build on a host without CUDA, the libraries
        assertTrue(m.contains("mvn -Pgpu") || m.contains("CUDA 12 and cuDNN 9"), m);
    }
}
