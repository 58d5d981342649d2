package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import com.google.protobuf.UnsafeByteOperations;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelMetadataRequest;
import dev.flowblend.proto.inference.ModelMetadataResponse;
import dev.flowblend.proto.inference.ModelReadyRequest;
import dev.flowblend.proto.inference.ModelReadyResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import dev.flowblend.proto.inference.ServerLiveRequest;
import dev.flowblend.proto.inference.ServerLiveResponse;
import dev.flowblend.proto.inference.ServerMetadataRequest;
import dev.flowblend.proto.inference.ServerMetadataResponse;
import dev.flowblend.proto.inference.ServerReadyRequest;
import dev.flowblend.proto.inference.ServerReadyResponse;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.Guidance;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.telemetry.Event;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The Open Inference Protocol over the worker's hosted models. Thin: validation lives in
 * {@link InferRequests}, execution in each model's {@link DynamicBatcher}. Thread-safe.
 */
final class InferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
    private static final Logger LOG = Logger.getLogger(InferenceService.class.getName());
    /** Trailer set on a conditioning-cache miss, so clients can resend without parsing text. */
    static final Metadata.Key<String> CONTEXT_MISS =
            Metadata.Key.of(Wire.CONTEXT_MISS_TRAILER, Metadata.ASCII_STRING_MARSHALLER);


    private final String workerName;
    private final Map<String, HostedModel> models;
    private final InferRequests requests;
    private final java.util.function.Supplier<String> caller;
    private final BooleanSupplier ready;
    private final int maxStreamInflight;
    private final Set<InferStream> streams = ConcurrentHashMap.newKeySet();
    private final WorkerMetrics metrics;

    /** @param caller the calling peer's identity, asked on the call's thread (its context) */
    InferenceService(String workerName, Map<String, HostedModel> models, InferRequests requests, BooleanSupplier ready,
                     int maxStreamInflight, WorkerMetrics metrics, java.util.function.Supplier<String> caller) {
        this.caller = caller;
        this.workerName = workerName;
        this.metrics = metrics;
        this.models = Map.copyOf(models);
        this.requests = requests;
        this.ready = ready;
        this.maxStreamInflight = maxStreamInflight;
    }

    @Override
    public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> out) {
        out.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
        out.onCompleted();
    }

    @Override
    public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> out) {
        out.onNext(ServerReadyResponse.newBuilder().setReady(ready.getAsBoolean()).build());
        out.onCompleted();
    }

    @Override
    public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> out) {
        HostedModel m = models.get(request.getName());
        if (m == null) {
            out.onError(notHosted(request.getName()).asRuntimeException());
            return;
        }
        out.onNext(ModelReadyResponse.newBuilder().setReady(ready.getAsBoolean()).build());
        out.onCompleted();
    }

    @Override
    public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> out) {
        ServerMetadataResponse.Builder b = ServerMetadataResponse.newBuilder().setName(workerName)
                .setVersion(WorkerServer.VERSION).addExtensions(Wire.CONTEXT_CACHE_EXTENSION)
                .addExtensions(Wire.BATCHING_EXTENSION);
        if (requests.appliesGuidance()) {
            b.addExtensions(Wire.GUIDANCE_EXTENSION);
        }
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> out) {
        HostedModel m = models.get(request.getName());
        if (m == null) {
            out.onError(notHosted(request.getName()).asRuntimeException());
            return;
        }
        ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(m.spec().name())
                .addVersions("1").setPlatform("onnxruntime_onnx");
        m.spec().inputs().forEach(t -> b.addInputs(meta(t)));
        m.spec().outputs().forEach(t -> b.addOutputs(meta(t)));
        out.onNext(b.build());
        out.onCompleted();
    }

    @Override
    public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> out) {
        ServerCallStreamObserver<ModelInferResponse> call = (ServerCallStreamObserver<ModelInferResponse>) out;
        // With a handler set, an answer written just after the client cancelled is dropped
        // instead of throwing on the batcher thread; queued work sees the cancelled context.
        call.setOnCancelHandler(() -> { });
        Context ctx = Context.current();
        infer(request, () -> cancellation(ctx), new Outcome() {
            @Override
            public boolean wanted() {
                return !call.isCancelled();
            }

            @Override
            public void completed(ModelInferResponse response) {
                call.onNext(response);
                call.onCompleted();
            }

            @Override
            public void failed(Status status, String contextMiss) {
                Metadata trailers = new Metadata();
                if (contextMiss != null) {
                    trailers.put(CONTEXT_MISS, contextMiss);
                }
                call.onError(status.asRuntimeException(trailers));
            }
        });
    }

    @Override
    public StreamObserver<ModelInferRequest> modelStreamInfer(StreamObserver<ModelStreamInferResponse> out) {
        ServerCallStreamObserver<ModelStreamInferResponse> call = (ServerCallStreamObserver<ModelStreamInferResponse>) out;
        InferStream s = new InferStream(this, call, Context.current(), maxStreamInflight);
        s.start();  // its own inbound flow control: at most max_stream_inflight requests unanswered
        streams.add(s);
        if (!ready.getAsBoolean()) {
            s.drain();  // opened while shutting down: answers each request UNAVAILABLE, then closes
        }
        return s;
    }

    /** Shutdown: every open stream refuses new requests and closes once its queued work has answered. */
    void drainStreams() {
        streams.forEach(InferStream::drain);
    }

    void streamClosed(InferStream s) {
        streams.remove(s);
    }

    /** Where one request's outcome goes: a unary call or a stream. Exactly one of the two methods runs. */
    interface Outcome {
        /** False once the caller has gone; the answer is then dropped. */
        boolean wanted();

        void completed(ModelInferResponse response);

        /** {@code contextMiss} is the missing conditioning id, or null when that is not the reason. */
        void failed(Status status, String contextMiss);
    }

    /** Validates {@code request} and queues it for its model; the outcome arrives later, on any thread. */
    void infer(ModelInferRequest request, DynamicBatcher.Cancellation cancellation, Outcome outcome) {
        HostedModel m = models.get(request.getModelName());
        if (m == null) {
            Status s = request.getModelName().isEmpty()
                    ? Status.INVALID_ARGUMENT.withDescription("model_name is empty; hosted models: " + models.keySet())
                    : notHosted(request.getModelName());
            metrics.notHosted(s.getCode());
            outcome.failed(s, null);
            return;
        }
        WorkerMetrics.Model meters = m.meters();
        meters.pending.incrementAndGet();  // answered by exactly one of the catch blocks or the Reply
        try {
            InferRequests.Parsed p = requests.parse(request, m, caller.get());
            try {
                m.batcher().submit(new DynamicBatcher.Job(p.inputs(), p.shapes(), p.batch(), cancellation,
                        new Reply(request, m, p, outcome), p.repeats()));
            } catch (InferException | RuntimeException refused) {
                requests.forget(p);  // a refused request stores nothing
                throw refused;
            }
        } catch (InferException e) {
            meters.pending.decrementAndGet();
            meters.failed(e.code());
            String miss = null;
            if (e.code() == Status.Code.FAILED_PRECONDITION) {
                InferParameter id = request.getParametersMap().get(Wire.CONTEXT_ID);
                miss = id == null ? "" : id.getStringParam();
            }
            outcome.failed(e.status(), miss);
        } catch (RuntimeException e) {
            meters.pending.decrementAndGet();
            meters.failed(Status.Code.INTERNAL);
            LOG.log(Level.SEVERE, Event.of("infer_failed").with("worker", workerName).with("model", m.spec().name())
                    .with("request_id", request.getId()).toString(), e);
            outcome.failed(Status.INTERNAL.withDescription("worker '" + workerName + "' failed: " + e), null);
        }
    }

    boolean ready() {
        return ready.getAsBoolean();
    }

    static InferException cancellation(Context ctx) {
        if (!ctx.isCancelled()) {
            return null;
        }
        boolean deadline = ctx.getDeadline() != null && ctx.getDeadline().isExpired();
        return deadline ? new InferException(Status.Code.DEADLINE_EXCEEDED, "deadline passed while queued")
                : new InferException(Status.Code.CANCELLED, "cancelled by the client while queued");
    }

    private Status notHosted(String name) {
        return Status.NOT_FOUND.withDescription("model '" + name + "' is not hosted by worker '" + workerName
                + "'; hosted models: " + models.keySet());
    }

    private static ModelMetadataResponse.TensorMetadata meta(TensorSpec t) {
        ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(t.name()).setDatatype(t.dtype().wireName());
        for (long d : t.shape()) {
            b.addShape(d);
        }
        return b.build();
    }

    private static InferParameter micros(long nanos) {
        return InferParameter.newBuilder().setInt64Param(nanos / 1000).build();
    }

    /** Answers one request from its share of a batch. */
    private final class Reply implements DynamicBatcher.Callback {
        private final ModelInferRequest request;
        private final HostedModel model;
        private final InferRequests.Parsed parsed;
        private final Outcome outcome;

        Reply(ModelInferRequest request, HostedModel model, InferRequests.Parsed parsed, Outcome outcome) {
            this.request = request;
            this.model = model;
            this.parsed = parsed;
            this.outcome = outcome;
        }

        @Override
        public void completed(List<ByteBuffer> outputs, DynamicBatcher.Served served) {
            model.meters().pending.decrementAndGet();
            if (parsed.guided()) {  // checked below as answered: a NaN branch, or an overflow in the combination
                outputs = guided(outputs);
            }
            String nonFinite = nonFinite(outputs);
            if (nonFinite != null) {  // never an OK answer with NaN/Inf in it
                model.meters().failed(Status.Code.FAILED_PRECONDITION);
                if (outcome.wanted()) {
                    outcome.failed(Status.FAILED_PRECONDITION.withDescription("model '" + model.spec().name()
                            + "' produced " + nonFinite + " for this request's inputs; inputs this far from what the "
                            + "model was trained on give no usable output"), null);
                }
                return;
            }
            model.meters().succeeded(parsed.batch(), served.queueNanos(), served.computeNanos());
            if (!outcome.wanted()) {
                return;
            }
            ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(model.spec().name())
                    .setModelVersion("1").setId(request.getId())
                    .putParameters(Wire.WORKER_ID, InferParameter.newBuilder().setStringParam(workerName).build())
                    .putParameters(Wire.BATCH_SIZE, InferParameter.newBuilder().setInt64Param(served.batchSize()).build())
                    .putParameters(Wire.QUEUE_MICROS, micros(served.queueNanos()))
                    .putParameters(Wire.COMPUTE_MICROS, micros(served.computeNanos()));
            for (int i : parsed.outputs()) {
                TensorSpec t = model.spec().outputs().get(i);
                ModelInferResponse.InferOutputTensor.Builder o = ModelInferResponse.InferOutputTensor.newBuilder()
                        .setName(t.name()).setDatatype(t.dtype().wireName());
                for (long d : t.withBatch(parsed.samples(), parsed.binding())) {
                    o.addShape(d);
                }
                b.addOutputs(o);
                // the slice is a fresh buffer no one writes again: wrap it without a copy
                b.addRawOutputContents(UnsafeByteOperations.unsafeWrap(outputs.get(i)));
            }
            outcome.completed(b.build());
        }

        /** The velocities of both branches combined into one guided velocity per sample, in the output's type. */
        private List<ByteBuffer> guided(List<ByteBuffer> outputs) {
            DType type = model.spec().outputs().get(0).dtype();
            int n = outputs.get(0).remaining() / type.bytes() / (2 * parsed.samples());
            return List.of(Guidance.combineToBytes(outputs.get(0), type, parsed.samples(), n, parsed.guidance()));
        }

        /** "output 'velocity' element 3 = NaN" for the first non-finite floating value of the requested outputs, or null. */
        private String nonFinite(List<ByteBuffer> outputs) {
            for (int i : parsed.outputs()) {
                TensorSpec t = model.spec().outputs().get(i);
                if (t.dtype().floating()) {
                    ByteBuffer b = outputs.get(i).duplicate().order(ByteOrder.LITTLE_ENDIAN);
                    int bad = Tensors.firstNonFinite(b, t.dtype());
                    if (bad >= 0) {
                        return "output '" + t.name() + "' element " + bad + " = " + Tensors.element(b, t.dtype(), bad);
                    }
                }
            }
            return null;
        }

        @Override
        public void failed(InferException error) {
            model.meters().pending.decrementAndGet();
            model.meters().failed(error.code());
            if (outcome.wanted()) {
                outcome.failed(error.status(), null);
            }
        }
    }
}
