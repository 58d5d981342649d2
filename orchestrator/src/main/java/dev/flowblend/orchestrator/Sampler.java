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
     * Samples one latent. {@code conditioning} holds [cond, uncond] when guidance != 1, else [cond];
     * {@code pools[k]} serves step k; {@code noise} is the initial latent (not modified).
     */
    public float[] sample(float[] noise, double[] sigmas, String[] pools, Conditioning conditioning, double guidance,
                          StepListener listener, Cancellation cancellation) throws BackendException {
        int n = noise.length;
        int batch = conditioning.batch();
        boolean cfg = batch == 2;
        float g = (float) guidance;
        float[] x = noise.clone();
        float[] in = new float[n * batch];
        float[] t = new float[batch];
        for (int k = 0; k < pools.length; k++) {
            if (cancellation.cancelled()) {
                throw new BackendException(BackendException.Kind.CANCELLED, "generation cancelled before step " + k);
            }
            long start = System.nanoTime();
            for (int b = 0; b < batch; b++) {
                System.arraycopy(x, 0, in, b * n, n);
                t[b] = (float) (sigmas[k] * timestepScale);
            }
            Backend.Velocity v = backend.velocity(pools[k], in, t, conditioning, batch);
            float[] vv = v.values();
            if (vv.length != n * batch) {
                throw new BackendException(BackendException.Kind.INTERNAL, "pool '" + pools[k] + "' returned "
                        + vv.length + " velocity values at step " + k + "; expected " + n * batch);
            }
            float dt = (float) (sigmas[k + 1] - sigmas[k]);
            for (int i = 0; i < n; i++) {
                float vel = cfg ? vv[n + i] + g * (vv[i] - vv[n + i]) : vv[i];
                x[i] = x[i] + dt * vel;
            }
            listener.onStep(k, pools.length, sigmas[k], pools[k], v.worker(), (System.nanoTime() - start) / 1e6);
        }
        return x;
    }
}
