package dev.flowblend.orchestrator;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import com.google.common.util.concurrent.MoreExecutors;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ServerMetadataRequest;
import dev.flowblend.proto.inference.ServerReadyRequest;
import dev.flowblend.proto.inference.ServerReadyResponse;
import dev.flowblend.proto.inference.ServerMetadataResponse;
import dev.flowblend.telemetry.Event;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * One worker as the orchestrator sees it: a channel, its in-flight count (for least-loaded
 * picking), its health, which conditioning ids it has been sent, and which of flowblend's protocol
 * extensions its ServerMetadata lists (learned each time it turns healthy; until then none, so a
 * stock Open Inference Protocol server gets every declared input and none of our parameters).
 * Thread-safe. Owned by its {@link WorkerPool}, which closes it when the worker leaves the pool or
 * the pool closes.
 */
final class Endpoint implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Endpoint.class.getName());
    static final String HEALTH_SERVICE = "inference.GRPCInferenceService";

    private final String address;
    private final ManagedChannel channel;
    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub;
    private final AtomicInteger inflight = new AtomicInteger();
    // Slightly shorter-lived than the worker's own cache entries; a miss anyway triggers a resend.
    private final Cache<String, Boolean> sentContexts = Caffeine.newBuilder()
            .maximumSize(10_000).expireAfterWrite(Duration.ofMinutes(5)).build();
    private volatile boolean healthy = true;
    private volatile Set<String> extensions = Set.of();
    private volatile boolean extensionsKnown;
    private final String pool;
    private final WorkerStream stream;  // null: unary calls only

    /**
     * {@code streams}: send requests on one ModelStreamInfer stream (falling back to unary calls
     * if the worker lacks it); {@code timers} then enforces each request's deadline.
     */
    Endpoint(String address, ManagedChannel channel, ScheduledExecutorService timers, boolean streams) {
        this("", address, channel, timers, streams);
    }

    /** @param pool the pool's name, for log lines */
    Endpoint(String pool, String address, ManagedChannel channel, ScheduledExecutorService timers, boolean streams) {
        this.pool = pool;
        this.address = address;
        this.channel = channel;
        // Replies are handled on the transport thread that read them: the handlers only finish a
        // step and send the next request, and a hand-off to another thread costs a wake-up per step.
        this.stub = GRPCInferenceServiceGrpc.newStub(channel).withExecutor(MoreExecutors.directExecutor());
        this.stream = streams ? new WorkerStream(stub, timers, address, this::unary) : null;
    }

    /**
     * Sends one inference with a deadline; {@code observer} hears its outcome (on a transport or
     * timer thread) as a unary call would report it, whichever way it travelled.
     */
    void infer(ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> observer) {
        if (stream != null && stream.supported()) {
            stream.send(request, deadlineMillis, observer);
        } else {
            unary(request, deadlineMillis, observer);
        }
    }

    private void unary(ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> observer) {
        stub.withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS).modelInfer(request, observer);
    }

    String address() {
        return address;
    }

    int inflight() {
        return inflight.get();
    }

    void acquire() {
        inflight.incrementAndGet();
    }

    void release() {
        inflight.decrementAndGet();
    }

    boolean healthy() {
        return healthy;
    }

    /** After a failed call: picked last until a health check says SERVING again. */
    void markUnhealthy(String why) {
        setHealthy(false, why);
    }

    /** Logs each change of state once, with why; a worker that went away may come back as another server. */
    private void setHealthy(boolean now, String why) {
        boolean was = healthy;
        healthy = now;
        if (!now) {  // correctness first: until asked again, send every input and no parameters
            extensionsKnown = false;
            extensions = Set.of();
        }
        if (was != now) {
            Event e = Event.of(now ? "endpoint_healthy" : "endpoint_unhealthy").with("pool", pool).with("address", address);
            if (now) {
                LOG.info(e.toString());
            } else {
                LOG.warning(e.with("reason", why).toString());
            }
        }
    }

    /** Whether the worker's ServerMetadata listed {@code extension} when it last turned healthy. */
    boolean has(String extension) {
        return extensions.contains(extension);
    }

    /** Asks the worker's ServerMetadata which extensions it has; the answer arrives asynchronously. */
    private void learnExtensions(long timeoutMillis) {
        stub.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS).serverMetadata(
                ServerMetadataRequest.getDefaultInstance(), new StreamObserver<>() {
                    @Override
                    public void onNext(ServerMetadataResponse r) {
                        Set<String> now = Set.copyOf(r.getExtensionsList());
                        extensions = now;
                        LOG.info(Event.of("endpoint_capabilities").with("pool", pool).with("address", address)
                                .with("server", r.getName()).with("extensions", String.join(",", new TreeSet<>(now)))
                                .toString());
                    }

                    @Override
                    public void onError(Throwable t) {
                        extensionsKnown = false;  // asked again after the next passing health check
                        Status s = Status.fromThrowable(t);
                        LOG.warning(Event.of("endpoint_capabilities_unknown").with("pool", pool).with("address", address)
                                .with("error", s.getCode() + " " + s.getDescription()).toString());
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    boolean hasContext(String id) {
        return sentContexts.getIfPresent(id) != null;
    }

    void contextSent(String id) {
        sentContexts.put(id, Boolean.TRUE);
    }

    void contextLost(String id) {
        sentContexts.invalidate(id);
    }

    /** Asks the worker's gRPC health service; the answer arrives asynchronously. */
    void checkHealth(long timeoutMillis) {
        HealthGrpc.newStub(channel).withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)
                .check(HealthCheckRequest.newBuilder().setService(HEALTH_SERVICE).build(),
                        new StreamObserver<>() {
                            @Override
                            public void onNext(HealthCheckResponse r) {
                                checked(r.getStatus() == HealthCheckResponse.ServingStatus.SERVING,
                                        "health check: " + r.getStatus(), timeoutMillis);
                            }

                            @Override
                            public void onError(Throwable t) {
                                Status s = Status.fromThrowable(t);
                                if (s.getCode() == Status.Code.UNIMPLEMENTED || s.getCode() == Status.Code.NOT_FOUND) {
                                    // a server without gRPC health for this service (a stock OIP server):
                                    // the protocol's own readiness call says the same
                                    serverReady(timeoutMillis);
                                    return;
                                }
                                setHealthy(false, "health check: " + s.getCode() + " " + s.getDescription());
                                if (s.getCode() == Status.Code.UNAVAILABLE) {
                                    // the next check (and call) connects at once instead of after an
                                    // exponential backoff that grows to minutes while a worker is away
                                    channel.resetConnectBackoff();
                                }
                            }

                            @Override
                            public void onCompleted() {
                            }
                        });
    }

    private void checked(boolean serving, String why, long timeoutMillis) {
        setHealthy(serving, why);
        if (serving && !extensionsKnown) {
            extensionsKnown = true;
            learnExtensions(timeoutMillis);
        }
    }

    /** The Open Inference Protocol's ServerReady, for servers without the gRPC health service. */
    private void serverReady(long timeoutMillis) {
        stub.withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS).serverReady(ServerReadyRequest.getDefaultInstance(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReadyResponse r) {
                        checked(r.getReady(), "ServerReady: " + r.getReady(), timeoutMillis);
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status s = Status.fromThrowable(t);
                        setHealthy(false, "ServerReady: " + s.getCode() + " " + s.getDescription());
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    /** Stops new calls; calls in flight finish (the channel shuts down gracefully). */
    @Override
    public void close() {
        if (stream != null) {
            stream.close();  // the worker answers what it took, then ends the stream, so the channel can terminate
        }
        channel.shutdown();
    }

    void awaitClosed(long millis) throws InterruptedException {
        if (!channel.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
            channel.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return address + (healthy ? "" : " (unhealthy)");
    }
}
