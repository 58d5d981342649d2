package dev.flowblend.orchestrator;

import dev.flowblend.runtime.Wire;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.telemetry.Event;
import io.grpc.ManagedChannel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Models served by worker pools over the Open Inference Protocol. Every call has a deadline,
 * goes to the least-loaded healthy worker of its pool, and is retried on another worker when the
 * first is unavailable or full (a velocity call is a pure function of its inputs, so retrying is
 * safe). Conditioning travels once per worker: afterwards only its id does, and a cache miss
 * (FAILED_PRECONDITION with the flowblend-context-miss trailer) makes us resend it. Requests
 * travel on each worker's long-lived ModelStreamInfer stream ({@link WorkerStream}) or, with
 * {@code worker_streams: false} or a worker without it, as unary ModelInfer calls; the outcome
 * reaches {@link Call} the same way.
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

    public RemoteBackend(ModelFamily family, OrchestratorConfig config, Function<String, ManagedChannel> channels,
                         ScheduledExecutorService scheduler) {
        this(family, config, channels, scheduler, WorkerPool.Resolver.SYSTEM,
                new OrchestratorMetrics(new SimpleMeterRegistry()));
    }

    RemoteBackend(ModelFamily family, OrchestratorConfig config, Function<String, ManagedChannel> channels,
                  ScheduledExecutorService scheduler, WorkerPool.Resolver resolver, OrchestratorMetrics metrics) {
        this.family = family;
        this.config = config;
        this.metrics = metrics;
        this.textEncoderModel = family.byRole(ModelFamily.ROLE_TEXT_ENCODER).name();
        this.decoderModel = family.byRole(ModelFamily.ROLE_DECODER).name();
        for (OrchestratorConfig.PoolConfig pc : config.pools()) {
            if (family.byName(pc.model()).isEmpty()) {
                throw new IllegalArgumentException("pool '" + pc.name() + "' model '" + pc.model()
                        + "' is not in the family's manifest");
            }
            WorkerPool pool = new WorkerPool(pc,
                    a -> new Endpoint(pc.name(), a, channels.apply(a), scheduler, config.workerStreams()), resolver);
            pools.put(pc.name(), pool);
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
    public float[] encodeText(long[] tokenIds, int batch) throws BackendException {
        TensorSpec in = family.byName(textEncoderModel).orElseThrow().inputs().get(0);
        ModelInferRequest.Builder req = request(textEncoderModel)
                .addInputs(input(in, batch)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(tokenIds)));
        return floats(Backend.await(call(config.textEncoderPool(), req, null)).response());
    }

    @Override
    public float[] decode(float[] latent, int batch) throws BackendException {
        TensorSpec in = family.byName(decoderModel).orElseThrow().inputs().get(0);
        ModelInferRequest.Builder req = request(decoderModel)
                .addInputs(input(in, batch)).addRawInputContents(UnsafeByteOperations.unsafeWrap(Tensors.bytes(latent)));
        return floats(Backend.await(call(config.decoderPool(), req, null)).response());
    }

    /** Completes on the gRPC transport thread that received the reply (see {@link Backend#velocityAsync}). */
    @Override
    public CompletableFuture<Velocity> velocityAsync(String pool, float[] latent, float[] timesteps,
                                                     Conditioning conditioning, int batch) {
        WorkerPool p = pools.get(pool);
        if (p == null) {
            return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INVALID_ARGUMENT,
                    "no pool named '" + pool + "'"));
        }
        List<TensorSpec> specs = family.byName(p.model()).orElseThrow().inputs();
        ModelInferRequest.Builder req = request(p.model())
                .putParameters(Wire.CONTEXT_ID, InferParameter.newBuilder().setStringParam(conditioning.id()).build());
        for (TensorSpec t : specs) {
            switch (t.name()) {
                case "latent" -> req.addInputs(input(t, batch))
                        .addRawInputContents(UnsafeByteOperations.unsafeWrap(Tensors.bytes(latent)));
                case "timestep" -> req.addInputs(input(t, batch))
                        .addRawInputContents(UnsafeByteOperations.unsafeWrap(Tensors.bytes(timesteps)));
                case "context" -> { } // added per endpoint: only where it is not cached yet
                default -> {
                    return CompletableFuture.failedFuture(new BackendException(BackendException.Kind.INTERNAL, "model '"
                            + p.model() + "' has input '" + t.name() + "' that flowblend does not know how to fill"));
                }
            }
        }
        TensorSpec ctxSpec = family.byName(p.model()).orElseThrow().input("context");
        return call(pool, req, new ContextAttachment(conditioning, ctxSpec, batch)).thenApply(r -> {
            try {
                return new Velocity(floats(r.response()), r.worker(), millis(r.response(), Wire.QUEUE_MICROS),
                        millis(r.response(), Wire.COMPUTE_MICROS));
            } catch (BackendException e) {
                throw new CompletionException(e);
            }
        });
    }

    private record ContextAttachment(Conditioning conditioning, TensorSpec spec, int batch) {
    }

    private record Reply(ModelInferResponse response, String worker) {
    }

    private CompletableFuture<Reply> call(String poolName, ModelInferRequest.Builder base, ContextAttachment ctx) {
        Call c = new Call(poolName, base, ctx);
        c.attempt();
        return c.result;
    }

    /**
     * One model call across its attempts. Each attempt's reply arrives on the transport thread
     * (direct executor: no hand-off), which starts the next attempt if there is one; so the fields
     * are touched by one thread at a time, each attempt after the previous one ended.
     */
    private final class Call implements StreamObserver<ModelInferResponse> {
        final CompletableFuture<Reply> result = new CompletableFuture<>();
        final String poolName;
        final WorkerPool pool;
        final ModelInferRequest.Builder base;
        final ContextAttachment ctx;
        final List<Endpoint> tried = new ArrayList<>();
        final int maxAttempts = config.limits().maxStepAttempts();
        String lastError = "no endpoints";
        Status.Code lastCode;
        int attempts;
        boolean resent;
        Endpoint current;
        ModelInferResponse response;

        Call(String poolName, ModelInferRequest.Builder base, ContextAttachment ctx) {
            this.poolName = poolName;
            this.pool = pools.get(poolName);
            this.base = base;
            this.ctx = ctx;
        }

        void attempt() {
            Endpoint e = attempts < maxAttempts ? pool.pick(tried) : null;
            if (e == null) {
                // every try timed out: the caller sees a deadline, as with one worker; else the pool is unavailable
                BackendException.Kind kind = lastCode == Status.Code.DEADLINE_EXCEEDED
                        ? BackendException.Kind.DEADLINE_EXCEEDED : BackendException.Kind.UNAVAILABLE;
                LOG.warning(Event.of("step_failed").with("pool", poolName).with("model", base.getModelName())
                        .with("tries", tried.size()).with("last_error", lastError).toString());
                String dns = pool.dnsError() == null ? "" : "; its DNS name does not resolve: " + pool.dnsError();
                result.completeExceptionally(new BackendException(kind, "pool '" + poolName
                        + "' has no worker that could serve the request after " + tried.size() + " tries (endpoints "
                        + pool.endpoints() + "); last error: " + lastError + dns));
                return;
            }
            attempts++;
            current = e;
            response = null;
            e.acquire();
            try {
                e.infer(withContext(base, ctx, e, resent), config.limits().stepTimeoutMillis(), this);
            } catch (RuntimeException ex) {  // never leave the future pending: no reply would ever come
                e.release();
                result.completeExceptionally(new BackendException(BackendException.Kind.INTERNAL, "pool '" + poolName
                        + "' worker " + e.address() + ": could not send the request: " + ex, ex));
            }
        }

        @Override
        public void onNext(ModelInferResponse r) {
            response = r;
        }

        private void retry(Endpoint from, String reason) {
            retryLogged(this, from, reason);
        }

        @Override
        public void onCompleted() {
            Endpoint e = current;
            e.release();
            if (response == null) {  // a server may close OK without a message; never leave the caller waiting
                result.completeExceptionally(new BackendException(BackendException.Kind.INTERNAL, "pool '" + poolName
                        + "' worker " + e.address() + " ended the call without a response"));
                return;
            }
            if (ctx != null) {
                e.contextSent(ctx.conditioning().id());
            }
            if (!tried.isEmpty()) {
                metrics.failover(poolName);
                LOG.info(Event.of("step_failover").with("pool", poolName).with("model", base.getModelName())
                        .with("from", tried.get(0).address()).with("to", e.address()).with("tries", attempts).toString());
            }
            InferParameter w = response.getParametersMap().get(Wire.WORKER_ID);
            result.complete(new Reply(response, w != null && !w.getStringParam().isEmpty() ? w.getStringParam() : e.address()));
        }

        @Override
        public void onError(Throwable t) {
            Endpoint e = current;
            e.release();
            Status status = Status.fromThrowable(t);
            Status.Code code = status.getCode();
            lastError = e.address() + ": " + code + " " + status.getDescription();
            lastCode = code;
            Metadata trailers = Status.trailersFromThrowable(t);
            if (code == Status.Code.FAILED_PRECONDITION && ctx != null && trailers != null
                    && trailers.containsKey(CONTEXT_MISS) && !resent) {
                e.contextLost(ctx.conditioning().id());
                resent = true;
                attempts--;  // a cache miss is not a failed attempt: resend, now with the context
                retry(e, "context_miss");
                return;
            }
            switch (code) {
                // A velocity call is a pure function of its inputs: another worker's answer is the same answer.
                // A try that timed out is retried too: a worker that stalls (stopped, link down) must cost one
                // step timeout, not the generation.
                case UNAVAILABLE, DEADLINE_EXCEEDED -> {
                    e.markUnhealthy(code + " " + status.getDescription());
                    tried.add(e);
                    retry(e, code.name().toLowerCase(java.util.Locale.ROOT));
                }
                case RESOURCE_EXHAUSTED -> {
                    tried.add(e);
                    retry(e, "resource_exhausted");
                }
                case CANCELLED -> result.completeExceptionally(
                        new BackendException(BackendException.Kind.CANCELLED, "cancelled", t));
                // not a context miss (handled above): the worker's model produced NaN/Inf for these inputs
                case FAILED_PRECONDITION -> result.completeExceptionally(new BackendException(
                        BackendException.Kind.FAILED_PRECONDITION, "pool '" + poolName + "' worker " + e.address()
                        + ": " + status.getDescription(), t));
                default -> result.completeExceptionally(new BackendException(BackendException.Kind.INTERNAL, "pool '"
                        + poolName + "' worker " + e.address() + " refused the request: " + code + ": "
                        + status.getDescription(), t));
            }
        }
    }

    /** Counts and logs one more try of {@code call}, then makes it. */
    private void retryLogged(Call call, Endpoint from, String reason) {
        metrics.retry(call.poolName, reason);
        // a cache miss is routine (evicted, or a worker without the cache): resent quietly
        LOG.log(reason.equals("context_miss") ? Level.FINE : Level.INFO, Event.of("step_retry").with("pool", call.poolName).with("model", call.base.getModelName())
                .with("worker", from.address()).with("reason", reason).with("attempt", call.attempts + 1)
                .with("max_attempts", call.maxAttempts).with("error", call.lastError).toString());
        call.attempt();
    }

    private static ModelInferRequest withContext(ModelInferRequest.Builder base, ContextAttachment ctx, Endpoint e,
                                                 boolean force) {
        if (ctx == null || (!force && e.hasContext(ctx.conditioning().id()))) {
            return base.build();
        }
        return base.clone().addInputs(input(ctx.spec(), ctx.batch()))
                .addRawInputContents(UnsafeByteOperations.unsafeWrap(Tensors.bytes(ctx.conditioning().context())))
                .build();
    }

    private static ModelInferRequest.Builder request(String model) {
        return ModelInferRequest.newBuilder().setModelName(model);
    }

    private static ModelInferRequest.InferInputTensor input(TensorSpec t, int batch) {
        ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(t.name()).setDatatype(t.dtype().wireName());
        for (long d : t.withBatch(batch)) {
            b.addShape(d);
        }
        return b.build();
    }

    /** A worker-reported duration; 0 when the worker does not report it (e.g. a stock OIP server). */
    private static double millis(ModelInferResponse r, String parameter) {
        InferParameter p = r.getParametersMap().get(parameter);
        return p == null ? 0 : p.getInt64Param() / 1e3;
    }

    private static float[] floats(ModelInferResponse r) throws BackendException {
        if (r.getRawOutputContentsCount() < 1) {
            throw new BackendException(BackendException.Kind.INTERNAL, "worker returned no raw_output_contents");
        }
        ByteBuffer b = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return Tensors.floats(b);
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
