package dev.flowblend.capacity;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One worker pool: how many workers (each one device: one GPU, or one CPU worker process, that
 * runs one batch at a time of any model it hosts), what a worker costs per hour, which velocity
 * model its steps run ({@code model}; default {@code velocity-<pool name>}, as the orchestrator's
 * pool config names it) and the batch costs of every model its workers host. {@code step_overhead_ms},
 * when given, replaces the orchestrator's step overhead for this pool's steps: the time around a
 * step that occupies no worker differs by pool where the workers sit on different hosts or cores
 * (measured: 0.57–0.70 ms for a small worker sharing the orchestrator's core against 0.40–0.51 ms
 * for the large worker on its own; docs/capacity.md). Immutable.
 */
public record PoolCosts(Integer workers, Double pricePerHour, String model, Map<String, ModelCosts> models,
                        Double jitterCv, Double jitterPeriodMs,
                        @JsonInclude(JsonInclude.Include.NON_NULL) Double stepOverheadMs) {
    public static final int DEFAULT_WORKERS = 1;
    public static final double DEFAULT_PRICE_PER_HOUR = 0.0;
    static final int MAX_WORKERS = 100_000;

    /** No jitter: every batch takes exactly its cost. */
    public static final double DEFAULT_JITTER_CV = 0.0;
    public static final double DEFAULT_JITTER_PERIOD_MS = 1000.0;

    public PoolCosts(Integer workers, Double pricePerHour, String model, Map<String, ModelCosts> models) {
        this(workers, pricePerHour, model, models, null, null, null);
    }

    /** The step overhead of this pool's steps: its own, else the orchestrator's. */
    public double stepOverheadMs(OrchestratorCosts o) {
        return stepOverheadMs != null ? stepOverheadMs : o.stepOverheadMs();
    }

    /** This pool with its models' costs under plan {@code plan} ({@link ModelCosts#forPlan}). */
    public PoolCosts forPlan(String plan) {
        Map<String, ModelCosts> m = new LinkedHashMap<>();
        models.forEach((name, c) -> m.put(name, c.forPlan(plan)));
        return new PoolCosts(workers, pricePerHour, model, m, jitterCv, jitterPeriodMs, stepOverheadMs);
    }

    /** This pool with other model costs and step overhead (null: the orchestrator's). */
    public PoolCosts withModels(Map<String, ModelCosts> m, Double overheadMs) {
        return new PoolCosts(workers, pricePerHour, model, m, jitterCv, jitterPeriodMs, overheadMs);
    }

    public PoolCosts {
        jitterCv = jitterCv == null ? DEFAULT_JITTER_CV : jitterCv;
        jitterPeriodMs = jitterPeriodMs == null ? DEFAULT_JITTER_PERIOD_MS : jitterPeriodMs;
        workers = workers == null ? DEFAULT_WORKERS : workers;
        pricePerHour = pricePerHour == null ? DEFAULT_PRICE_PER_HOUR : pricePerHour;
        models = models == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(models));
    }

    /** The velocity model the steps of pool {@code name} run. */
    public String velocityModel(String name) {
        return model != null ? model : "velocity-" + name;
    }

    /** This pool with its devices' speed varying by {@code cv} over windows of {@code periodMs} ({@link Jitter}). */
    public PoolCosts withJitter(double cv, double periodMs) {
        return new PoolCosts(workers, pricePerHour, model, models, cv, periodMs, stepOverheadMs);
    }

    /** This pool with {@code n} workers. */
    public PoolCosts withWorkers(int n) {
        return new PoolCosts(n, pricePerHour, model, models, jitterCv, jitterPeriodMs, stepOverheadMs);
    }

    void check(String path) {
        Check.range(path + ".workers", workers, 0, MAX_WORKERS);
        Check.range(path + ".price_per_hour", pricePerHour, 0, 1e6);
        Check.range(path + ".jitter_cv", jitterCv, 0, 10);
        Check.range(path + ".jitter_period_ms", jitterPeriodMs, 1e-3, ModelCosts.MAX_MS);
        if (stepOverheadMs != null) {
            Check.range(path + ".step_overhead_ms", stepOverheadMs, 0, ModelCosts.MAX_MS);
        }
        Check.that(model == null || !model.isBlank(), path + ".model is empty; must name a model of " + path + ".models");
        models.forEach((name, m) -> {
            Check.that(!name.isBlank(), path + ".models has an empty model name");
            m.check(path + ".models." + name);
        });
    }
}
