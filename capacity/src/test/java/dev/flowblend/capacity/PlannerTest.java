package dev.flowblend.capacity;

import static dev.flowblend.capacity.Fixtures.model;
import static dev.flowblend.capacity.Fixtures.pool;
import static dev.flowblend.capacity.Fixtures.pools;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlannerTest {
    private static final Planner.Options OPTIONS = new Planner.Options(1500, 150, 1, 200, 1.0);

    /** A loose SLO: the plan is the utilisation lower bound, ceil-ish(λ × work / workers < 1), pool by pool. */
    @Test
    void looseSlo_plansTheUtilisationBound_moreSmallWorkersWhenSmallIsTheBottleneck() {
        // 50 steps at 20/s: large 30 x 10 ms = 0.3 s a video -> 6 busy workers; small 20 x 40 ms = 0.8 s -> 16
        Costs c = Fixtures.twoPools(50, 1, 10, 1, 40, 3.0, 1.0);
        Planner.Result r = Planner.plan(c, 20, 60, OPTIONS);
        Planner.Placement best = r.best();
        assertEquals(7, best.pools().get("large").workers());
        assertEquals(17, best.pools().get("small").workers());
        assertTrue(best.pools().get("small").workers() > best.pools().get("large").workers());
        assertEquals(1, best.pools().get("aux").workers());
        assertEquals(7 * 3.0 + 17 * 1.0, best.dollarsPerHour(), 1e-9);
        assertEquals((7 * 3.0 + 17 * 1.0) / (20 * 3600), best.dollarsPerVideo(), 1e-12);
        assertEquals(20, best.throughputPerS(), 1.0);
        best.pools().values().forEach(p -> assertTrue(p.utilisation() < 1, p.toString()));
    }

    /**
     * A tight SLO: the bottleneck (small) grows past its bound, and the result is minimal: one
     * small worker fewer misses the SLO.
     */
    @Test
    void tightSlo_growsTheBottleneckToTheFewestWorkersThatMeetIt() {
        Costs c = Fixtures.twoPools(50, 1, 10, 1, 40, 3.0, 1.0);
        double slo = 1.25;  // unloaded 30 x 10 + 20 x 40 = 1.1 s
        Planner.Placement best = Planner.plan(c, 20, slo, OPTIONS).best();
        int small = best.pools().get("small").workers();
        int large = best.pools().get("large").workers();
        assertTrue(small > 17, "small " + small);
        assertTrue(best.latencyP95S() <= slo, "p95 " + best.latencyP95S());
        Load load = Load.open(20).count(OPTIONS.count() + OPTIONS.warmup()).warmup(OPTIONS.warmup()).seed(OPTIONS.seed());
        Costs fewer = unlimited(c).withWorkers("large", large).withWorkers("small", small - 1).withWorkers("aux", 1);
        SimResult miss = Simulation.run(fewer, load);
        assertTrue(miss.latencyP95S() > slo || miss.latencyTrend() > Planner.MAX_TREND, "one fewer: " + miss.latencyP95S());
    }

    @Test
    void sloBelowTheUnloadedLatency_infeasibleSayingWhy() {
        Planner.Result r = Planner.plan(Fixtures.twoPools(50, 1, 10, 1, 40, 3.0, 1.0), 20, 1.0, OPTIONS);
        assertNull(r.best());
        Planner.Placement p = r.placements().get(0);
        assertFalse(p.feasible());
        assertEquals("unloaded latency 1.10 s exceeds the SLO", p.reason());
    }

    /** Every placement of text encoder and decoder is tried; the cheapest is marked best. */
    @Test
    void placements_allTried_cheapestMarkedBest() {
        Map<String, PoolCosts> p = new LinkedHashMap<>(pools(
                "large", pool(1, 10, "velocity-large", model(0, 10, 1), Costs.TEXT_ENCODER, model(0, 50, 8),
                        Costs.DECODER, model(0, 50, 8)),
                "small", pool(1, 1, "velocity-small", model(0, 10, 1)),
                "own", pool(0, 1, Costs.TEXT_ENCODER, model(0, 50, 8), Costs.DECODER, model(0, 50, 8))));
        Costs c = new Costs("placements", PlanSpec.preset("flowblending", 10), false, p, "large", "large", Fixtures.unlimited());
        Planner.Result r = Planner.plan(c, 10, 30, OPTIONS);
        assertEquals(4, r.placements().size());  // text encoder on large or own x decoder on large or own
        assertEquals(1, r.placements().stream().filter(Planner.Placement::best).count());
        Planner.Placement best = r.best();
        assertEquals("own", best.textEncoderPool());
        assertEquals("own", best.decoderPool());
        for (Planner.Placement other : r.placements()) {
            assertTrue(other.dollarsPerVideo() >= best.dollarsPerVideo(), other.toString());
        }
        // the unused pool is neither sized nor priced
        Planner.Placement onLarge = r.placements().get(0);
        assertEquals("large", onLarge.textEncoderPool());
        assertFalse(onLarge.pools().containsKey("own"));
    }

    @Test
    void samePlan_sameNumbers() {
        Costs c = Fixtures.twoPools(20, 1, 10, 1, 30, 3.0, 1.0);
        assertEquals(Planner.plan(c, 15, 1.2, OPTIONS), Planner.plan(c, 15, 1.2, OPTIONS));
    }

    private static Costs unlimited(Costs c) {
        return c.withOrchestrator(c.orchestrator().withLimits(OrchestratorCosts.UNLIMITED, 0));
    }
}
