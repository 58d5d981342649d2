package dev.flowblend.orchestrator;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The orchestrator's metrics; every name is spelled here and nowhere else. Thread-safe; the meters
 * live in the injected registry (the process's Prometheus registry, or any registry in tests).
 */
final class OrchestratorMetrics {
    static final String GENERATIONS = "flowblend.generations";
    static final String GENERATION_DURATION = "flowblend.generation.duration";
    static final String STEP_DURATION = "flowblend.step.duration";
    static final String STEP_RETRIES = "flowblend.step.retries";
    static final String STEP_FAILOVERS = "flowblend.step.failovers";
    static final String STEP_HEDGES = "flowblend.step.hedges";
    static final String STEP_FALLBACKS = "flowblend.step.fallbacks";
    static final String POOL_ENDPOINTS = "flowblend.pool.endpoints";
    static final String POOL_HEALTHY = "flowblend.pool.healthy.endpoints";
    static final String POOL_INFLIGHT = "flowblend.pool.inflight.steps";
    static final String RUNNING = "flowblend.generations.running";
    static final String QUEUED = "flowblend.generations.queued";
    static final String PROMPT_HIT_RATIO = "flowblend.prompt.cache.hit.ratio";
    static final String PROMPT_REQUESTS = "flowblend.prompt.cache.requests";
    static final String SUCCESS = "success";
    static final String NO_PLAN = "_none";

    private final MeterRegistry registry;
    private final Map<String, Timer> steps = new ConcurrentHashMap<>();

    OrchestratorMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    MeterRegistry registry() {
        return registry;
    }

    void generation(String plan, String outcome, long nanos) {
        Counter.builder(GENERATIONS).tag("plan", plan).tag("outcome", outcome)
                .description("generations finished, by plan and outcome (success or the gRPC status code)")
                .register(registry).increment();
        histogram(GENERATION_DURATION, "plan", plan, "wall time of a generation, accepted to result",
                Duration.ofHours(1)).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * A generation refused before it ran: counted under its outcome, kept out of the duration
     * histogram. {@code plan} is {@link #NO_PLAN} when the request was invalid before a plan was chosen.
     */
    void rejected(String plan, String outcome) {
        Counter.builder(GENERATIONS).tag("plan", plan).tag("outcome", outcome)
                .description("generations finished, by plan and outcome (success or the gRPC status code)")
                .register(registry).increment();
    }

    void step(String pool, double millis) {
        steps.computeIfAbsent(pool, p -> histogram(STEP_DURATION, "pool", p,
                "one sampling step as the orchestrator saw it: send, worker queue and model, answer",
                Duration.ofMinutes(10))).record((long) (millis * 1e6), TimeUnit.NANOSECONDS);
    }

    /** @param reason unavailable, resource_exhausted, deadline_exceeded or context_miss */
    void retry(String pool, String reason) {
        Counter.builder(STEP_RETRIES).tag("pool", pool).tag("reason", reason)
                .description("model calls sent again, by pool and why").register(registry).increment();
    }

    void failover(String pool) {
        Counter.builder(STEP_FAILOVERS).tag("pool", pool)
                .description("model calls answered by another worker than the one first tried").register(registry)
                .increment();
    }

    void hedge(String pool) {
        Counter.builder(STEP_HEDGES).tag("pool", pool)
                .description("velocity calls sent to a second worker after the pool's hedging budget").register(registry)
                .increment();
    }

    /**
     * A velocity step that ran on {@code fallback} because {@code pool}, the plan's, could not serve it.
     * @param reason one of {@link Fallbacks}' reasons
     */
    void fallback(String pool, String fallback, String reason) {
        Counter.builder(STEP_FALLBACKS).tag("pool", pool).tag("fallback", fallback).tag("reason", reason)
                .description("velocity steps served by a fallback pool because their planned pool could not, by "
                        + "planned pool, serving pool and why").register(registry).increment();
    }

    void bindPool(WorkerPool pool) {
        Gauge.builder(POOL_ENDPOINTS, pool, p -> p.endpoints().size()).tag("pool", pool.name())
                .description("workers the pool knows (static list or DNS answer)").register(registry);
        Gauge.builder(POOL_HEALTHY, pool, WorkerPool::healthyCount).tag("pool", pool.name())
                .description("workers of the pool that passed their last health check").register(registry);
        Gauge.builder(POOL_INFLIGHT, pool, WorkerPool::inflight).tag("pool", pool.name())
                .description("model calls in flight to the pool's workers").register(registry);
    }

    void bindAdmission(Admission admission) {
        Gauge.builder(RUNNING, admission, Admission::running)
                .description("generations running").register(registry);
        Gauge.builder(QUEUED, admission, Admission::queued)
                .description("generations admitted and waiting for a slot").register(registry);
    }

    void bindPrompts(PromptEncoder prompts) {
        Gauge.builder(PROMPT_HIT_RATIO, prompts, PromptEncoder::hitRate)
                .description("share of prompt encodings served from the prompt cache").register(registry);
        FunctionCounter.builder(PROMPT_REQUESTS, prompts, PromptEncoder::hits).tag("result", "hit")
                .description("prompt encodings asked of the cache, by result").register(registry);
        FunctionCounter.builder(PROMPT_REQUESTS, prompts, PromptEncoder::misses).tag("result", "miss")
                .description("prompt encodings asked of the cache, by result").register(registry);
    }

    private Timer histogram(String name, String tag, String value, String description, Duration max) {
        return Timer.builder(name).tag(tag, value).description(description).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(max).register(registry);
    }
}
