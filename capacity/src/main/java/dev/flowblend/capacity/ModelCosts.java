package dev.flowblend.capacity;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one batch of a model costs on one worker, and how that worker's batcher forms batches
 * (the worker's {@code batching} section): a batch of s samples occupies the worker's device for
 * {@code fixed_ms + per_sample_ms * s}. {@code by_plan} optionally gives other fixed and per-sample
 * costs under a named plan: the same model can run measurably slower under one plan than another
 * on the same device (measured: the large CPU worker's batches 8–12% slower under FlowBlending,
 * whose small stretch leaves its caches to the small worker; docs/capacity.md), and a simulation
 * of that plan uses them. Absent values take the named defaults; {@link #check} names the field
 * path of a bad value. Immutable.
 */
public record ModelCosts(Double fixedMs, Double perSampleMs, Integer maxBatchSize, Double maxQueueDelayMs,
                         @JsonInclude(JsonInclude.Include.NON_NULL) Map<String, PlanCost> byPlan) {
    /** A model's costs under one plan (its batching settings are the model's). */
    public record PlanCost(Double fixedMs, Double perSampleMs) {
    }

    public static final double DEFAULT_FIXED_MS = 0.0;
    /** The demo deployment's batching.max_batch_size. */
    public static final int DEFAULT_MAX_BATCH_SIZE = 32;
    /** The demo deployment's batching.max_queue_delay_micros (0: a lone request never waits). */
    public static final double DEFAULT_MAX_QUEUE_DELAY_MS = 0.0;
    /** Bounds that keep a typo (ms given as µs) from passing silently: one batch at most a day. */
    static final double MAX_MS = 86_400_000.0;
    static final int MAX_BATCH = 1 << 16;

    public ModelCosts {
        fixedMs = fixedMs == null ? DEFAULT_FIXED_MS : fixedMs;
        maxBatchSize = maxBatchSize == null ? DEFAULT_MAX_BATCH_SIZE : maxBatchSize;
        maxQueueDelayMs = maxQueueDelayMs == null ? DEFAULT_MAX_QUEUE_DELAY_MS : maxQueueDelayMs;
        byPlan = byPlan == null || byPlan.isEmpty() ? null : Collections.unmodifiableMap(new LinkedHashMap<>(byPlan));
    }

    public ModelCosts(Double fixedMs, Double perSampleMs, Integer maxBatchSize, Double maxQueueDelayMs) {
        this(fixedMs, perSampleMs, maxBatchSize, maxQueueDelayMs, null);
    }

    /** These costs under plan {@code plan}: its by_plan entry if there is one, else these; by_plan dropped. */
    public ModelCosts forPlan(String plan) {
        PlanCost c = byPlan == null ? null : byPlan.get(plan);
        if (c == null) {
            return byPlan == null ? this : new ModelCosts(fixedMs, perSampleMs, maxBatchSize, maxQueueDelayMs);
        }
        return new ModelCosts(c.fixedMs() == null ? DEFAULT_FIXED_MS : c.fixedMs(), c.perSampleMs(), maxBatchSize,
                maxQueueDelayMs);
    }

    /** These costs with {@code byPlan} as the per-plan entries (null: none). */
    public ModelCosts withByPlan(Map<String, PlanCost> plans) {
        return new ModelCosts(fixedMs, perSampleMs, maxBatchSize, maxQueueDelayMs, plans);
    }

    /** Linear cost with no fixed part: what a GPU already saturated by one guided sample pair does. */
    public static ModelCosts linear(double perSampleMs, int maxBatchSize) {
        return new ModelCosts(0.0, perSampleMs, maxBatchSize, 0.0);
    }

    /** Device time of a batch of {@code samples}. */
    public double batchMs(int samples) {
        return fixedMs + perSampleMs * samples;
    }

    /**
     * Device time per sample when batches are as large as they can be: the least work a sample
     * can cost, which makes it a lower bound on a pool's load (the planner starts from it).
     */
    public double minMsPerSample() {
        return perSampleMs + fixedMs / maxBatchSize;
    }

    /** Validates every field; {@code path} is where this record sits ("pools.large.models.decoder"). */
    void check(String path) {
        if (perSampleMs == null) {
            throw new IllegalArgumentException(path + ".per_sample_ms is missing; it is the device time each sample adds to a batch");
        }
        Check.range(path + ".fixed_ms", fixedMs, 0, MAX_MS);
        Check.range(path + ".per_sample_ms", perSampleMs, 0, MAX_MS);
        Check.range(path + ".max_queue_delay_ms", maxQueueDelayMs, 0, MAX_MS);
        Check.range(path + ".max_batch_size", maxBatchSize, 1, MAX_BATCH);
        if (byPlan != null) {
            byPlan.forEach((plan, c) -> {
                String at = path + ".by_plan." + plan;
                Check.that(!plan.isBlank() && c != null, path + ".by_plan has an empty plan name or entry");
                Check.that(c.perSampleMs() != null, at + ".per_sample_ms is missing");
                Check.range(at + ".per_sample_ms", c.perSampleMs(), 0, MAX_MS);
                Check.range(at + ".fixed_ms", c.fixedMs() == null ? 0 : c.fixedMs(), 0, MAX_MS);
            });
        }
    }
}
