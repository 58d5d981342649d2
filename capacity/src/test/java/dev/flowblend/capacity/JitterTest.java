package dev.flowblend.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** The device speed factor: constant within a window, mean 1 with the asked spread, deterministic. */
class JitterTest {
    @Test
    void noJitterIsExactlyOne() {
        Jitter j = new Jitter(0, 100, 1);
        assertEquals(1.0, j.factor(0));
        assertEquals(1.0, j.factor(12345.6));
    }

    @Test
    void constantWithinAWindowAndTheSameForTheSameSeed() {
        Jitter a = new Jitter(0.2, 100, 7);
        Jitter b = new Jitter(0.2, 100, 7);
        double f = a.factor(10);
        assertEquals(f, a.factor(99.9));
        assertNotEquals(f, a.factor(100.0));
        assertEquals(f, b.factor(50));
        assertEquals(a.factor(250), new Jitter(0.2, 100, 7).factor(201));
    }

    @Test
    void meanOneAndTheAskedCoefficientOfVariation() {
        Jitter j = new Jitter(0.2, 1, 3);
        int n = 200_000;
        double s = 0, ss = 0;
        for (int k = 0; k < n; k++) {
            double f = j.factor(k + 0.5);
            s += f;
            ss += f * f;
        }
        double mean = s / n;
        double cv = Math.sqrt(ss / n - mean * mean) / mean;
        assertEquals(1.0, mean, 0.003);
        assertEquals(0.2, cv, 0.003);
    }
}
