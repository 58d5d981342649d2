package dev.flowblend.orchestrator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.flowblend.orchestrator.solver.DpmSolver2M;
import dev.flowblend.orchestrator.solver.EulerSolver;
import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.orchestrator.solver.StepReuse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

class SamplerTest {

    /** Velocity cond = 1.0, uncond = 0.5 everywhere; records which pool served each call. */
    static final class FakeBackend implements Backend {
        final List<String> pools = new ArrayList<>();
        final List<Float> timesteps = new ArrayList<>();
        /** Where replies complete: null answers before returning, as in-process does. */
        Executor replies;
        /** The call index that fails with UNAVAILABLE, or -1. */
        int failAt = -1;
        /** When set, the velocity of (pool, latent) instead of the constants. */
        java.util.function.BiFunction<String, float[], float[]> field;

        @Override
        public float[] encodeText(long[] ids, long[] mask, int batch) {
            return new float[batch];
        }

        @Override
        public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] t, Conditioning c,
                                                         int batch) {
            if (pools.size() == failAt) {
                return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.UNAVAILABLE, "down"));
            }
            Velocity v = compute(pool, latent, t, batch);
            return replies == null ? CompletableFuture.completedFuture(v)
                    : CompletableFuture.supplyAsync(() -> v, replies);
        }

        private Velocity compute(String pool, float[] latent, float[] t, int batch) {
            pools.add(pool);
            timesteps.add(t[0]);
            if (field != null) {
                return new Velocity(field.apply(pool, latent), pool + "-0", 0, 0);
            }
            int n = latent.length / batch;
            float[] v = new float[latent.length];
            for (int i = 0; i < n; i++) {
                v[i] = 1.0f;
                if (batch == 2) {
                    v[n + i] = 0.5f;
                }
            }
            return new Velocity(v, pool + "-0", 0, 0);
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
                new Conditioning("c", new float[2], 2), 3.0, step -> { }, () -> false);
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
                s -> { }, () -> false);
        assertArrayEquals(new float[] {1f}, x, 1e-6f);
    }

    @Test
    void sample_cancelledAfterTwoSteps_throwsCancelledAndStops() {
        FakeBackend b = new FakeBackend();
        BackendException e = assertThrows(BackendException.class, () -> new Sampler(b, 1000.0).sample(new float[1],
                SigmaSchedule.sigmas(5, 1.0), new String[] {"large", "large", "large", "large", "large"},
                new Conditioning("c", new float[1], 1), 1.0, step -> { }, () -> b.pools.size() >= 2));
        assertEquals(BackendException.Kind.CANCELLED, e.kind());
        assertEquals(2, b.pools.size());
    }

    @Test
    void sample_repliesOnAnotherThread_sameLatentAndEveryStepReportedInOrder() throws Exception {
        double[] sigmas = SigmaSchedule.sigmas(6, 3.0);
        String[] plan = {"large", "large", "small", "small", "large", "large"};
        FakeBackend direct = new FakeBackend();
        float[] expected = new Sampler(direct, 1000.0).sample(new float[] {2f, -1f}, sigmas, plan,
                new Conditioning("c", new float[2], 2), 4.0, step -> { }, () -> false);
        ExecutorService transport = Executors.newSingleThreadExecutor();
        try {
            FakeBackend remote = new FakeBackend();
            remote.replies = transport;
            List<String> reported = new ArrayList<>();
            float[] x = new Sampler(remote, 1000.0).sample(new float[] {2f, -1f}, sigmas, plan,
                    new Conditioning("c", new float[2], 2), 4.0,
                    s -> reported.add(s.index() + ":" + s.pool() + ":" + s.worker()), () -> false);
            assertArrayEquals(expected, x);
            assertEquals(List.of("0:large:large-0", "1:large:large-0", "2:small:small-0", "3:small:small-0",
                    "4:large:large-0", "5:large:large-0"), reported);
        } finally {
            transport.shutdownNow();
        }
    }

    @Test
    void sample_thirdCallFails_throwsItsKindAndSendsNothingMore() {
        ExecutorService transport = Executors.newSingleThreadExecutor();
        try {
            FakeBackend b = new FakeBackend();
            b.replies = transport;
            b.failAt = 2;
            BackendException e = assertThrows(BackendException.class, () -> new Sampler(b, 1000.0).sample(
                    new float[1], SigmaSchedule.sigmas(5, 1.0), new String[] {"large", "large", "large", "large", "large"},
                    new Conditioning("c", new float[1], 1), 1.0, step -> { }, () -> false));
            assertEquals(BackendException.Kind.UNAVAILABLE, e.kind());
            assertEquals(2, b.pools.size());
        } finally {
            transport.shutdownNow();
        }
    }

    /** The solver driven by hand over the same velocities, resetting its history before each step of {@code resets}. */
    private static float[] byHand(Solver solver, double[] sigmas, String[] pools, float x0, int... resets) {
        float[] x = {x0};
        Solver.Run run = solver.start(sigmas, 1);
        for (int k = 0; k < pools.length; k++) {
            float[] v = {(pools[k].equals("large") ? 1f : 2f) * x[0]};
            for (int r : resets) {
                if (k == r) {
                    run.resetHistory();
                }
            }
            run.step(k, x, v);
        }
        return x;
    }

    @Test
    void solverHistoryIsCarriedOrResetAtAPoolSwitchAsAsked() throws Exception {
        double[] sigmas = SigmaSchedule.sigmas(8, 3.0);
        String[] pools = {"large", "large", "large", "small", "small", "small", "large", "large"};
        FakeBackend linear = new FakeBackend();
        linear.field = (pool, latent) -> {  // v = x for "large", 2x for "small"
            float[] v = new float[latent.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (pool.equals("large") ? 1f : 2f) * latent[i];
            }
            return v;
        };
        Sampler s = new Sampler(linear, 1000.0);
        Conditioning c = new Conditioning("c", new float[1], 1);
        float[] carry = s.sample(new float[] {0.8f}, 1, sigmas, pools, c, 1.0, null,
                new Sampling(DpmSolver2M.INSTANCE, HistoryAtSwitch.CARRY, null), step -> { }, () -> false);
        float[] reset = s.sample(new float[] {0.8f}, 1, sigmas, pools, c, 1.0, null,
                new Sampling(DpmSolver2M.INSTANCE, HistoryAtSwitch.RESET, null), step -> { }, () -> false);
        assertArrayEquals(byHand(DpmSolver2M.INSTANCE, sigmas, pools, 0.8f), carry);
        assertArrayEquals(byHand(DpmSolver2M.INSTANCE, sigmas, pools, 0.8f, 3, 6), reset);
        assertNotEquals(carry[0], reset[0]);
        // Euler has no history: both policies give the default sampler's bits
        float[] euler = s.sample(new float[] {0.8f}, 1, sigmas, pools, c, 1.0, null,
                new Sampling(EulerSolver.INSTANCE, HistoryAtSwitch.RESET, null), step -> { }, () -> false);
        assertArrayEquals(s.sample(new float[] {0.8f}, sigmas, pools, c, 1.0, step -> { }, () -> false), euler);
        assertArrayEquals(byHand(EulerSolver.INSTANCE, sigmas, pools, 0.8f), euler);
    }

    @Test
    void reusedStepsCallNoBackendAndAreReportedWithThePoolThatLastRan() throws Exception {
        double[] sigmas = SigmaSchedule.sigmas(10, 1.0);
        String[] pools = new String[10];
        java.util.Arrays.fill(pools, "large");
        StepReuse reuse = new StepReuse(0.25, new double[] {1.0, 0.0}, java.util.Map.of("large", new double[] {1.0, 1.0}));
        FakeBackend b = new FakeBackend();
        List<Sampler.Step> steps = new ArrayList<>();
        float[] x = new Sampler(b, 1000.0).sample(new float[] {2f}, 1, sigmas, pools,
                new Conditioning("c", new float[1], 1), 1.0, null, new Sampling(EulerSolver.INSTANCE,
                        HistoryAtSwitch.CARRY, reuse), steps::add, () -> false);
        assertEquals(4, b.pools.size(), "steps 0, 3, 6 and 9 call the model; the rest reuse");
        assertEquals(List.of(false, true, true, false, true, true, false, true, true, false),
                steps.stream().map(Sampler.Step::reused).toList());
        assertEquals("large", steps.get(1).pool());
        assertEquals("", steps.get(1).worker());
        // the fake's velocity is 1 everywhere, so reusing it changes nothing: x = 2 - 1
        assertEquals(1f, x[0], 1e-6f);
    }
}
