package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** Velocity cond = 1.0, uncond = 0.5 everywhere; records which pool served each call. */
    static final class FakeBackend implements Backend {
        final List<String> pools = new ArrayList<>();
        final List<Float> timesteps = new ArrayList<>();

        @Override
        public float[] encodeText(long[] ids, int batch) {
            return new float[batch];
        }

        @Override
        public Velocity velocity(String pool, float[] latent, float[] t, Conditioning c, int batch) {
            pools.add(pool);
            timesteps.add(t[0]);
            int n = latent.length / batch;
            float[] v = new float[latent.length];
            for (int i = 0; i < n; i++) {
                v[i] = 1.0f;
                if (batch == 2) {
                    v[n + i] = 0.5f;
                }
            }
            return new Velocity(v, pool + "-0");
        }

        @Override
        public float[] decode(float[] latent, int batch) {
            return latent;
        }

        @Override
        public boolean hasPool(String pool) {
            return true;
        }

        @Override
        public String poolModel(String pool) {
            return "velocity-" + pool;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void sample_constantVelocityWithGuidance_movesByGuidedVelocityTimesMinusOne() throws Exception {
        FakeBackend b = new FakeBackend();
        Sampler s = new Sampler(b, 1000.0);
        double[] sigmas = SigmaSchedule.sigmas(4, 1.0);
        float[] x = s.sample(new float[] {2f, 3f}, sigmas, new String[] {"large", "small", "small", "large"},
                new Conditioning("c", new float[2], 2), 3.0, (k, n, sg, p, w, ms) -> { }, () -> false);
        // guided v = 0.5 + 3 * (1 - 0.5) = 2; sum of dt = -1
        assertArrayEquals(new float[] {0f, 1f}, x, 1e-6f);
        assertEquals(List.of("large", "small", "small", "large"), b.pools);
        assertEquals(List.of(1000f, 750f, 500f, 250f), b.timesteps);
    }

    @Test
    void sample_noGuidance_usesConditionalBranchOnly() throws Exception {
        FakeBackend b = new FakeBackend();
        float[] x = new Sampler(b, 1000.0).sample(new float[] {2f}, SigmaSchedule.sigmas(2, 1.0),
                new String[] {"large", "large"}, new Conditioning("c", new float[1], 1), 1.0,
                (k, n, sg, p, w, ms) -> { }, () -> false);
        assertArrayEquals(new float[] {1f}, x, 1e-6f);
    }

    @Test
    void sample_cancelledAfterTwoSteps_throwsCancelledAndStops() {
        FakeBackend b = new FakeBackend();
        BackendException e = assertThrows(BackendException.class, () -> new Sampler(b, 1000.0).sample(new float[1],
                SigmaSchedule.sigmas(5, 1.0), new String[] {"large", "large", "large", "large", "large"},
                new Conditioning("c", new float[1], 1), 1.0, (k, n, sg, p, w, ms) -> { }, () -> b.pools.size() >= 2));
        assertEquals(BackendException.Kind.CANCELLED, e.kind());
        assertEquals(2, b.pools.size());
    }
}
