package dev.flowblend.orchestrator;

import dev.flowblend.proto.RequestParsing;
import dev.flowblend.proto.generation.GenerationServiceGrpc;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tokenizer;
import dev.flowblend.security.AuthConfig;
import dev.flowblend.security.BearerAuth;
import dev.flowblend.security.Tokens;
import dev.flowblend.telemetry.Event;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The orchestrator process: GenerationService, health and reflection over the configured pools.
 *
 * <p>Close order: health NOT_SERVING; stop accepting calls; let running generations finish (up to
 * drain_seconds; those still running or queued then end UNAVAILABLE with a retry hint); stop the
 * generation executor; stop the health-only port; close the pools' channels; close the tokenizer
 * (owned here, lent to the PromptEncoder; an encode still in flight finishes first, a later one is
 * refused); stop the scheduler.
 */
public final class OrchestratorServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OrchestratorServer.class.getName());
    private final OrchestratorConfig config;
    private final ModelFamily family;
    private final ServerBuilder<?> builder;
    private final WorkerChannels channels;
    private ServerBuilder<?> healthBuilder;
    private Server healthServer;
    private final OrchestratorMetrics metrics;
    private final HealthStatusManager health = new HealthStatusManager();
    private Readiness readiness;
    private GenerationService service;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private ScheduledExecutorService scheduler;
    private ThreadPoolExecutor generations;
    private RemoteBackend backend;
    private Tokenizer tokenizer;
    private Server server;

    /**
     * @param builder where to listen (Netty port, or in-process in tests)
     * @param channels how to reach a worker address (Netty by default; in-process in tests)
     */
    public OrchestratorServer(OrchestratorConfig config, ModelFamily family, ServerBuilder<?> builder,
                              Function<String, ManagedChannel> channels) {
        this(config, family, builder, channels, new SimpleMeterRegistry());
    }

    /** @param registry where the orchestrator's metrics go (the process's Prometheus registry; any in tests) */
    public OrchestratorServer(OrchestratorConfig config, ModelFamily family, ServerBuilder<?> builder,
                              Function<String, ManagedChannel> channels, MeterRegistry registry) {
        this(config, family, builder, WorkerChannels.byAddress(channels), registry);
    }

    /** @param channels how to reach a worker (with the name its TLS certificate must carry) */
    public OrchestratorServer(OrchestratorConfig config, ModelFamily family, ServerBuilder<?> builder,
                              WorkerChannels channels, MeterRegistry registry) {
        this.config = config;
        this.family = family;
        this.builder = builder;
        this.channels = channels;
        this.metrics = new OrchestratorMetrics(registry);
    }

    /** Plaintext Netty channels to workers (loopback clusters, tests). */
    public static Function<String, ManagedChannel> nettyChannels(int maxMessageBytes) {
        WorkerChannels c = nettyChannels(maxMessageBytes, InsecureChannelCredentials.create());
        return address -> c.open(address, address);
    }

    /**
     * Netty channels to workers with {@code credentials}, sized for real latents. gRPC's own
     * retries are off: RemoteBackend retries on another worker itself, and the retry machinery
     * buffers every request. A TLS channel checks the worker's certificate against the
     * authority (the pool's name), not the address it dials.
     */
    public static WorkerChannels nettyChannels(int maxMessageBytes, ChannelCredentials credentials) {
        return (address, authority) -> NettyChannelBuilder.forTarget(address, credentials)
                .overrideAuthority(authority)
                .maxInboundMessageSize(maxMessageBytes)
                .keepAliveTime(30, TimeUnit.SECONDS)
                .disableRetry()
                .build();
    }

    /**
     * Also serve grpc.health.v1, and only that, on {@code health} (security.health_port: a
     * plaintext port for the kubelet's probes while the client port requires TLS). Call before
     * {@link #start}; it starts and stops with the server.
     */
    public OrchestratorServer healthListener(ServerBuilder<?> health) {
        this.healthBuilder = health;
        return this;
    }

    /** The health-only port, or -1 without one. */
    public int healthPort() {
        return healthServer == null ? -1 : healthServer.getPort();
    }

    public OrchestratorServer start() throws IOException {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "orchestrator-scheduler");
            t.setDaemon(true);
            return t;
        });
        // a worker stream's deadline timer is cancelled when an earlier deadline replaces it: drop it at once
        timers.setRemoveOnCancelPolicy(true);
        scheduler = timers;
        LOG.info(Event.of("orchestrator_starting").with("pools", config.pools().stream()
                .map(OrchestratorConfig.PoolConfig::name).toList()).with("default_plan", config.defaultPlan()).toString());
        backend = new RemoteBackend(family, config, channels, scheduler, WorkerPool.Resolver.SYSTEM, metrics);
        tokenizer = Tokenizer.load(family);
        PromptEncoder prompts = new PromptEncoder(tokenizer, config.promptCacheEntries());
        metrics.bindPrompts(prompts);
        Generator generator = new Generator(family, backend, prompts);
        Map<String, StagePlan> plans = new HashMap<>(StagePlan.PRESETS);
        config.plans().forEach((name, file) -> plans.put(name, StagePlan.load(Path.of(file))));
        StagePlan defaultPlan = plans.get(config.defaultPlan());
        if (defaultPlan == null) {
            defaultPlan = StagePlan.load(Path.of(config.defaultPlan()));
            plans.put(defaultPlan.name(), defaultPlan);
        }
        generator.resolve(defaultPlan, family.conventions().defaultSteps());  // fail fast on unknown pools
        OrchestratorConfig.Limits l = config.limits();
        // Admission bounds what reaches the executor to max_concurrent_generations at a time
        generations = new ThreadPoolExecutor(l.maxConcurrentGenerations(), l.maxConcurrentGenerations(), 0,
                TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> new Thread(r, "generation"));
        Admission admission = new Admission(generations, l.maxConcurrentGenerations(), l.maxQueuedGenerations());
        metrics.bindAdmission(admission);
        GenerationRequests requests = new GenerationRequests(generator, l, plans, defaultPlan);
        server = builder
                .maxInboundMessageSize(1 << 20)
                // malformed request bytes (invalid UTF-8 in the prompt, say): INVALID_ARGUMENT
                .addService(RequestParsing.guard(clientAuth(service = new GenerationService(generator, requests,
                        admission, config, System::nanoTime, metrics))))
                .addService(RequestParsing.guard(health.getHealthService()))
                .addService(ProtoReflectionServiceV1.newInstance())
                .build()
                .start();
        if (healthBuilder != null) {
            healthServer = healthBuilder.addService(RequestParsing.guard(health.getHealthService())).build().start();
        }
        health.setStatus("", ServingStatus.SERVING);  // liveness: the process is up and answering
        readiness = new Readiness(backend, defaultPlan.pools(), config.textEncoderPools(), config.decoderPools(),
                ready -> health.setStatus(GenerationServiceGrpc.SERVICE_NAME,
                        ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING));
        // NOT_SERVING until the first round of health checks has answered: a pool is not assumed served
        health.setStatus(GenerationServiceGrpc.SERVICE_NAME, ServingStatus.NOT_SERVING);
        scheduler.scheduleWithFixedDelay(readiness::check, backend.healthCheckTimeoutMillis() + 50,
                config.healthCheckMillis(), TimeUnit.MILLISECONDS);
        LOG.info(Event.of("orchestrator_started").with("address", config.host() + ":" + port())
                .with("first_readiness_check_ms", backend.healthCheckTimeoutMillis() + 50).toString());
        return this;
    }

    /** GenerationService behind bearer-token authentication when security.auth is configured. */
    private ServerServiceDefinition clientAuth(GenerationService generation) {
        AuthConfig auth = config.security().auth();
        if (auth == null) {
            LOG.warning(Event.of("client_auth_off").with("reason", "orchestrator.security.auth is not configured;"
                    + " any client that reaches the port may generate and cancel").toString());
            return generation.bindService();
        }
        return ServerInterceptors.intercept(generation, new BearerAuth(new Tokens(auth, System::nanoTime)));
    }

    public int port() {
        return server.getPort();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** Idempotent: a second call (a shutdown hook after an explicit close) does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        health.enterTerminalState();
        LOG.info(Event.of("orchestrator_draining").with("drain_seconds", config.drainSeconds()).toString());
        try {
            if (server != null) {
                server.shutdown();
                if (!server.awaitTermination(config.drainSeconds(), TimeUnit.SECONDS)) {
                    LOG.warning(Event.of("orchestrator_drain_timeout").with("drain_seconds", config.drainSeconds())
                            .with("generations", service.running()).toString());
                    // what is still running or queued ends UNAVAILABLE (clients retry it), not a reset stream
                    service.abortAll("drain_seconds " + config.drainSeconds() + " passed");
                    server.awaitTermination(5, TimeUnit.SECONDS);
                }
                server.shutdownNow();
            }
            if (generations != null) {
                generations.shutdown();
                if (!generations.awaitTermination(config.drainSeconds(), TimeUnit.SECONDS)) {
                    generations.shutdownNow();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (healthServer != null) {
                healthServer.shutdownNow();  // its NOT_SERVING answers were useful during the drain, not after
            }
            if (backend != null) {
                backend.close();
            }
            if (tokenizer != null) {
                tokenizer.close();
            }
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            LOG.info(Event.of("orchestrator_stopped").toString());
        }
    }
}
