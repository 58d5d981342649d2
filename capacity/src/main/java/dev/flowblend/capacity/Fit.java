package dev.flowblend.capacity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Batch costs fitted to what workers measured: for each model, the batches it executed, the
 * samples in them and the device seconds they took (the workers'
 * {@code flowblend_inference_exec_count_total}, {@code _count_total} and
 * {@code _busy_seconds_total} over a load point). A point gives one mean batch size and one mean
 * batch time; several points at different loads, so different batch sizes, fix the line
 * {@code time = fixed_ms + per_sample_ms * samples} by least squares weighted by batches. With a
 * single batch size (or a fit whose intercept would be negative) the cost is taken as linear
 * through zero. Exact for costs that are linear in the batch size, as the simulation assumes. Pure.
 */
public final class Fit {

    /** One load point's counters for one model. */
    public record Observation(long batches, long samples, double busySeconds) {
        public Observation {
            if (batches < 0 || samples < batches || !(busySeconds >= 0)) {
                throw new IllegalArgumentException("observation of " + batches + " batches, " + samples
                        + " samples, " + busySeconds + " s: need 0 <= batches <= samples and busy >= 0");
            }
        }
    }

    private Fit() {
    }

    /** {@code base}'s batching settings with fixed and per-sample costs fitted to {@code obs}. */
    public static ModelCosts model(List<Observation> obs, ModelCosts base) {
        double w = 0, sb = 0, st = 0, samples = 0, busyMs = 0;
        for (Observation o : obs) {
            if (o.batches() == 0) {
                continue;
            }
            double b = o.samples() / (double) o.batches();
            double t = 1000 * o.busySeconds() / o.batches();
            w += o.batches();
            sb += o.batches() * b;
            st += o.batches() * t;
            samples += o.samples();
            busyMs += 1000 * o.busySeconds();
        }
        if (w == 0) {
            throw new IllegalArgumentException("no batches observed; a fit needs at least one");
        }
        double meanB = sb / w, meanT = st / w, sbb = 0, sbt = 0;
        for (Observation o : obs) {
            if (o.batches() == 0) {
                continue;
            }
            double db = o.samples() / (double) o.batches() - meanB;
            sbb += o.batches() * db * db;
            sbt += o.batches() * db * (1000 * o.busySeconds() / o.batches() - meanT);
        }
        double perSample = sbb > 1e-9 * w ? sbt / sbb : Double.NaN;
        double fixed = Double.isNaN(perSample) ? Double.NaN : meanT - perSample * meanB;
        if (Double.isNaN(fixed) || fixed < 0 || perSample < 0) {
            return new ModelCosts(0.0, busyMs / samples, base.maxBatchSize(), base.maxQueueDelayMs());
        }
        return new ModelCosts(fixed, perSample, base.maxBatchSize(), base.maxQueueDelayMs());
    }

    /**
     * {@code base} with every pool's models refitted where {@code byModel} observed them (and, per
     * plan, where {@code byPlanModel} observed a model under more than one plan: its by_plan
     * entries), each pool's step overhead set where {@code poolOverheadMs} gives one, and the
     * orchestrator's step overhead and encoding time replaced where given (null: kept).
     */
    public static Costs apply(Costs base, Map<String, List<Observation>> byModel,
                              Map<String, Map<String, List<Observation>>> byPlanModel,
                              Map<String, Double> poolOverheadMs, Double stepOverheadMs, Double encodeMs) {
        Map<String, PoolCosts> pools = new LinkedHashMap<>();
        base.pools().forEach((name, pool) -> {
            Map<String, ModelCosts> models = new LinkedHashMap<>();
            pool.models().forEach((m, c) -> {
                ModelCosts fitted = byModel.containsKey(m) ? model(byModel.get(m), c) : c;
                Map<String, List<Observation>> plans = byPlanModel.getOrDefault(m, Map.of());
                if (plans.size() > 1) {
                    Map<String, ModelCosts.PlanCost> byPlan = new LinkedHashMap<>();
                    plans.forEach((plan, obs) -> {
                        ModelCosts p = model(obs, c);
                        byPlan.put(plan, new ModelCosts.PlanCost(p.fixedMs(), p.perSampleMs()));
                    });
                    fitted = fitted.withByPlan(byPlan);
                }
                models.put(m, fitted);
            });
            pools.put(name, pool.withModels(models, poolOverheadMs.getOrDefault(name, pool.stepOverheadMs())));
        });
        OrchestratorCosts o = base.orchestrator();
        OrchestratorCosts fitted = new OrchestratorCosts(stepOverheadMs != null ? stepOverheadMs : o.stepOverheadMs(),
                encodeMs != null ? encodeMs : o.encodeMs(), o.encodeThreads(), o.maxConcurrentGenerations(),
                o.maxQueuedGenerations(), o.promptCacheHitRate(), o.negativePromptCacheHitRate(), o.requestOverheadMs());
        return base.withPools(pools).withOrchestrator(fitted).check();
    }

    /** {@link #apply} with one cost per model whatever the plan and the orchestrator's step overhead for every pool. */
    public static Costs apply(Costs base, Map<String, List<Observation>> byModel, Double stepOverheadMs,
                              Double encodeMs) {
        return apply(base, byModel, Map.of(), Map.of(), stepOverheadMs, encodeMs);
    }
}
