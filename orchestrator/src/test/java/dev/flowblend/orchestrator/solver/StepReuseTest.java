package dev.flowblend.orchestrator.solver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which steps reuse a velocity, on hand-sized curves and schedules. */
class StepReuseTest {
    // rate 1 per unit sigma everywhere for "large", 4 for "small"
    private static final StepReuse FLAT = new StepReuse(0.25, new double[] {1.0, 0.0},
            Map.of("large", new double[] {1.0, 1.0}, "small", new double[] {4.0, 4.0}));
    private static final double[] TENTHS = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0};

    private static String[] all(String pool, int n) {
        String[] p = new String[n];
        java.util.Arrays.fill(p, pool);
        return p;
    }

    @Test
    void consecutiveStepsAreReusedWhileTheAccumulatedChangeFitsTheBudget() {
        // each step predicts 0.1: two reused (0.2), the third would make 0.3 > 0.25 and calls the model
        boolean[] r = FLAT.schedule(all("large", 10), TENTHS);
        assertArrayEquals(new boolean[] {false, true, true, false, true, true, false, true, true, false}, r);
    }

    @Test
    void neverAcrossASwitchNorTheFirstOrLastStep() {
        String[] pools = {"large", "large", "large", "small", "small", "small", "large", "large", "large", "large"};
        // small predicts 0.4 per step: over budget, never reused; large after the switch at 6 calls first
        assertArrayEquals(new boolean[] {false, true, true, false, false, false, false, true, true, false},
                FLAT.schedule(pools, TENTHS));
        assertArrayEquals(new boolean[] {false, false}, FLAT.schedule(all("large", 2), new double[] {1.0, 0.5, 0.0}));
    }

    @Test
    void poolsWithoutACurveAndAZeroBudgetReuseNothing() {
        assertArrayEquals(new boolean[10], FLAT.schedule(all("medium", 10), TENTHS));
        assertArrayEquals(new boolean[10], FLAT.withBudget(0).schedule(all("large", 10), TENTHS));
    }

    @Test
    void ratesAreLinearInSigmaBetweenTheCurvesPoints() {
        StepReuse r = new StepReuse(0.1, new double[] {0.8, 0.4}, Map.of("large", new double[] {2.0, 0.0}));
        double[] rates = r.changePerSigma().get("large");
        assertEquals(2.0, r.rate(rates, 0.95), 0);
        assertEquals(1.0, r.rate(rates, 0.6), 1e-12);
        assertEquals(0.0, r.rate(rates, 0.1), 0);
    }

    @Test
    void badCurvesAreRefusedNamingTheField() {
        assertEquals("reuse.budget is 1.5; must be 0..1", assertThrows(IllegalArgumentException.class,
                () -> FLAT.withBudget(1.5)).getMessage());
        assertEquals("reuse.sigma[1] is 0.9; must be below sigma[0] (0.5)", assertThrows(IllegalArgumentException.class,
                () -> new StepReuse(0.1, new double[] {0.5, 0.9}, Map.of("large", new double[] {1, 1}))).getMessage());
        assertEquals("reuse.change_per_sigma.large has 1 values; must have 2 (one per reuse.sigma)",
                assertThrows(IllegalArgumentException.class, () -> new StepReuse(0.1, new double[] {1, 0},
                        Map.of("large", new double[] {1}))).getMessage());
        assertEquals("reuse.change_per_sigma.small[0] is NaN; must be finite and >= 0",
                assertThrows(IllegalArgumentException.class, () -> new StepReuse(0.1, new double[] {1, 0},
                        Map.of("small", new double[] {Double.NaN, 1}))).getMessage());
    }
}
