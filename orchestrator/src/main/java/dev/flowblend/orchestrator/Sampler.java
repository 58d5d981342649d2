package dev.flowblend.orchestrator;

/**
 * The flow-matching Euler sampler with classifier-free guidance and a per-step pool.
 * x_{k+1} = x_k + (sigma_{k+1} - sigma_k) * v, v = v_u + g * (v_c - v_u), cond and uncond in one
 * batched call. Float arithmetic, in a fixed order, so every backend yields the same latent for the
 * same velocities. Stateless apart from its collaborators; thread-safe.
 */
public final class Sampler {

    /** Observes each finished step (called on the sampling thread). */
    public interface StepListener {
        void onStep(int step, int steps, double sigma, String pool, String worker, double millis);
    }

    /** Asked between steps; a true answer stops sampling with CANCELLED. */
    public interface Cancellation {
        boolean cancelled();
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
     */
    public float[] sample(float[] noise, int samples, double[] sigmas, String[] pools, Conditioning conditioning,
                          double guidance, StepListener listener, Cancellation cancellation) throws BackendException {
        int total = noise.length;
        int n = total / samples;
        int batch = conditioning.batch();
        boolean cfg = batch == 2 * samples;
        if (!cfg && batch != samples) {
            throw new IllegalArgumentException("conditioning batch " + batch + " fits neither " + samples
                    + " samples nor their guided pairs");
        }
        float g = (float) guidance;
        float[] x = noise.clone();
        float[] in = new float[n * batch];
        float[] t = new float[batch];
        for (int k = 0; k < pools.length; k++) {
            if (cancellation.cancelled()) {
                throw new BackendException(BackendException.Kind.CANCELLED, "generation cancelled before step " + k);
            }
            long start = System.nanoTime();
            System.arraycopy(x, 0, in, 0, total);
            if (cfg) {
                System.arraycopy(x, 0, in, total, total);
            }
            java.util.Arrays.fill(t, (float) (sigmas[k] * timestepScale));
            Backend.Velocity v = backend.velocity(pools[k], in, t, conditioning, batch);
            float[] vv = v.values();
            if (vv.length != n * batch) {
                throw new BackendException(BackendException.Kind.INTERNAL, "pool '" + pools[k] + "' returned "
                        + vv.length + " velocity values at step " + k + "; expected " + n * batch);
            }
            float dt = (float) (sigmas[k + 1] - sigmas[k]);
            for (int i = 0; i < total; i++) {
                float vel = cfg ? guided(vv[total + i], vv[i], g) : vv[i];
                x[i] = x[i] + dt * vel;
            }
            listener.onStep(k, pools.length, sigmas[k], pools[k], v.worker(), (System.nanoTime() - start) / 1e6);
        }
        return x;
    }

    /** One sample ({@code conditioning} is [cond, uncond] or [cond]). */
    public float[] sample(float[] noise, double[] sigmas, String[] pools, Conditioning conditioning, double guidance,
                          StepListener listener, Cancellation cancellation) throws BackendException {
        return sample(noise, 1, sigmas, pools, conditioning, guidance, listener, cancellation);
    }

    /** Classifier-free guidance: v_u + g * (v_c - v_u), in this exact float order everywhere. */
    public static float guided(float uncond, float cond, float g) {
        return uncond + g * (cond - uncond);
    }
}
