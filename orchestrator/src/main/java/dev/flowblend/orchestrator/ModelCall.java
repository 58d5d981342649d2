package dev.flowblend.orchestrator;

import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Wire;
import dev.flowblend.telemetry.Event;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One model call to a pool across its tries: the least-loaded healthy worker first; another
 * worker after UNAVAILABLE, RESOURCE_EXHAUSTED or a try that timed out; the context resent after
 * a cache miss; and, for a velocity call still unanswered after its pool's hedging budget, one
 * hedge: the same request to another healthy worker, the first answer winning (a velocity call is
 * a pure function of its inputs, so both answers are the same) and the straggler skipped until a
 * health check passes again.
 *
 * <p>Thread-safety: replies arrive on transport threads, the hedge on the timer thread; the
 * bookkeeping is guarded by this object, and requests are sent and the result completed outside
 * the lock (a completion runs the next step on the completing thread).
 */
final class ModelCall {
    private static final Logger LOG = Logger.getLogger(ModelCall.class.getName());

    /**
     * The conditioning a velocity call carries: sent with the request only where it is not cached
     * (and always to a server without flowblend's context cache).
     */
    record ContextAttachment(Conditioning conditioning, TensorSpec spec, int batch) {
    }

    /**
     * The answer, the worker that gave it, and whether it went in the guided form (the worker
     * applied guidance: one velocity per sample) rather than the full one (both branches).
     */
    record Reply(ModelInferResponse response, String worker, boolean guided) {
    }

    final CompletableFuture<Reply> result = new CompletableFuture<>();
    private final String poolName;
    private final WorkerPool pool;
    private final ModelInferRequest.Builder base;
    private final ModelInferRequest.Builder guided;  // null: this call has no guided form
    private final ContextAttachment ctx;
    private final OrchestratorConfig.Limits limits;
    private final OrchestratorMetrics metrics;
    private final ScheduledExecutorService timers;
    private final StepLatency latency;   // null: not recorded (not a velocity call)
    private final long hedgeAfterNanos;  // < 0: no hedge
    private final LongSupplier nanoTime;
    // guarded by this
    private final List<Endpoint> tried = new ArrayList<>();
    private final List<Try> running = new ArrayList<>();
    private String lastError = "no endpoints";
    private Status.Code lastCode;
    private int attempts;
    private boolean resent;
    private boolean hedged;
    private boolean done;
    private ScheduledFuture<?> hedgeTimer;
    private Endpoint first;

    /**
     * @param base   the request with every input but the context (added per worker), flowblend's
     *               parameters included (dropped for servers without our extensions)
     * @param guided the same step with the latent once and the guidance_scale parameter, for
     *               workers that apply guidance; null when the call has none
     */
    ModelCall(String poolName, WorkerPool pool, ModelInferRequest.Builder base, ModelInferRequest.Builder guided,
              ContextAttachment ctx, OrchestratorConfig.Limits limits, OrchestratorMetrics metrics,
              ScheduledExecutorService timers, StepLatency latency, long hedgeAfterNanos, LongSupplier nanoTime) {
        this.poolName = poolName;
        this.pool = pool;
        this.base = base;
        this.guided = guided;
        this.ctx = ctx;
        this.limits = limits;
        this.metrics = metrics;
        this.timers = timers;
        this.latency = latency;
        this.hedgeAfterNanos = hedgeAfterNanos;
        this.nanoTime = nanoTime;
    }

    void start() {
        Try t;
        synchronized (this) {
            t = nextTry();
        }
        send(t);
    }

    /** The next try, or null after completing the result with why there is none. Under the lock. */
    private Try nextTry() {
        List<Endpoint> exclude = new ArrayList<>(tried);
        running.forEach(r -> exclude.add(r.endpoint));
        Endpoint e = attempts < limits.maxStepAttempts() ? pool.pick(exclude) : null;
        if (e == null) {
            if (!running.isEmpty()) {
                return null;  // a hedge is still out: its answer may yet come
            }
            done = true;
            // every try timed out: the caller sees a deadline, as with one worker; else the pool is unavailable
            BackendException.Kind kind = lastCode == Status.Code.DEADLINE_EXCEEDED
                    ? BackendException.Kind.DEADLINE_EXCEEDED : BackendException.Kind.UNAVAILABLE;
            LOG.warning(Event.of("step_failed").with("pool", poolName).with("model", base.getModelName())
                    .with("tries", tried.size()).with("last_error", lastError).toString());
            String dns = pool.dnsError() == null ? "" : "; its DNS name does not resolve: " + pool.dnsError();
            String what = "pool '" + poolName + "' has no worker that could serve the request after " + tried.size()
                    + " tries";
            result.completeExceptionally(new BackendException(kind, what, what + " (endpoints " + pool.endpoints()
                    + "); last error: " + lastError + dns, null));
            return null;
        }
        attempts++;
        first = first == null ? e : first;
        boolean compact = guided != null && e.has(Wire.GUIDANCE_EXTENSION) && e.has(Wire.CONTEXT_CACHE_EXTENSION);
        Try t = new Try(e, requestFor(e, compact, resent), compact, nanoTime.getAsLong());
        running.add(t);
        e.acquire();
        // a pool of one has no one to hedge to: no timer, so no scheduler wake-up on that step
        if (hedgeAfterNanos >= 0 && !hedged && hedgeTimer == null && pool.endpoints().size() > 1) {
            hedgeTimer = timers.schedule(this::hedge, hedgeAfterNanos, TimeUnit.NANOSECONDS);
        }
        return t;
    }

    private void send(Try t) {
        if (t == null) {
            return;
        }
        try {
            t.endpoint.infer(t.request, limits.stepTimeoutMillis(), t);
        } catch (RuntimeException ex) {  // never leave the future pending: no reply would ever come
            t.endpoint.release();
            synchronized (this) {
                running.remove(t);
                done = true;
            }
            result.completeExceptionally(new BackendException(BackendException.Kind.INTERNAL, "pool '" + poolName
                    + "': the request could not be sent to a worker", "pool '" + poolName + "' worker "
                    + t.endpoint.address() + ": could not send the request: " + ex, ex));
        }
    }

    /** The budget passed with the first try unanswered: the same request to another worker. */
    private void hedge() {
        Try t;
        String slow;
        synchronized (this) {
            if (done || hedged || running.isEmpty()) {
                return;
            }
            hedged = true;
            slow = running.get(0).endpoint.address();
            int before = running.size();
            t = nextTry();
            if (t == null || running.size() == before) {
                return;  // no other worker to ask: keep waiting on the first
            }
        }
        metrics.hedge(poolName);
        LOG.info(Event.of("step_hedged").with("pool", poolName).with("model", base.getModelName()).with("slow", slow)
                .with("to", t.endpoint.address()).with("after_ms", hedgeAfterNanos / 1_000_000.0).toString());
        send(t);
    }

    private void answered(Try t, ModelInferResponse response) {
        List<Try> losers;
        synchronized (this) {
            running.remove(t);
            if (done) {
                return;  // the other try won
            }
            done = true;
            if (hedgeTimer != null) {
                hedgeTimer.cancel(false);
            }
            losers = List.copyOf(running);
        }
        if (ctx != null && t.endpoint.has(Wire.CONTEXT_CACHE_EXTENSION)) {
            t.endpoint.contextSent(ctx.conditioning().id());
        }
        if (latency != null) {
            latency.record(nanoTime.getAsLong() - t.startNanos);
        }
        long now = nanoTime.getAsLong();
        for (Try loser : losers) {
            // a straggler: unanswered past the budget while another worker answered (not the hedge's
            // target, which the first try may simply have beaten by a moment)
            if (now - loser.startNanos >= hedgeAfterNanos) {
                loser.endpoint.markUnhealthy("straggler: no answer after " + (now - loser.startNanos) / 1_000_000
                        + " ms while " + t.endpoint.address() + " answered");
            }
        }
        if (t.endpoint != first) {
            metrics.failover(poolName);
            LOG.info(Event.of("step_failover").with("pool", poolName).with("model", base.getModelName())
                    .with("from", first.address()).with("to", t.endpoint.address()).with("tries", attempts).toString());
        }
        InferParameter w = response.getParametersMap().get(Wire.WORKER_ID);
        result.complete(new Reply(response, w != null && !w.getStringParam().isEmpty() ? w.getStringParam()
                : t.endpoint.address(), t.guided));
    }

    private void failed(Try t, Throwable error) {
        Status status = Status.fromThrowable(error);
        Status.Code code = status.getCode();
        Metadata trailers = Status.trailersFromThrowable(error);
        Try next = null;
        BackendException fatal = null;
        String reason = null;
        synchronized (this) {
            running.remove(t);
            if (done) {
                return;
            }
            Endpoint e = t.endpoint;
            lastError = e.address() + ": " + code + " " + status.getDescription();
            lastCode = code;
            if (code == Status.Code.FAILED_PRECONDITION && ctx != null && trailers != null
                    && trailers.containsKey(RemoteBackend.CONTEXT_MISS) && !resent) {
                e.contextLost(ctx.conditioning().id());
                resent = true;
                attempts--;  // a cache miss is not a failed attempt: resend, now with the context
                reason = "context_miss";
            } else {
                switch (code) {
                    // A velocity call is a pure function of its inputs: another worker's answer is the
                    // same answer. A try that timed out is retried too: a worker that stalls (stopped,
                    // link down) must cost one step timeout, not the generation.
                    case UNAVAILABLE, DEADLINE_EXCEEDED -> {
                        e.markUnhealthy(code + " " + status.getDescription());
                        tried.add(e);
                        reason = code.name().toLowerCase(Locale.ROOT);
                    }
                    case RESOURCE_EXHAUSTED -> {
                        tried.add(e);
                        reason = "resource_exhausted";
                    }
                    case CANCELLED -> fatal = new BackendException(BackendException.Kind.CANCELLED, "cancelled", error);
                    // not a context miss (handled above): the worker's model produced NaN/Inf for these inputs
                    case FAILED_PRECONDITION -> fatal = new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                            "pool '" + poolName + "': " + status.getDescription(), "pool '" + poolName + "' worker "
                            + e.address() + ": " + status.getDescription(), error);
                    default -> fatal = new BackendException(BackendException.Kind.INTERNAL, "pool '" + poolName
                            + "': a worker refused the request: " + code, "pool '" + poolName + "' worker "
                            + e.address() + " refused the request: " + code + ": " + status.getDescription(), error);
                }
            }
            if (fatal != null) {
                done = true;
            } else if (running.isEmpty() || reason.equals("context_miss")) {
                next = nextTry();  // while a hedge is out, a failed try waits for it instead
            }
        }
        if (fatal != null) {
            result.completeExceptionally(fatal);
            return;
        }
        metrics.retry(poolName, reason);
        // a cache miss is routine (evicted, or a worker without the cache): resent quietly
        LOG.log(reason.equals("context_miss") ? Level.FINE : Level.INFO, Event.of("step_retry").with("pool", poolName)
                .with("model", base.getModelName()).with("worker", t.endpoint.address()).with("reason", reason)
                .with("attempt", attempts).with("max_attempts", limits.maxStepAttempts()).with("error", lastError)
                .toString());
        send(next);
    }

    /**
     * The request as {@code e} gets it: a flowblend worker the context by id where it has it (all of
     * it when {@code force}, after a miss), and the guided form when {@code compact}; a server
     * without our context cache (a stock OIP server) every declared input and no parameters.
     */
    private ModelInferRequest requestFor(Endpoint e, boolean compact, boolean force) {
        boolean ours = e.has(Wire.CONTEXT_CACHE_EXTENSION);
        ModelInferRequest.Builder b = compact ? guided : base;
        if (ctx == null) {
            return ours ? b.build() : b.clone().clearParameters().build();
        }
        if (ours && !force && e.hasContext(ctx.conditioning().id())) {
            return b.build();
        }
        ModelInferRequest.Builder c = b.clone();
        if (!ours) {
            c.clearParameters();
        }
        return c.addInputs(InferMessages.input(ctx.spec(), ctx.batch()))
                .addRawInputContents(UnsafeByteOperations.unsafeWrap(ctx.conditioning().as(ctx.spec().dtype()).wireBytes()))
                .build();
    }

    /** One request to one worker; hears its outcome. */
    private final class Try implements StreamObserver<ModelInferResponse> {
        final Endpoint endpoint;
        final ModelInferRequest request;
        final boolean guided;
        final long startNanos;
        private ModelInferResponse response;

        Try(Endpoint endpoint, ModelInferRequest request, boolean guided, long startNanos) {
            this.endpoint = endpoint;
            this.request = request;
            this.guided = guided;
            this.startNanos = startNanos;
        }

        @Override
        public void onNext(ModelInferResponse r) {
            response = r;
        }

        @Override
        public void onCompleted() {
            endpoint.release();
            if (response == null) {  // a server may close OK without a message; never leave the caller waiting
                synchronized (ModelCall.this) {
                    running.remove(this);
                    if (done) {
                        return;
                    }
                    done = true;
                }
                result.completeExceptionally(new BackendException(BackendException.Kind.INTERNAL, "pool '" + poolName
                        + "': a worker ended the call without a response", "pool '" + poolName + "' worker "
                        + endpoint.address() + " ended the call without a response", null));
                return;
            }
            answered(this, response);
        }

        @Override
        public void onError(Throwable t) {
            endpoint.release();
            failed(this, t);
        }
    }
}
