package dev.flowblend.runtime;

/**
 * Classifier-free guidance, v = v_u + g * (v_c - v_u), in one float order for every place that
 * applies it (the orchestrator for workers that return both branches, in-process backends, and
 * workers that apply it themselves), so all of them give bitwise the same velocity. Stateless.
 */
public final class Guidance {
    private Guidance() {
    }

    /** One guided value. */
    public static float guided(float uncond, float cond, float g) {
        return uncond + g * (cond - uncond);
    }

    /**
     * Guided velocities of {@code samples} samples of {@code n} values each from a batch laid out
     * [cond_1..cond_S, uncond_1..uncond_S] (2 * samples * n values).
     */
    public static float[] combine(float[] both, int samples, int n, float g) {
        int total = samples * n;
        if (both.length != 2 * total) {
            throw new IllegalArgumentException("a guided batch of " + samples + " samples of " + n + " values has "
                    + 2 * total + " values; got " + both.length);
        }
        float[] out = new float[total];
        for (int i = 0; i < total; i++) {
            out[i] = guided(both[total + i], both[i], g);
        }
        return out;
    }
}
