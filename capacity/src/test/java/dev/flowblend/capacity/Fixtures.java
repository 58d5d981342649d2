package dev.flowblend.capacity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small costs for closed-form checks. */
final class Fixtures {
    private Fixtures() {
    }

    static ModelCosts model(double fixedMs, double perSampleMs, int maxBatch) {
        return new ModelCosts(fixedMs, perSampleMs, maxBatch, 0.0);
    }

    static PoolCosts pool(int workers, double price, Object... modelCostPairs) {
        Map<String, ModelCosts> m = new LinkedHashMap<>();
        for (int i = 0; i < modelCostPairs.length; i += 2) {
            m.put((String) modelCostPairs[i], (ModelCosts) modelCostPairs[i + 1]);
        }
        return new PoolCosts(workers, price, null, m);
    }

    static Map<String, PoolCosts> pools(Object... namePoolPairs) {
        Map<String, PoolCosts> m = new LinkedHashMap<>();
        for (int i = 0; i < namePoolPairs.length; i += 2) {
            m.put((String) namePoolPairs[i], (PoolCosts) namePoolPairs[i + 1]);
        }
        return m;
    }

    /** An orchestrator with no costs of its own and no admission limit. */
    static OrchestratorCosts unlimited() {
        return new OrchestratorCosts(0.0, 0.0, 1, OrchestratorCosts.UNLIMITED, 0, 0.0, 0.0);
    }

    /** A pool whose text encoder and decoder take no time: keeps them out of a closed form. */
    static PoolCosts freeAux() {
        return pool(1, 0, Costs.TEXT_ENCODER, model(0, 0, 64), Costs.DECODER, model(0, 0, 64));
    }

    /**
     * Large and small velocity pools (linear, batch 1, unguided) plus a free aux pool, the
     * FlowBlending plan of {@code steps}: the bottleneck is where the closed form says.
     */
    static Costs twoPools(int steps, int large, double largeMs, int small, double smallMs, double largePrice,
                          double smallPrice) {
        return new Costs("two pools", PlanSpec.preset("flowblending", steps), false,
                pools("large", pool(large, largePrice, "velocity-large", model(0, largeMs, 1)),
                        "small", pool(small, smallPrice, "velocity-small", model(0, smallMs, 1)),
                        "aux", freeAux()),
                "aux", "aux", unlimited());
    }

    static Costs oneStep(double serviceMs, int maxBatch) {
        return new Costs("one step", PlanSpec.segments(1, List.of("large"), List.of(1.0)), false,
                pools("large", pool(1, 1, "velocity-large", model(0, serviceMs, maxBatch)), "aux", freeAux()),
                "aux", "aux", unlimited());
    }
}
