package dev.flowblend.orchestrator;

import dev.flowblend.orchestrator.solver.HistoryAtSwitch;
import dev.flowblend.orchestrator.solver.Sampling;
import dev.flowblend.orchestrator.solver.Solver;
import dev.flowblend.runtime.Guidance;
import dev.flowblend.runtime.VideoSize;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;

/**
 * The sampling loop: asks the backend for each step's guided velocity, v = v_u + g * (v_c - v_u)
 * with cond and uncond in one batched call, from the pool the plan names, and hands it to a
 * {@link Solver} for the update (Euler unless told otherwise). Float arithmetic in a fixed order,
 * so every backend yields the same latent for the same velocities. Stateless apart from its
 * collaborators; thread-safe.
 */
public final class Sampler {

    /**
     * Observes each finished step, in step order, one call at a time, on whichever thread drives
     * the loop (the caller's, or a transport thread with a remote backend): keep it short.
     */
    public interface StepListener {
        void onStep(Step step);
    }

    /**
     * A finished step: its index of {@code steps}, its sigma, the pool and worker that served it,
     * the orchestrator's time for it (request to update) and the worker's queue and model time
     * within that; {@code plannedPool} is the pool the plan named, which differs from {@code pool}
     * when its fallback served the step, {@code fallbackReason} then saying why (else null);
     * {@code reused}: no model ran, the step took the last velocity {@code pool} returned (worker empty).
     */
    public record Step(int index, int steps, double sigma, String pool, String worker, double millis,
                       double queueMillis, double computeMillis, String plannedPool, String fallbackReason,
                       boolean reused) {
        /** A step that called a model (its planned pool's, or a fallback's). */
        public Step(int index, int steps, double sigma, String pool, String worker, double millis, double queueMillis,
                    double computeMillis, String plannedPool, String fallbackReason) {
            this(index, steps, sigma, pool, worker, millis, queueMillis, computeMillis, plannedPool, fallbackReason,
                    false);
        }

        /** A step served by its planned pool. */
        public Step(int index, int steps, double sigma, String pool, String worker, double millis, double queueMillis,
                    double computeMillis) {
            this(index, steps, sigma, pool, worker, millis, queueMillis, computeMillis, pool, null);
        }
    }

    /**
     * Asked between steps; a true answer stops sampling with CANCELLED. {@link #whenCancelled} lets
     * a cancellation end the wait for a step in flight at once (a stalled worker's step would
     * otherwise hold the generation until its step timeout).
     */
    public interface Cancellation {
        boolean cancelled();

        /** Runs {@code action} once when cancelled (at once if already); by default never. */
        default void whenCancelled(Runnable action) {
        }
    }

    private final Backend backend;
    private final double timestepScale;

    public Sampler(Backend backend, double timestepScale) {
        this.backend = backend;
        this.timestepScale = timestepScale;
    }

    /**
     * Samples {@code samples} latents together (one velocity call per step for all of them).
     * {@code noise} holds samples * n values (not modified); {@code conditioning} holds the
     * contexts [cond_1..cond_S, uncond_1..uncond_S] when guidance != 1, else [cond_1..cond_S];
     * {@code pools[k]} serves step k.
     *
     * <p>The loop is driven by the velocity futures: with a remote backend each step's update and
     * the next request run on the thread that received the reply, so a step costs no hand-off to
     * the calling thread and back; the listener hears of step k once step k+1 is on its way. The
     * calling thread waits for the end. In-process every step completes at once and the loop runs
     * on the calling thread.
     */
    public float[] sample(float[] noise, int samples, double[] sigmas, String[] pools, Conditioning conditioning,
                          double guidance, StepListener listener, Cancellation cancellation) throws BackendException {
        return sample(noise, samples, sigmas, pools, conditioning, guidance, null, listener, cancellation);
    }

    /** {@link #sample(float[], int, double[], String[], Conditioning, double, StepListener, Cancellation)} at {@code size} (null: the family's default). */
    public float[] sample(float[] noise, int samples, double[] sigmas, String[] pools, Conditioning conditioning,
                          double guidance, VideoSize size, StepListener listener, Cancellation cancellation)
            throws BackendException {
        return sample(noise, samples, sigmas, pools, conditioning, guidance, size, Sampling.EULER, listener,
                cancellation);
    }

    /**
     * {@link #sample(float[], int, double[], String[], Conditioning, double, VideoSize, StepListener, Cancellation)}
     * sampled as {@code sampling} says: its solver does the updates, its history policy applies where
     * {@code pools[k]} differs from {@code pools[k - 1]}, and the steps its reuse schedule names take
     * the last velocity instead of a backend call (reported with {@link Step#reused}).
     */
    public float[] sample(float[] noise, int samples, double[] sigmas, String[] pools, Conditioning conditioning,
                          double guidance, VideoSize size, Sampling sampling, StepListener listener,
                          Cancellation cancellation) throws BackendException {
        int batch = conditioning.batch();
        boolean cfg = batch == 2 * samples;
        if (!cfg && batch != samples) {
            throw new IllegalArgumentException("conditioning batch " + batch + " fits neither " + samples
                    + " samples nor their guided pairs");
        }
        if (sigmas.length != pools.length + 1) {
            throw new IllegalArgumentException(sigmas.length + " sigmas for " + pools.length + " steps; need "
                    + (pools.length + 1));
        }
        Run run = new Run(noise, noise.length / samples, sigmas, pools, conditioning, cfg, (float) guidance, size,
                sampling.solver().start(sigmas, noise.length), sampling.history() == HistoryAtSwitch.RESET,
                sampling.reused(pools, sigmas), listener, cancellation);
        cancellation.whenCancelled(() -> run.result.completeExceptionally(new BackendException(
                BackendException.Kind.CANCELLED, "generation cancelled during step " + run.k)));
        run.advance(null);
        try {
            return Backend.await(run.result);
        } finally {
            run.stopped = true;  // if we stopped waiting early, the chain stops at its next step
        }
    }

    /** One sample ({@code conditioning} is [cond, uncond] or [cond]). */
    public float[] sample(float[] noise, double[] sigmas, String[] pools, Conditioning conditioning, double guidance,
                          StepListener listener, Cancellation cancellation) throws BackendException {
        return sample(noise, 1, sigmas, pools, conditioning, guidance, listener, cancellation);
    }

    /** Classifier-free guidance: v_u + g * (v_c - v_u), in this exact float order everywhere ({@link Guidance}). */
    public static float guided(float uncond, float cond, float g) {
        return Guidance.guided(uncond, cond, g);
    }

    /** The state of one sampling loop; touched by one thread at a time, each step after the last. */
    private final class Run {
        final CompletableFuture<float[]> result = new CompletableFuture<>();
        final float[] x;
        final float[] in;
        final float[] t;
        final int total;
        final double[] sigmas;
        final String[] pools;
        final Conditioning conditioning;
        final boolean cfg;
        final float g;
        final VideoSize size;
        final Solver.Run solver;
        final boolean resetAtSwitch;
        final boolean[] reuse;        // null: every step calls the backend
        final float[] lastVelocity;   // the last velocity a backend returned, when steps may reuse it
        String lastPool;              // the pool that returned it
        final StepListener listener;
        final Cancellation cancellation;
        volatile boolean stopped;
        int k;
        long stepStart;

        Run(float[] noise, int n, double[] sigmas, String[] pools, Conditioning conditioning, boolean cfg, float g,
            VideoSize size, Solver.Run solver, boolean resetAtSwitch, boolean[] reuse, StepListener listener,
            Cancellation cancellation) {
            this.x = noise.clone();
            this.total = noise.length;
            this.in = new float[total];
            this.t = new float[total / n];
            this.sigmas = sigmas;
            this.pools = pools;
            this.conditioning = conditioning;
            this.cfg = cfg;
            this.g = g;
            this.size = size;
            this.solver = solver;
            this.resetAtSwitch = resetAtSwitch;
            this.reuse = reuse;
            this.lastVelocity = reuse == null ? null : new float[total];
            this.listener = listener;
            this.cancellation = cancellation;
        }

        /** Sends step k and goes on while replies are already there; {@code done} is the step to report. */
        void advance(Step done) {
            try {
                while (true) {
                    if (k == pools.length) {
                        report(done);
                        result.complete(x);
                        return;
                    }
                    if (stopped || cancellation.cancelled()) {
                        report(done);
                        result.completeExceptionally(new BackendException(BackendException.Kind.CANCELLED,
                                "generation cancelled before step " + k));
                        return;
                    }
                    stepStart = System.nanoTime();
                    if (reuse != null && reuse[k]) {
                        report(done);
                        done = reused();
                        continue;
                    }
                    System.arraycopy(x, 0, in, 0, total);
                    Arrays.fill(t, (float) (sigmas[k] * timestepScale));
                    CompletableFuture<Backend.Velocity> f =
                            backend.guidedVelocityAsync(pools[k], in, t, conditioning, t.length, g, size);
                    report(done);
                    if (!f.isDone()) {
                        f.whenComplete((v, err) -> {
                            try {
                                if (err != null) {
                                    result.completeExceptionally(Backend.unwrap(err));
                                } else {
                                    advance(apply(v));
                                }
                            } catch (BackendException | RuntimeException e) {
                                result.completeExceptionally(Backend.unwrap(e));
                            }
                        });
                        return;
                    }
                    done = apply(Backend.await(f));
                }
            } catch (BackendException | RuntimeException e) {
                result.completeExceptionally(Backend.unwrap(e));
            }
        }

        /** The solver's update of x for step k (guided velocity v), then moves on to step k + 1. */
        private Step apply(Backend.Velocity v) throws BackendException {
            float[] vv = v.values();
            if (vv.length != in.length) {
                throw new BackendException(BackendException.Kind.INTERNAL, "pool '"
                        + (v.pool() != null ? v.pool() : pools[k]) + "' returned "
                        + vv.length + " velocity values at step " + k + "; expected " + in.length);
            }
            if (resetAtSwitch && k > 0 && !pools[k].equals(pools[k - 1])) {
                solver.resetHistory();
            }
            if (lastVelocity != null) {
                System.arraycopy(vv, 0, lastVelocity, 0, total);
                lastPool = v.pool() != null ? v.pool() : pools[k];
            }
            solver.step(k, x, vv);
            Step d = new Step(k, pools.length, sigmas[k], v.pool() != null ? v.pool() : pools[k], v.worker(),
                    (System.nanoTime() - stepStart) / 1e6, v.queueMillis(), v.computeMillis(), pools[k],
                    v.fallbackReason());
            k++;
            return d;
        }

        /** Step k on the last velocity, no backend call (the schedule never reuses across a pool switch). */
        private Step reused() {
            solver.step(k, x, lastVelocity);
            Step d = new Step(k, pools.length, sigmas[k], lastPool, "", (System.nanoTime() - stepStart) / 1e6, 0, 0,
                    pools[k], null, true);
            k++;
            return d;
        }

        /** Steps are reported once the next step's request has left. */
        private void report(Step d) {
            if (d != null) {
                listener.onStep(d);
            }
        }
    }
}
