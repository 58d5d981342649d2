package dev.flowblend.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The worker's metrics, named after Triton's {@code nv_inference_*} so dashboards carry over; every
 * name is spelled here and nowhere else. Each series carries {@code worker} and {@code role}; the
 * per-model ones {@code model}. Thread-safe; the meters live in the injected registry.
 */
final class WorkerMetrics {
    static final String PENDING = "flowblend.inference.pending.requests";
    static final String REQUESTS = "flowblend.inference.requests";
    static final String INFERENCES = "flowblend.inference.count";
    static final String EXECUTIONS = "flowblend.inference.exec.count";
    static final String QUEUE = "flowblend.inference.queue.duration";
    static final String COMPUTE = "flowblend.inference.compute.duration";
    /** Seconds the model spent on answered batches; its rate is the model's utilisation (0..1 per batcher). */
    static final String BUSY = "flowblend.inference.busy";
    static final String BATCH_SIZE = "flowblend.inference.batch.size";
    static final String CACHE_BYTES = "flowblend.context.cache.bytes";
    static final String CACHE_ENTRIES = "flowblend.context.cache.entries";
    static final String CACHE_REQUESTS = "flowblend.context.cache.requests";
    static final String CACHE_EVICTIONS = "flowblend.context.cache.evictions";
    static final String SUCCESS = "success";
    /** The model tag of requests naming a model this worker does not host (never the client's string). */
    static final String UNKNOWN_MODEL = "_not_hosted";

    private final MeterRegistry registry;
    private final Tags common;
    private final Map<String, Model> models = new ConcurrentHashMap<>();

    WorkerMetrics(MeterRegistry registry, String worker, String role) {
        this.registry = registry;
        this.common = Tags.of("worker", worker, "role", role);
    }

    /** A request for a model this worker does not host: counted under {@link #UNKNOWN_MODEL}. */
    void notHosted(Status.Code code) {
        Counter.builder(REQUESTS).tags(common).tag("model", UNKNOWN_MODEL).tag("outcome", code.name())
                .description("requests answered, by outcome (success or the gRPC status code)").register(registry)
                .increment();
    }

    /** The meters of one hosted model (created on first use, then shared). */
    Model model(String name) {
        return models.computeIfAbsent(name, Model::new);
    }

    void bindCache(ConditioningCache cache) {
        Gauge.builder(CACHE_BYTES, cache, ConditioningCache::weightedBytes).tags(common).baseUnit("bytes")
                .description("bytes of conditioning held by the context cache").register(registry);
        Gauge.builder(CACHE_ENTRIES, cache, ConditioningCache::size).tags(common)
                .description("conditioning entries held by the context cache").register(registry);
        FunctionCounter.builder(CACHE_REQUESTS, cache, ConditioningCache::hits).tags(common).tag("result", "hit")
                .description("requests that referred to a cached conditioning id").register(registry);
        FunctionCounter.builder(CACHE_REQUESTS, cache, ConditioningCache::misses).tags(common).tag("result", "miss")
                .description("requests whose conditioning id was not cached").register(registry);
        FunctionCounter.builder(CACHE_EVICTIONS, cache, ConditioningCache::evictions).tags(common)
                .description("entries evicted for size or idle time").register(registry);
    }

    /** One model's meters. {@link #pending} is what a pool autoscales on. */
    final class Model {
        final AtomicInteger pending = new AtomicInteger();
        private final Tags tags;
        private final Counter success;
        private final Counter inferences;
        private final Counter executions;
        private final Counter busy;
        private final Timer queue;
        private final Timer compute;
        private final DistributionSummary batchSize;

        private Model(String name) {
            tags = common.and("model", name);
            Gauge.builder(PENDING, pending, AtomicInteger::get).tags(tags)
                    .description("requests accepted and not yet answered (queued or executing)").register(registry);
            success = outcomeCounter(SUCCESS);
            inferences = Counter.builder(INFERENCES).tags(tags).description("samples inferred").register(registry);
            executions = Counter.builder(EXECUTIONS).tags(tags).description("batches executed").register(registry);
            busy = Counter.builder(BUSY).tags(tags).baseUnit("seconds")
                    .description("model time of executed batches (its rate is the model's utilisation)")
                    .register(registry);
            queue = timer(QUEUE, "time a request waited for its batch to start");
            compute = timer(COMPUTE, "model time of the batch a request ran in");
            batchSize = DistributionSummary.builder(BATCH_SIZE).tags(tags).description("samples per executed batch")
                    .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024).register(registry);
        }

        private Timer timer(String name, String description) {
            return Timer.builder(name).tags(tags).description(description).publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(100_000)).maximumExpectedValue(Duration.ofMinutes(10))
                    .register(registry);
        }

        private Counter outcomeCounter(String outcome) {
            return Counter.builder(REQUESTS).tags(tags).tag("outcome", outcome)
                    .description("requests answered, by outcome (success or the gRPC status code)").register(registry);
        }

        void succeeded(int samples, long queueNanos, long computeNanos) {
            success.increment();
            inferences.increment(samples);
            queue.record(queueNanos, TimeUnit.NANOSECONDS);
            compute.record(computeNanos, TimeUnit.NANOSECONDS);
        }

        void failed(Status.Code code) {
            outcomeCounter(code.name()).increment();
        }

        /**
         * One batch the model answered: {@code samples} samples in {@code computeNanos} of model
         * time. A batch runs on the model's one batcher thread, so busy seconds per wall second is
         * at most 1 per model; a failed batch is not counted (it is logged as batch_failed).
         */
        void batchRan(int samples, long computeNanos) {
            executions.increment();
            batchSize.record(samples);
            busy.increment(computeNanos / 1e9);
        }
    }
}
