package dev.flowblend.orchestrator;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import dev.flowblend.runtime.Wire;
import dev.flowblend.telemetry.Event;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * Models served by worker pools over the Open Inference Protocol. Every call has a deadline,
 * goes to the least-loaded healthy worker of its pool, and is retried on another worker when the
 * first is unavailable or full (a velocity call is a pure function of its inputs, so retrying is
 * safe). A pool that cannot serve a velocity call hands it to its fallback ({@link Fallbacks},
 * {@link PoolRoute}); the text encoder and decoder run on the first of their configured pools
 * that can. Each answer names the pool that gave it. Conditioning travels once per worker:
 * afterwards only its id does, and a cache miss (FAILED_PRECONDITION with the
 * flowblend-context-miss trailer) makes us resend it. Requests
 * travel on each worker's long-lived ModelStreamInfer stream ({@link WorkerStream}) or, with
 * {@code worker_streams: false} or a worker without it, as unary ModelInfer calls; the outcome
 * reaches {@link ModelCall} the same way. The messages themselves are built and read by
 * {@link InferMessages}.
 *
 * <p>Thread-safe. Owns its pools and their channels; the scheduler is borrowed (the caller
 * shuts it down after closing this backend).
 */
public final class RemoteBackend implements Backend {
    private static final Logger LOG = Logger.getLogger(RemoteBackend.class.getName());
    static final Metadata.Key<String> CONTEXT_MISS =
            Metadata.Key.of(Wire.CONTEXT_MISS_TRAILER, Metadata.ASCII_STRING_MARSHALLER);

    private final ModelFamily family;
    private final OrchestratorConfig config;
    private final Map<String, WorkerPool> pools = new LinkedHashMap<>();
    private final List<ScheduledFuture<?>> tasks = new ArrayList<>();
    private final String textEncoderModel;
    private final String decoderModel;
    private final OrchestratorMetrics metrics;
    private final ScheduledExecutorService scheduler;
    private final Map<String, StepLatency> latencies = new LinkedHashMap<>();
    private final Fallbacks fallbacks;

    public RemoteBackend(ModelFamily family, OrchestratorConfig config, Function<String, ManagedChannel> channels,
                         ScheduledExecutorService scheduler) {
        this(family, config, channels, scheduler, WorkerPool.Resolver.SYSTEM,
                new OrchestratorMetrics(new SimpleMeterRegistry()));
    }

    RemoteBackend(ModelFamily family, OrchestratorConfig config, Function<String, ManagedChannel> channels,
                  ScheduledExecutorService scheduler, WorkerPool.Resolver resolver, OrchestratorMetrics metrics) {
        this(family, config, WorkerChannels.byAddress(channels), scheduler, resolver, metrics);
    }

    RemoteBackend(ModelFamily family, OrchestratorConfig config, WorkerChannels channels,
                  ScheduledExecutorService scheduler, WorkerPool.Resolver resolver, OrchestratorMetrics metrics) {
        this.family = family;
        this.config = config;
        this.metrics = metrics;
        this.scheduler = scheduler;
        this.textEncoderModel = family.byRole(ModelFamily.ROLE_TEXT_ENCODER).name();
        this.decoderModel = family.byRole(ModelFamily.ROLE_DECODER).name();
        this.fallbacks = Fallbacks.of(config.pools(), family);
        for (OrchestratorConfig.PoolConfig pc : config.pools()) {
            if (family.byName(pc.model()).isEmpty()) {
                throw new IllegalArgumentException("pool '" + pc.name() + "' model '" + pc.model()
                        + "' is not in the family's manifest");
            }
            WorkerPool pool = new WorkerPool(pc,
                    a -> new Endpoint(pc.name(), a, channels.open(a, pc.dns() != null ? pc.dns() : a), scheduler,
                            config.workerStreams()), resolver);
            pools.put(pc.name(), pool);
            latencies.put(pc.name(), new StepLatency(config.hedging().percentile()));
            metrics.bindPool(pool);
            long hc = config.healthCheckMillis();
            tasks.add(scheduler.scheduleWithFixedDelay(() -> pool.checkHealth(healthCheckTimeoutMillis()), 0, hc,
                    TimeUnit.MILLISECONDS));
            if (pc.dns() != null) {
                tasks.add(scheduler.scheduleWithFixedDelay(pool::refresh, pc.dnsRefreshMillis(), pc.dnsRefreshMillis(),
                        TimeUnit.MILLISECONDS));
            }
        }
    }

    @Override
    public float[] encodeText(long[] tokenIds, long[] mask, int batch) throws BackendException {
        return encodeTextHosted(tokenIds, mask, batch).values();
    }

    /**
     * On the first of text_encoder_pools that can serve it: every input the encoder declares,
     * input_ids and, where declared, attention_mask (a stock server, too, gets exactly those).
     */
    @Override
    public Hosted encodeTextHosted(long[] tokenIds, long[] mask, int batch) throws BackendException {
        ModelEntry encoder = family.byName(textEncoderModel).orElseThrow();
        ModelInferRequest.Builder req = InferMessages.request(textEncoderModel);
        for (TensorSpec in : encoder.inputs()) {
            boolean isMask = in.name().equals(Wire.ATTENTION_MASK);
            if (isMask && mask == null) {
                throw new BackendException(BackendException.Kind.INTERNAL, "text encoder '" + textEncoderModel
                        + "' takes '" + Wire.ATTENTION_MASK + "' but no mask was given");
            }
            req.addInputs(InferMessages.input(in, batch)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(isMask ? mask : tokenIds)));
        }
        return hosted(textEncoderModel, config.textEncoderPools(), encoder.outputs().get(0).dtype(),
                pool -> call(pool, req, null));
    }

    @Override
    public float[] decode(float[] latent, int batch) throws BackendException {
        return decodeHosted(latent, batch).values();
    }

    @Override
    public Hosted decodeHosted(float[] latent, int batch) throws BackendException {
        return decodeHosted(latent, batch, null);
    }

    /** On the first of decoder_pools that can serve it. */
    @Override
    public Hosted decodeHosted(float[] latent, int batch, VideoSize size) throws BackendException {
        ModelEntry decoder = family.byName(decoderModel).orElseThrow();
        TensorSpec in = decoder.inputs().get(0);
        ByteString x = UnsafeByteOperations.unsafeWrap(Tensors.bytes(latent, in.dtype()));
        return hosted(decoderModel, config.decoderPools(), decoder.outputs().get(0).dtype(), pool -> call(pool,
                InferMessages.request(decoderModel).addInputs(InferMessages.input(in, batch, binding(size))).addRawInputContents(x), null));
    }

    private Map<String, Long> binding(VideoSize size) {
        return (size != null ? size : family.conventions().defaultVideoSize()).binding();
    }

    private Hosted hosted(String model, List<String> hosts, DType out,
                          Function<String, CompletableFuture<ModelCall.Reply>> call) throws BackendException {
        PoolRoute.Served<ModelCall.Reply> s = Backend.await(PoolRoute.call(hosts, this::healthy, call));
        if (s.reason() != null) {  // the same model on another pool: the same output, but not where configured first
            LOG.info(Event.of("model_fallback").with("model", model).with("pool", hosts.get(0)).with("served", s.pool())
                    .with("reason", s.reason()).toString());
        }
        return new Hosted(InferMessages.floats(s.value().response(), out), s.pool());
    }

    /**
     * On {@code pool}, or, while it cannot serve the call, on its fallback ({@link PoolRoute});
     * the result names the pool that served it. Completes on the gRPC transport thread that
     * received the reply (see {@link Backend#velocityAsync}).
     */
    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch) {
        return velocityAsync(pool, latent, timesteps, conditioning, batch, null);
    }

    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch, VideoSize size) {
        if (!pools.containsKey(pool)) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INVALID_ARGUMENT,
                    "no pool named '" + pool + "'"));
        }
        Map<DType, ByteString> x = encoded(pool, "latent", latent);
        Map<DType, ByteString> t = encoded(pool, "timestep", timesteps);
        Map<String, Long> binding = binding(size);
        return route(pool, p -> velocityOn(p, x, t, conditioning, batch, binding, null));
    }

    /**
     * Guided steps go to a worker that applies guidance itself ({@link Wire#GUIDANCE_EXTENSION}) with
     * the latent once and come back as one velocity; to any other worker as both branches, combined
     * here ({@link Backend#guidedVelocityAsync}).
     */
    @Override
    public CompletableFuture<Velocity> guidedVelocityAsync(String pool, float[] latent, float[] timesteps,
                                                           Conditioning conditioning, int samples, float guidance,
                                                           VideoSize size) {
        if (conditioning.batch() == samples) {
            return velocityAsync(pool, latent, timesteps, conditioning, samples, size);
        }
        if (!pools.containsKey(pool)) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INVALID_ARGUMENT,
                    "no pool named '" + pool + "'"));
        }
        Map<DType, ByteString> x = encoded(pool, "latent", latent);
        Map<DType, ByteString> t = encoded(pool, "timestep", timesteps);
        Map<DType, ByteString> xx = new java.util.EnumMap<>(DType.class);
        Map<DType, ByteString> tt = new java.util.EnumMap<>(DType.class);
        x.forEach((d, b) -> xx.put(d, b.concat(b)));  // a rope: the bytes are not copied
        t.forEach((d, b) -> tt.put(d, b.concat(b)));
        Map<String, Long> binding = binding(size);
        Once once = new Once(x, t, samples, guidance);
        return route(pool, p -> velocityOn(p, xx, tt, conditioning, 2 * samples, binding, once));
    }

    /** A guided step's latent and timesteps sent once, for workers that apply guidance. */
    private record Once(Map<DType, ByteString> latent, Map<DType, ByteString> timesteps, int samples, float guidance) {
    }

    /**
     * The input as each pool on {@code pool}'s fallback chain takes it: copied now (the caller may
     * reuse its arrays once this returns, and a fallback call comes later), once per wire type (a
     * family's pools take the same types, so normally once).
     */
    private Map<DType, ByteString> encoded(String pool, String input, float[] values) {
        Map<DType, ByteString> m = new java.util.EnumMap<>(DType.class);
        for (String p : fallbacks.chain(pool)) {
            TensorSpec spec = family.byName(pools.get(p).model()).orElseThrow().input(input);
            if (spec != null) {
                m.computeIfAbsent(spec.dtype(), d -> UnsafeByteOperations.unsafeWrap(Tensors.bytes(values, d)));
            }
        }
        return m;
    }

    private CompletableFuture<Velocity> route(String pool, Function<String, CompletableFuture<Velocity>> on) {
        return PoolRoute.call(fallbacks.chain(pool), this::healthy, on)
                .thenApply(s -> {
                    if (s.reason() != null) {
                        metrics.fallback(pool, s.pool(), s.reason());
                    }
                    return s.value().servedBy(s.pool(), s.reason());
                });
    }

    private CompletableFuture<Velocity> velocityOn(String pool, Map<DType, ByteString> latent,
                                                   Map<DType, ByteString> timesteps, Conditioning conditioning,
                                                   int batch, Map<String, Long> binding, Once once) {
        WorkerPool p = pools.get(pool);
        ModelEntry model = family.byName(p.model()).orElseThrow();
        TensorSpec ctxSpec = model.input("context");
        Conditioning cond = ctxSpec == null ? conditioning : conditioning.as(ctxSpec.dtype());
        ModelInferRequest.Builder req;
        ModelInferRequest.Builder guided;
        try {
            req = InferMessages.velocity(model, cond.id(), latent, timesteps, batch, binding);
            guided = once == null ? null : InferMessages.guided(model, cond.id(), once.latent(), once.timesteps(),
                    once.samples(), binding, once.guidance());
        } catch (BackendException e) {
            return CompletableFuture.failedFuture(e);
        }
        DType out = model.outputs().get(0).dtype();
        return call(pool, req, guided, new ModelCall.ContextAttachment(cond, ctxSpec, cond.batch())).thenApply(r -> {
            try {
                return InferMessages.velocity(r, out, once == null ? 0 : once.samples(),
                        once == null ? 0 : once.guidance());
            } catch (BackendException e) {
                throw new CompletionException(e);
            }
        });
    }

    /** Whether a worker of {@code pool} passed its last health check. */
    private boolean healthy(String pool) {
        WorkerPool p = pools.get(pool);
        return p != null && p.healthyCount() > 0;
    }

    /** Each pool's fallback chain. */
    Fallbacks fallbacks() {
        return fallbacks;
    }

    private CompletableFuture<ModelCall.Reply> call(String poolName, ModelInferRequest.Builder base,
                                                    ModelCall.ContextAttachment ctx) {
        return call(poolName, base, null, ctx);
    }

    private CompletableFuture<ModelCall.Reply> call(String poolName, ModelInferRequest.Builder base,
                                                    ModelInferRequest.Builder guided, ModelCall.ContextAttachment ctx) {
        // velocity calls (those with conditioning) are timed and hedged; encoder and decoder calls are not
        boolean velocity = ctx != null;
        ModelCall c = new ModelCall(poolName, pools.get(poolName), base, guided, ctx, config.limits(), metrics, scheduler,
                velocity ? latencies.get(poolName) : null, velocity ? hedgeAfterNanos(poolName) : -1, System::nanoTime);
        c.start();
        return c.result;
    }

    /**
     * How long a velocity call to {@code pool} may go unanswered before it is hedged: multiplier x
     * the pool's recent percentile latency, at least min_millis; a pool without enough history
     * borrows the slowest pool's (in a FlowBlending plan the large pool's steps come first, and a
     * small model is not slower than its large one). -1: no hedge (off, no history anywhere, or
     * the budget would reach the step timeout).
     */
    long hedgeAfterNanos(String pool) {
        OrchestratorConfig.Hedging h = config.hedging();
        if (!h.enabled()) {
            return -1;
        }
        long p = latencies.get(pool).percentileNanos();
        if (p < 0) {
            for (StepLatency other : latencies.values()) {
                p = Math.max(p, other.percentileNanos());
            }
            if (p < 0) {
                return -1;
            }
        }
        long budget = Math.max((long) (p * h.multiplier()), TimeUnit.MILLISECONDS.toNanos(h.minMillis()));
        return budget < TimeUnit.MILLISECONDS.toNanos(config.limits().stepTimeoutMillis()) ? budget : -1;
    }

    @Override
    public boolean hasPool(String pool) {
        return pools.containsKey(pool);
    }

    @Override
    public String poolModel(String pool) {
        WorkerPool p = pools.get(pool);
        return p == null ? null : p.model();
    }

    /** How long one health check of an endpoint may take; every check of a round has answered after it. */
    long healthCheckTimeoutMillis() {
        return Math.min(config.healthCheckMillis(), 1000);
    }

    /**
     * Why {@code pool} cannot serve a call now (no worker known, none healthy, DNS failing), or
     * null when at least one of its workers passed its last health check.
     */
    String unservable(String pool) {
        WorkerPool p = pools.get(pool);
        if (p == null) {
            return "pool '" + pool + "' is not configured";
        }
        if (p.healthyCount() > 0) {
            return null;
        }
        String dns = p.dnsError() == null ? "" : " (DNS: " + p.dnsError() + ")";
        return p.endpoints().isEmpty() ? "pool '" + pool + "' has no workers" + dns
                : "pool '" + pool + "' has no healthy worker among " + p.endpoints() + dns;
    }

    /** Pool name to its endpoints' addresses, for status output. */
    public Map<String, List<String>> endpoints() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        pools.forEach((k, v) -> m.put(k, v.endpoints().stream().map(Endpoint::toString).toList()));
        return m;
    }

    @Override
    public void close() {
        tasks.forEach(t -> t.cancel(false));
        pools.values().forEach(WorkerPool::close);
    }
}
