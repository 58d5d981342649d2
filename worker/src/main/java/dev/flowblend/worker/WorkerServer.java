package dev.flowblend.worker;

import com.github.benmanes.caffeine.cache.Ticker;
import dev.flowblend.proto.RequestParsing;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.security.Caller;
import dev.flowblend.telemetry.Event;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One worker process: loads its models, serves the Open Inference Protocol and health (and
 * server reflection when its config asks for it).
 *
 * <p>Lifecycle: {@link #start} loads every model before the port opens, so a worker that answers
 * is ready. {@link #close} drains: health NOT_SERVING, stop accepting, wait up to drain_seconds for
 * in-flight calls, stop the health-only port, close the batchers (finishing anything queued), then
 * the models.
 *
 * <p>Calls run on the transport's threads (direct executor): a handler only validates and queues,
 * and every per-step RPC saves a thread hop. Model execution runs on one batcher thread per model.
 */
public final class WorkerServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(WorkerServer.class.getName());
    static final String VERSION = "0.1.0";

    private final WorkerConfig config;
    private final ModelFamily family;
    private final ServerBuilder<?> builder;
    private final WorkerMetrics metrics;
    private final HealthStatusManager health = new HealthStatusManager();
    private final List<OnnxModel> loaded = new ArrayList<>();
    private final Map<String, HostedModel> hosted = new LinkedHashMap<>();
    private volatile boolean ready;
    private Server server;
    private ServerBuilder<?> healthBuilder;
    private Server healthServer;
    private InferenceService inference;

    /** @param builder where to listen (a Netty port in production, in-process in tests) */
    public WorkerServer(WorkerConfig config, ModelFamily family, ServerBuilder<?> builder) {
        this(config, family, builder, new SimpleMeterRegistry());
    }

    /** @param registry where the worker's metrics go (the process's Prometheus registry; any registry in tests) */
    public WorkerServer(WorkerConfig config, ModelFamily family, ServerBuilder<?> builder, MeterRegistry registry) {
        this.config = config;
        this.family = family;
        this.builder = builder;
        this.metrics = new WorkerMetrics(registry, config.name(), config.role());
    }

    /**
     * Also serve grpc.health.v1, and only that, on {@code health} (security.health_port: a
     * plaintext port for the kubelet's probes while the OIP port requires client certificates).
     * Call before {@link #start}; it starts and stops with the server.
     */
    public WorkerServer healthListener(ServerBuilder<?> health) {
        this.healthBuilder = health;
        return this;
    }

    /** The health-only port, or -1 without one. */
    public int healthPort() {
        return healthServer == null ? -1 : healthServer.getPort();
    }

    public WorkerServer start() throws IOException {
        long t0 = System.nanoTime();
        LOG.info(Event.of("worker_starting").with("worker", config.name()).with("role", config.role())
                .with("models", String.join(",", config.models())).with("execution_provider",
                        config.runtime().executionProvider()).toString());
        try {
            for (String name : config.models()) {
                ModelEntry entry = family.byName(name).orElseThrow(() -> new IllegalArgumentException(
                        "worker '" + config.name() + "': model '" + name + "' is not in the family's manifest; it has "
                                + family.models().stream().map(ModelEntry::name).toList()));
                OnnxModel model = OnnxModel.load(family, entry, config.runtime());
                loaded.add(model);
                Map<String, Long> int64Limits = HostedModel.int64Limits(entry, family);
                WorkerMetrics.Model meters = metrics.model(name);
                DynamicBatcher batcher = new DynamicBatcher(name, entry.inputs(), entry.outputs(), model::run,
                        config.batching(), r -> {
                            Thread t = new Thread(r, "batcher-" + name);
                            t.setDaemon(true);
                            return t;
                        }, System::nanoTime, meters::batchRan);
                hosted.put(name, new HostedModel(entry, batcher, int64Limits, meters));
            }
            ConditioningCache cache = new ConditioningCache(config.contextCache(), Ticker.systemTicker());
            metrics.bindCache(cache);
            InferRequests requests = new InferRequests(cache, config.batching().maxBatchSize(),
                    family.conventions().videoSizes(), config.applyGuidance());
            inference = new InferenceService(config.name(), hosted, requests, () -> ready,
                    config.maxStreamInflight(), metrics, Caller::current);
            builder.directExecutor()
                    .maxInboundMessageSize(config.maxMessageBytes())
                    // malformed request bytes: INVALID_ARGUMENT; the caller's identity from its certificate
                    .addService(RequestParsing.guard(ServerInterceptors.intercept(inference, new Caller())))
                    .addService(RequestParsing.guard(health.getHealthService()));
            if (config.reflection()) {
                builder.addService(ProtoReflectionServiceV1.newInstance());
            }
            server = builder.build().start();
            if (healthBuilder != null) {
                healthServer = healthBuilder.addService(RequestParsing.guard(health.getHealthService())).build().start();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.SEVERE, Event.of("worker_start_failed").with("worker", config.name()).toString(), e);
            closeModels();
            throw e;
        }
        ready = true;
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(GRPCInferenceServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        LOG.info(Event.of("worker_ready").with("worker", config.name()).with("address", config.host() + ":" + port())
                .with("startup_ms", (System.nanoTime() - t0) / 1_000_000).toString());
        return this;
    }

    /** The bound port (useful with port 0). */
    public int port() {
        return server.getPort();
    }

    public WorkerConfig config() {
        return config;
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        ready = false;
        health.enterTerminalState();
        LOG.info(Event.of("worker_draining").with("worker", config.name()).with("drain_seconds", config.drainSeconds())
                .toString());
        long t0 = System.nanoTime();
        if (server != null) {
            server.shutdown();
            inference.drainStreams();  // open streams take no more requests and end once answered
            try {
                if (!server.awaitTermination(config.drainSeconds(), TimeUnit.SECONDS)) {
                    LOG.warning(Event.of("worker_drain_timeout").with("worker", config.name())
                            .with("drain_seconds", config.drainSeconds()).toString());
                    server.shutdownNow();
                    server.awaitTermination(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                server.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        if (healthServer != null) {
            healthServer.shutdownNow();
        }
        closeModels();
        LOG.info(Event.of("worker_stopped").with("worker", config.name())
                .with("drain_ms", (System.nanoTime() - t0) / 1_000_000).toString());
    }

    private void closeModels() {
        hosted.values().forEach(h -> h.batcher().close());
        hosted.clear();
        loaded.forEach(OnnxModel::close);
        loaded.clear();
    }
}
