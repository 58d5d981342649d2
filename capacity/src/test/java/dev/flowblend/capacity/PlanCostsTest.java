package dev.flowblend.capacity;

import static dev.flowblend.capacity.Fixtures.model;
import static dev.flowblend.capacity.Fixtures.pool;
import static dev.flowblend.capacity.Fixtures.pools;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Costs that differ by plan (a model's by_plan entries) and by pool (a pool's step_overhead_ms):
 * one client's latency is still the exact sum of the service times the plan's costs give, and
 * {@link Fit#apply} fits them from observations grouped by plan and by pool.
 */
class PlanCostsTest {
    private static Costs costs(String plan, ModelCosts large, Double largeOverhead, Double smallOverhead) {
        PoolCosts l = pool(1, 4, "velocity-large", large, Costs.TEXT_ENCODER, model(3, 7, 8), Costs.DECODER,
                model(11, 13, 1));
        PoolCosts s = pool(1, 1, "velocity-small", model(2, 4, 32));
        return new Costs("plan costs", PlanSpec.preset(plan, 50), true,
                pools("large", l.withModels(l.models(), largeOverhead), "small", s.withModels(s.models(), smallOverhead)),
                "large", "large", new OrchestratorCosts(1.0, 17.0, 1, 4, 64, 0.0, 0.0));
    }

    @Test
    void byPlanEntry_isWhatThatPlanRuns_andOtherPlansRunTheModelsCost() {
        ModelCosts large = model(5, 20, 32).withByPlan(Map.of("flowblending", new ModelCosts.PlanCost(6.0, 22.0)));
        // flowblending: text 2 x 10; large 30 x (1 + 6 + 2 x 22); small 20 x (1 + 2 + 2 x 4); decode 24; encode 17
        double fb = 2 * 10 + 30 * 51 + 20 * 11 + 24 + 17;
        assertEquals(fb / 1000, Simulation.run(costs("flowblending", large, null, null),
                Load.closed(1).count(3).warmup(0)).latencyP50S(), 0.0);
        // large-only has no entry: 50 x (1 + 5 + 2 x 20)
        double lo = 2 * 10 + 50 * 46 + 24 + 17;
        assertEquals(lo / 1000, Simulation.run(costs("large-only", large, null, null),
                Load.closed(1).count(3).warmup(0)).latencyP50S(), 0.0);
    }

    @Test
    void poolStepOverhead_replacesTheOrchestratorsForThatPoolOnly() {
        // small steps take 0.5 ms of overhead instead of the orchestrator's 1.0; large steps keep 1.0
        double ms = 2 * 10 + 30 * 46 + 20 * (0.5 + 2 + 2 * 4) + 24 + 17;
        assertEquals(ms / 1000, Simulation.run(costs("flowblending", model(5, 20, 32), null, 0.5),
                Load.closed(1).count(3).warmup(0)).latencyP50S(), 1e-12);
    }

    @Test
    void requestOverhead_isInTheClientsLatency_butHoldsNoSlot() {
        Costs base = costs("large-only", model(5, 20, 32), null, null);
        Costs c = base.withOrchestrator(base.orchestrator().withRequestOverhead(9.0));
        double ms = 2 * 10 + 50 * 46 + 24 + 17 + 9;
        assertEquals(ms / 1000, Simulation.run(c, Load.closed(1).count(3).warmup(0)).latencyP50S(), 1e-12);
        // saturated by 16 clients behind 4 slots: the slot is free before the overhead, so throughput is unchanged
        assertEquals(Simulation.run(base, Load.closed(16).count(200)).throughputPerS(),
                Simulation.run(c, Load.closed(16).count(200)).throughputPerS(), 0.01 * 1000 / ms * 4);
    }

    @Test
    void fit_withTwoPlans_addsByPlanEntries_withOnePlan_none() {
        ModelCosts base = model(9, 9, 32);
        // under flowblending batches of 2 take 4 ms and of 4 take 6 ms (1 ms/sample + 2); under large-only 3.6 and 5.2
        List<Fit.Observation> fb = List.of(new Fit.Observation(100, 200, 0.4), new Fit.Observation(100, 400, 0.6));
        List<Fit.Observation> lo = List.of(new Fit.Observation(100, 200, 0.36), new Fit.Observation(100, 400, 0.52));
        Costs c = costs("flowblending", base, null, null);
        Costs two = Fit.apply(c, Map.of("velocity-large", List.of(fb.get(0), fb.get(1), lo.get(0), lo.get(1))),
                Map.of("velocity-large", Map.of("flowblending", fb, "large-only", lo)), Map.of("small", 0.7), null, null);
        ModelCosts fitted = two.pools().get("large").models().get("velocity-large");
        assertEquals(2.0, fitted.byPlan().get("flowblending").fixedMs(), 1e-9);
        assertEquals(1.0, fitted.byPlan().get("flowblending").perSampleMs(), 1e-9);
        assertEquals(2.0, fitted.byPlan().get("large-only").fixedMs(), 1e-9);
        assertEquals(0.8, fitted.byPlan().get("large-only").perSampleMs(), 1e-9);
        assertEquals(0.7, two.pools().get("small").stepOverheadMs(), 0.0);
        assertNull(two.pools().get("large").stepOverheadMs(), "no observation for large: the orchestrator's");
        Costs one = Fit.apply(c, Map.of("velocity-large", fb), Map.of("velocity-large", Map.of("flowblending", fb)),
                Map.of(), null, null);
        assertNull(one.pools().get("large").models().get("velocity-large").byPlan(), "one plan: no by_plan");
    }

    @Test
    void badByPlanAndOverhead_areRefusedByPath() {
        ModelCosts bad = model(5, 20, 32).withByPlan(Map.of("flowblending", new ModelCosts.PlanCost(1.0, -2.0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> costs("flowblending", bad, null, null).check());
        assertTrue(e.getMessage().contains("pools.large.models.velocity-large.by_plan.flowblending.per_sample_ms"),
                e.getMessage());
        IllegalArgumentException o = assertThrows(IllegalArgumentException.class,
                () -> costs("flowblending", model(5, 20, 32), -1.0, null).check());
        assertTrue(o.getMessage().contains("pools.large.step_overhead_ms"), o.getMessage());
    }

    @Test
    void costsFile_readsByPlanAndPoolOverhead() throws Exception {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("costs-", ".json");
        try {
            java.nio.file.Files.writeString(f, """
                    {"plan": "large-only", "pools": {"large": {"step_overhead_ms": 0.4, "models": {
                      "velocity-large": {"fixed_ms": 5, "per_sample_ms": 20,
                        "by_plan": {"large-only": {"fixed_ms": 4, "per_sample_ms": 19}}},
                      "text-encoder": {"per_sample_ms": 1}, "decoder": {"per_sample_ms": 1}}}}}
                    """);
            Costs c = Costs.read(f);
            assertEquals(0.4, c.pools().get("large").stepOverheadMs(), 0.0);
            assertEquals(19.0, c.forPlan().pools().get("large").models().get("velocity-large").perSampleMs(), 0.0);
        } finally {
            java.nio.file.Files.delete(f);
        }
    }
}
