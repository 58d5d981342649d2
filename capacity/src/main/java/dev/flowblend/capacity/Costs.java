package dev.flowblend.capacity;

import dev.flowblend.runtime.Json;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A costs file: the plan, whether steps are guided (two samples per step: cond and uncond), the
 * pools with their batch costs, where the text encoder and the decoder run, and the
 * orchestrator's own costs and limits. docs/capacity.md describes the format. Read with
 * {@link #read}, which rejects unknown keys and names the field path of every bad value;
 * {@link #check} runs the same validation on costs built in code. Immutable.
 */
public record Costs(String description, PlanSpec plan, Boolean guidance, Map<String, PoolCosts> pools,
                    String textEncoderPool, String decoderPool, OrchestratorCosts orchestrator) {
    public static final String TEXT_ENCODER = "text-encoder";
    public static final String DECODER = "decoder";
    public static final boolean DEFAULT_GUIDANCE = true;
    public static final String DEFAULT_POOL = "large";

    public Costs {
        plan = plan == null ? PlanSpec.preset("flowblending") : plan;
        guidance = guidance == null ? DEFAULT_GUIDANCE : guidance;
        pools = pools == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(pools));
        textEncoderPool = textEncoderPool == null ? DEFAULT_POOL : textEncoderPool;
        decoderPool = decoderPool == null ? DEFAULT_POOL : decoderPool;
        orchestrator = orchestrator == null ? OrchestratorCosts.DEFAULT : orchestrator;
    }

    /** Reads and validates a costs file; the message names the file and the field. */
    public static Costs read(Path file) {
        Costs c = Json.read(file, Costs.class);
        try {
            return c.check();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
    }

    /** Samples per velocity call: a guided step sends cond and uncond together. */
    public int stepSamples() {
        return guidance ? 2 : 1;
    }

    /** The pools the plan, the text encoder and the decoder use, in that order of first use. */
    public Set<String> usedPools() {
        Set<String> s = new LinkedHashSet<>(plan.segmentPools());
        s.add(textEncoderPool);
        s.add(decoderPool);
        return s;
    }

    public Costs withPlan(PlanSpec p) {
        return new Costs(description, p, guidance, pools, textEncoderPool, decoderPool, orchestrator);
    }

    /** These costs with every model's by_plan entry for this plan applied ({@link ModelCosts#forPlan}). */
    public Costs forPlan() {
        Map<String, PoolCosts> p = new java.util.LinkedHashMap<>();
        pools.forEach((name, pc) -> p.put(name, pc.forPlan(plan.key())));
        return withPools(p);
    }

    public Costs withPools(Map<String, PoolCosts> p) {
        return new Costs(description, plan, guidance, p, textEncoderPool, decoderPool, orchestrator);
    }

    public Costs withPlacement(String textEncoder, String decoder) {
        return new Costs(description, plan, guidance, pools, textEncoder, decoder, orchestrator);
    }

    public Costs withOrchestrator(OrchestratorCosts o) {
        return new Costs(description, plan, guidance, pools, textEncoderPool, decoderPool, o);
    }

    /** These costs with {@code n} workers in pool {@code pool}. */
    public Costs withWorkers(String pool, int n) {
        Map<String, PoolCosts> p = new LinkedHashMap<>(pools);
        p.put(pool, p.get(pool).withWorkers(n));
        return withPools(p);
    }

    /**
     * Validates every field, and that every pool the plan, text_encoder_pool and decoder_pool
     * name exists, hosts the model it must run, has a worker, and batches at least one call's
     * samples (a guided step's 2 samples do not fit max_batch_size 1: the worker refuses them).
     */
    public Costs check() {
        plan.check("plan");
        Check.that(!pools.isEmpty(), "pools is empty; must define at least one pool, e.g. {\"large\": {\"models\": ...}}");
        pools.forEach((name, p) -> {
            Check.that(!name.isBlank(), "pools has an empty pool name");
            p.check("pools." + name);
        });
        orchestrator.check("orchestrator");
        for (String pool : plan.segmentPools()) {
            need(pool, pools.get(pool) == null ? null : pools.get(pool).velocityModel(pool), stepSamples(), "plan");
        }
        need(textEncoderPool, TEXT_ENCODER, 1, "text_encoder_pool");
        need(decoderPool, DECODER, 1, "decoder_pool");
        return this;
    }

    private void need(String pool, String model, int samples, String who) {
        PoolCosts p = pools.get(pool);
        Check.that(p != null, who + " names pool '" + pool + "', which is not in pools " + pools.keySet());
        ModelCosts m = p.models().get(model);
        Check.that(m != null, "pools." + pool + ".models has no '" + model + "', which " + who
                + " needs there; it has " + p.models().keySet());
        Check.that(p.workers() >= 1, "pools." + pool + ".workers is 0; must be >= 1 (" + who + " uses the pool)");
        Check.that(m.maxBatchSize() >= samples, "pools." + pool + ".models." + model + ".max_batch_size is "
                + m.maxBatchSize() + "; must be >= " + samples + " (the samples of one call)");
    }
}
