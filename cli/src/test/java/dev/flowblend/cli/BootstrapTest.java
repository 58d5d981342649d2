package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BootstrapTest {
    private static BenchCommand.Times times(double... sampling) {
        BenchCommand.Times t = new BenchCommand.Times();
        for (double v : sampling) {
            t.sampling().add(v);
            t.total().add(v);
        }
        return t;
    }

    @Test
    void interval95_everyIterationAlike_collapsesToTheValue() {
        Map<String, BenchCommand.Times> t = new LinkedHashMap<>();
        t.put("large-only", times(500, 500, 500, 500));
        t.put("flowblending", times(250, 250, 250, 250));
        double[] ci = Bootstrap.interval95(4, idx -> BenchCommand.speedup(t, idx), 500, 1);
        assertArrayEquals(new double[] {2.0, 2.0}, ci);
    }

    @Test
    void interval95_noisyIterations_containsTheFullRunsValueAndStaysWithinTheIterationsRange() {
        Map<String, BenchCommand.Times> t = new LinkedHashMap<>();
        BenchCommand.Times large = new BenchCommand.Times();
        BenchCommand.Times candidate = new BenchCommand.Times();
        for (int i = 0; i < 20; i++) {
            double l = 500 + (i * 37 % 11) * 4;  // 500..540
            double c = 330 + (i * 53 % 7) * 5;   // 330..360
            large.sampling().add(l);
            candidate.sampling().add(c);
        }
        t.put("large-only", large);
        t.put("flowblending", candidate);
        int[] all = java.util.stream.IntStream.range(0, 20).toArray();
        double full = BenchCommand.speedup(t, all);
        double[] ci = Bootstrap.interval95(20, idx -> BenchCommand.speedup(t, idx), 2000, 1);
        assertTrue(ci[0] < full && full < ci[1], "interval " + ci[0] + ".." + ci[1] + " around " + full);
        assertTrue(ci[0] >= 500.0 / 360 && ci[1] <= 540.0 / 330, ci[0] + ".." + ci[1]);
        assertArrayEquals(ci, Bootstrap.interval95(20, idx -> BenchCommand.speedup(t, idx), 2000, 1), "same seed, same interval");
    }

    @Test
    void interval95_noIterations_errorNamesTheCount() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Bootstrap.interval95(0, idx -> 0, 10, 1));
        assertEquals("need n >= 1 and resamples >= 1; got 0 and 10", e.getMessage());
    }
}
