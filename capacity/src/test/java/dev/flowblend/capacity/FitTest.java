package dev.flowblend.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Batch costs fitted to worker counters: exact for linear costs. */
class FitTest {
    private static final ModelCosts BASE = new ModelCosts(9.0, 9.0, 16, 0.5);

    /** A point of {@code batches} batches of {@code size} samples under time = 2 + 3 * size ms. */
    private static Fit.Observation point(long batches, int size) {
        return new Fit.Observation(batches, batches * size, batches * (2.0 + 3.0 * size) / 1000);
    }

    @Test
    void twoBatchSizesRecoverTheLineExactly() {
        ModelCosts c = Fit.model(List.of(point(100, 2), point(40, 6), point(10, 4)), BASE);
        assertEquals(2.0, c.fixedMs(), 1e-9);
        assertEquals(3.0, c.perSampleMs(), 1e-9);
        assertEquals(16, c.maxBatchSize());
        assertEquals(0.5, c.maxQueueDelayMs());
    }

    @Test
    void oneBatchSizeGivesALineThroughZero() {
        ModelCosts c = Fit.model(List.of(point(100, 2), point(7, 2)), BASE);
        assertEquals(0.0, c.fixedMs());
        assertEquals(4.0, c.perSampleMs(), 1e-9);  // (2 + 3 * 2) / 2
    }

    @Test
    void aNegativeInterceptFallsBackToLinear() {
        // time = 10 * size - 5: larger batches cost more per sample than the line through zero allows
        Fit.Observation a = new Fit.Observation(10, 20, 10 * 15.0 / 1000);
        Fit.Observation b = new Fit.Observation(10, 40, 10 * 35.0 / 1000);
        ModelCosts c = Fit.model(List.of(a, b), BASE);
        assertEquals(0.0, c.fixedMs());
        assertEquals(500.0 / 60, c.perSampleMs(), 1e-9);
    }

    @Test
    void applyRefitsObservedModelsAndKeepsTheRest() {
        Costs base = Costs.read(java.nio.file.Path.of("../docs/capacity/demo-costs.json"));
        Costs fitted = Fit.apply(base, Map.of("velocity-small", List.of(point(100, 2), point(50, 4))), 0.7, null);
        assertEquals(2.0, fitted.pools().get("small").models().get("velocity-small").fixedMs(), 1e-9);
        assertEquals(base.pools().get("large").models().get("decoder"), fitted.pools().get("large").models().get("decoder"));
        assertEquals(0.7, fitted.orchestrator().stepOverheadMs());
        assertEquals(base.orchestrator().encodeMs(), fitted.orchestrator().encodeMs());
    }

    @Test
    void badObservationsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Fit.Observation(3, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> new Fit.Observation(1, 2, -1));
        assertThrows(IllegalArgumentException.class, () -> Fit.model(List.of(new Fit.Observation(0, 0, 0)), BASE));
    }
}
