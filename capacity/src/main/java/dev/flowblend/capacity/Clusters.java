package dev.flowblend.capacity;

import dev.flowblend.runtime.Json;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster-scale inputs (docs/capacity/clusters.json): GPU kinds with a price and per-model
 * device time per sample, each value with its source; the clusters to compare (a large GPU kind,
 * optionally a small one, and the kind of a pool of its own for the text encoder and decoder);
 * the daily volumes, the SLO, the utilisation every pool must stay below (the planner's
 * {@link Planner.Options#maxUtilisation}) and what every cluster shares. A GPU kind lists only the models
 * that fit in its memory; a cluster that puts a model on a GPU without it is refused naming
 * both. {@link #costs} turns one cluster into a costs file's equivalent. Immutable.
 */
public record Clusters(String description, Integer steps, Boolean guidance, List<Double> ratesPerDay, Double sloP95S,
                       Double maxUtilisation, Integer maxBatchSize, String mixedPlan, String homogeneousPlan,
                       OrchestratorCosts orchestrator, Map<String, Gpu> gpus, List<Cluster> clusters) {
    public static final String LARGE = "large";
    public static final String SMALL = "small";
    public static final String OWN = "own";

    /** A number and where it comes from (a measurement, a page, a stated derivation). */
    public record Sourced(Double value, String source) {
        void check(String path) {
            Check.that(value != null, path + ".value is missing");
            Check.that(source != null && !source.isBlank(), path + ".source is missing; every input states its source");
        }
    }

    /** One GPU kind: its price per GPU-hour, its dense BF16 throughput, ms per sample of each model that fits. */
    public record Gpu(String name, Double memoryGb, Sourced pricePerHour, Sourced denseBf16Tflops,
                      Map<String, Sourced> msPerSample, String note) {
        public Gpu {
            msPerSample = msPerSample == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(msPerSample));
        }

        void check(String path) {
            Check.that(pricePerHour != null, path + ".price_per_hour is missing");
            pricePerHour.check(path + ".price_per_hour");
            Check.range(path + ".price_per_hour.value", pricePerHour.value(), 0, 1e4);
            Check.that(denseBf16Tflops != null, path + ".dense_bf16_tflops is missing");
            denseBf16Tflops.check(path + ".dense_bf16_tflops");
            Check.positive(path + ".dense_bf16_tflops.value", denseBf16Tflops.value(), 1e6);
            msPerSample.forEach((model, v) -> {
                v.check(path + ".ms_per_sample." + model);
                Check.range(path + ".ms_per_sample." + model + ".value", v.value(), 0, ModelCosts.MAX_MS);
            });
        }
    }

    /** A cluster: the GPU kind of each pool; no small pool means the homogeneous plan. */
    public record Cluster(String name, String large, String small, String own) {
    }

    public Clusters {
        steps = steps == null ? PlanSpec.DEFAULT_STEPS : steps;
        guidance = guidance == null ? Costs.DEFAULT_GUIDANCE : guidance;
        ratesPerDay = ratesPerDay == null ? List.of() : List.copyOf(ratesPerDay);
        maxUtilisation = maxUtilisation == null ? 1.0 : maxUtilisation;
        maxBatchSize = maxBatchSize == null ? ModelCosts.DEFAULT_MAX_BATCH_SIZE : maxBatchSize;
        mixedPlan = mixedPlan == null ? "flowblending" : mixedPlan;
        homogeneousPlan = homogeneousPlan == null ? "large-only" : homogeneousPlan;
        orchestrator = orchestrator == null ? OrchestratorCosts.DEFAULT : orchestrator;
        gpus = gpus == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(gpus));
        clusters = clusters == null ? List.of() : List.copyOf(clusters);
    }

    public static Clusters read(Path file) {
        Clusters c = Json.read(file, Clusters.class);
        try {
            return c.check();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    public Clusters check() {
        Check.range("steps", steps, 1, PlanSpec.MAX_STEPS);
        Check.that(!ratesPerDay.isEmpty(), "rates_per_day is empty; must list videos a day, e.g. [1000, 10000, 100000]");
        for (int i = 0; i < ratesPerDay.size(); i++) {
            Check.positive("rates_per_day[" + i + "]", ratesPerDay.get(i), 1e9);
        }
        Check.that(sloP95S != null, "slo_p95_s is missing");
        Check.positive("slo_p95_s", sloP95S, 1e9);
        Check.that(maxUtilisation > 0 && maxUtilisation <= 1, "max_utilisation is " + Check.show(maxUtilisation)
                + "; must be > 0 and <= 1");
        Check.range("max_batch_size", maxBatchSize, guidance ? 2 : 1, ModelCosts.MAX_BATCH);
        orchestrator.check("orchestrator");
        gpus.forEach((name, g) -> g.check("gpus." + name));
        Check.that(!clusters.isEmpty(), "clusters is empty");
        for (int i = 0; i < clusters.size(); i++) {
            costs(i).check();
        }
        return this;
    }

    /** Videos per second of a daily volume: Poisson arrivals at the day's mean rate. */
    public static double perSecond(double perDay) {
        return perDay / 86_400;
    }

    /**
     * Cluster {@code i} as costs: pool "large" on its large GPU (velocity-large, and the text
     * encoder and decoder where they fit), "small" on its small GPU (velocity-small, the same),
     * "own" on its own GPU (text encoder and decoder only); every model linear (no fixed part)
     * with max_batch_size, and one worker per pool until the planner sizes them.
     */
    public Costs costs(int i) {
        Cluster c = clusters.get(i);
        String at = "clusters[" + i + "]";
        Check.that(c.name() != null && !c.name().isBlank(), at + ".name is missing");
        Map<String, PoolCosts> pools = new LinkedHashMap<>();
        Check.that(c.large() != null, at + ".large is missing; must name a GPU of gpus " + gpus.keySet());
        pools.put(LARGE, pool(at + ".large", c.large(), "velocity-large"));
        if (c.small() != null) {
            pools.put(SMALL, pool(at + ".small", c.small(), "velocity-small"));
        }
        if (c.own() != null) {
            pools.put(OWN, pool(at + ".own", c.own(), null));
        }
        PlanSpec plan = PlanSpec.preset(c.small() != null ? mixedPlan : homogeneousPlan, steps);
        return new Costs(c.name(), plan, guidance, pools, LARGE, LARGE, orchestrator);
    }

    /** GPU kind of a cluster's pool (for the tables). */
    public String gpuOf(int i, String pool) {
        Cluster c = clusters.get(i);
        return switch (pool) {
            case LARGE -> c.large();
            case SMALL -> c.small();
            default -> c.own();
        };
    }

    private PoolCosts pool(String field, String gpuName, String velocity) {
        Gpu g = gpus.get(gpuName);
        Check.that(g != null, field + " is '" + gpuName + "'; must name a GPU of gpus " + gpus.keySet());
        Map<String, ModelCosts> models = new LinkedHashMap<>();
        if (velocity != null) {
            Sourced ms = g.msPerSample().get(velocity);
            Check.that(ms != null, field + " is '" + gpuName + "', which has no " + velocity + " in gpus." + gpuName
                    + ".ms_per_sample" + (g.note() == null ? "" : " (" + g.note() + ")"));
            models.put(velocity, ModelCosts.linear(ms.value(), maxBatchSize));
        }
        for (String aux : List.of(Costs.TEXT_ENCODER, Costs.DECODER)) {
            Sourced ms = g.msPerSample().get(aux);
            if (ms != null) {
                models.put(aux, ModelCosts.linear(ms.value(), maxBatchSize));
            }
        }
        return new PoolCosts(1, g.pricePerHour().value(), velocity, models);
    }
}
