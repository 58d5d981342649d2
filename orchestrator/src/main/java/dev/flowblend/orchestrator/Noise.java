package dev.flowblend.orchestrator;

import java.util.Random;

/**
 * Initial latent noise from a seed. java.util.Random's Gaussian (polar method) is specified by
 * its Javadoc, so the same seed gives the same noise on every JVM, in every process.
 */
public final class Noise {
    private Noise() {
    }

    public static float[] gaussian(long seed, int n) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
