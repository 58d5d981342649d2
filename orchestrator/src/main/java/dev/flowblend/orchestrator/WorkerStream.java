package dev.flowblend.orchestrator;

import dev.flowblend.runtime.Wire;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import dev.flowblend.telemetry.Event;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * The orchestrator's end of one worker's ModelStreamInfer stream: every step sent to that worker
 * travels on it as one message each way, matched by request id, instead of as a call of its own
 * (a unary call costs stream set-up, headers and trailers each time: about twice a streamed
 * message's round trip on loopback). Each request still gets its outcome as a unary call would
 * deliver it, through a {@code StreamObserver<ModelInferResponse>}: the response, or an error
 * whose status and context-miss trailer come from the worker's answer; DEADLINE_EXCEEDED when its
 * deadline passes; UNAVAILABLE when the stream breaks (the caller retries elsewhere). A worker
 * without the method (UNIMPLEMENTED, e.g. a plain KServe server) makes the requests in flight and
 * all later ones go as unary calls.
 *
 * <p>The stream is opened on first use, outside any generation's context (it outlives them), and
 * reopened after it ends. A cancelled generation stops at its next step; its request in flight is
 * answered and dropped. Thread-safe. Owned by its {@link Endpoint}, which closes it.
 */
final class WorkerStream {
    private static final Logger LOG = Logger.getLogger(WorkerStream.class.getName());

    private final GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub;
    private final ScheduledExecutorService timers;
    private final Unary unary;
    private final String address;
    private final AtomicLong ids = new AtomicLong();
    private Session current;  // guarded by this
    private volatile boolean unsupported;
    private boolean closed;   // guarded by this

    WorkerStream(GRPCInferenceServiceGrpc.GRPCInferenceServiceStub stub, ScheduledExecutorService timers,
                 String address, Unary unary) {
        this.stub = stub;
        this.timers = timers;
        this.address = address;
        this.unary = unary;
    }

    /** How a request goes as a unary call with its deadline (for workers without the stream). */
    interface Unary {
        void send(ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> observer);
    }

    /** False once the worker answered UNIMPLEMENTED: callers then use unary calls. */
    boolean supported() {
        return !unsupported;
    }

    /** Sends one request; {@code observer} hears its outcome once, on a transport or timer thread. */
    void send(ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> observer) {
        String id = "s" + ids.incrementAndGet();
        ModelInferRequest tagged = request.toBuilder().setId(id).build();
        Session s;
        synchronized (this) {
            if (closed) {
                observer.onError(Status.UNAVAILABLE.withDescription("worker " + address + ": endpoint closed")
                        .asRuntimeException());
                return;
            }
            if (current == null || current.ended) {
                current = new Session();
                Session opening = current;
                // Not tied to the calling generation's context: cancelling one generation must not end it.
                Context previous = Context.ROOT.attach();
                try {
                    opening.requests = stub.modelStreamInfer(opening);
                } finally {
                    Context.ROOT.detach(previous);
                }
            }
            s = current;
        }
        s.send(id, tagged, deadlineMillis, observer);
    }

    /** Half-closes the stream: the worker answers what it has taken, then ends it. */
    synchronized void close() {
        closed = true;
        if (current != null && !current.ended) {
            current.requests.onCompleted();
        }
    }

    private record Pending(ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> observer) {
    }

    private static Deadlines.Scheduler scheduler(ScheduledExecutorService timers) {
        return (task, delayNanos) -> {
            ScheduledFuture<?> f = timers.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
            return () -> f.cancel(false);
        };
    }

    /** One opened stream and the requests waiting for an answer on it. */
    private final class Session implements StreamObserver<ModelStreamInferResponse> {
        final Map<String, Pending> pending = new ConcurrentHashMap<>();
        final Deadlines<String> deadlines = new Deadlines<>(scheduler(timers), System::nanoTime, id -> {
            Pending p = pending.get(id);
            if (p != null) {
                fail(id, Status.DEADLINE_EXCEEDED.withDescription("no answer within " + p.deadlineMillis() + " ms"));
            }
        });
        StreamObserver<ModelInferRequest> requests;  // written under the WorkerStream's lock
        volatile boolean ended;
        volatile String endReason = "";

        void send(String id, ModelInferRequest request, long deadlineMillis, StreamObserver<ModelInferResponse> obs) {
            pending.put(id, new Pending(request, deadlineMillis, obs));
            deadlines.watch(id, TimeUnit.MILLISECONDS.toNanos(deadlineMillis));
            synchronized (WorkerStream.this) {
                if (!ended) {
                    requests.onNext(request);
                    return;
                }
            }
            // The stream ended before the request left (possibly at once: a worker without the method)
            Pending p = pending.remove(id);
            if (p == null) {
                return;  // whatever ended the stream has already answered it
            }
            deadlines.forget(id);
            if (unsupported) {
                unary.send(request.toBuilder().clearId().build(), deadlineMillis, obs);
            } else {
                obs.onError(Status.UNAVAILABLE.withDescription("stream to worker " + address + " ended: " + endReason)
                        .asRuntimeException());
            }
        }

        private void fail(String id, Status status) {
            Pending p = pending.remove(id);
            if (p != null) {
                deadlines.forget(id);
                p.observer().onError(status.asRuntimeException());
            }
        }

        @Override
        public void onNext(ModelStreamInferResponse r) {
            String id = r.getInferResponse().getId();
            Pending p = pending.remove(id);
            if (p == null) {
                return;  // timed out meanwhile
            }
            deadlines.forget(id);
            if (r.getErrorMessage().isEmpty()) {
                p.observer().onNext(r.getInferResponse());
                p.observer().onCompleted();
                return;
            }
            Map<String, InferParameter> params = r.getInferResponse().getParametersMap();
            Status status = Status.INTERNAL;
            InferParameter code = params.get(Wire.ERROR_CODE);
            if (code != null) {
                try {
                    status = Status.fromCode(Status.Code.valueOf(code.getStringParam()));
                } catch (IllegalArgumentException e) {
                    // unknown code name: INTERNAL
                }
            }
            Metadata trailers = new Metadata();
            InferParameter miss = params.get(Wire.CONTEXT_MISS);
            if (miss != null) {
                trailers.put(RemoteBackend.CONTEXT_MISS, miss.getStringParam());
            }
            p.observer().onError(status.withDescription(r.getErrorMessage()).asRuntimeException(trailers));
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            endReason = status.getCode() + " " + status.getDescription();
            ended = true;
            if (status.getCode() == Status.Code.UNIMPLEMENTED) {
                unsupported = true;  // a worker without streaming: this and every later request go unary
                for (String id : pending.keySet()) {
                    Pending p = pending.remove(id);
                    if (p != null) {
                        deadlines.forget(id);
                        unary.send(p.request().toBuilder().clearId().build(), p.deadlineMillis(), p.observer());
                    }
                }
                return;
            }
            LOG.info(Event.of("worker_stream_ended").with("worker", address).with("reason", endReason)
                    .with("requests_in_flight", pending.size()).toString());
            failAll(Status.UNAVAILABLE.withDescription("stream to worker " + address + " broke: " + endReason));
        }

        @Override
        public void onCompleted() {
            endReason = "the worker ended it (draining)";
            LOG.info(Event.of("worker_stream_ended").with("worker", address).with("reason", endReason)
                    .with("requests_in_flight", pending.size()).toString());
            ended = true;
            failAll(Status.UNAVAILABLE.withDescription("worker " + address + " ended the stream (draining)"));
        }

        private void failAll(Status status) {
            for (String id : pending.keySet()) {
                fail(id, status);
            }
        }
    }
}
