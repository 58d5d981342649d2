package dev.flowblend.worker;

import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * One ModelStreamInfer call: each request goes the way a unary ModelInfer does (validation, the
 * model's batcher) and its answer is written to the stream when ready, in completion order. A
 * failed request is answered with {@code error_message} plus, in the response parameters,
 * {@code error_code} (the gRPC status code name) and {@code context_miss} on a conditioning-cache
 * miss; the stream stays open. The stream ends when the client half-closes it or the worker
 * drains, once every request taken has been answered (accepted work is never dropped).
 *
 * <p>Thread-safe: requests arrive on the transport thread, answers on batcher threads; writes to
 * the stream and the bookkeeping are serialised on this object.
 */
final class InferStream implements StreamObserver<ModelInferRequest> {
    static final String ERROR_CODE = "error_code";
    static final String CONTEXT_MISS = "context_miss";

    private final InferenceService service;
    private final ServerCallStreamObserver<ModelStreamInferResponse> out;
    private final Context context;
    private int outstanding;       // requests taken and not answered yet
    private boolean halfClosed;    // the client sends no more
    private boolean draining;      // the worker is shutting down
    private boolean ended;         // completed, or the client went away

    InferStream(InferenceService service, ServerCallStreamObserver<ModelStreamInferResponse> out, Context context) {
        this.service = service;
        this.out = out;
        this.context = context;
    }

    @Override
    public void onNext(ModelInferRequest request) {
        boolean refuse;
        synchronized (this) {
            if (ended) {
                return;
            }
            outstanding++;
            refuse = draining || !service.ready();
        }
        Answer answer = new Answer(request);
        if (refuse) {
            answer.failed(Status.UNAVAILABLE.withDescription("worker is shutting down; retry on another worker"), null);
            return;
        }
        service.infer(request, () -> InferenceService.cancellation(context), answer);
    }

    @Override
    public void onError(Throwable t) {
        // The client cancelled the stream or went away: queued requests see the cancelled context.
        end();
    }

    /** The call was cancelled (client gone, or the server shutting down hard). */
    void cancelled() {
        end();
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            halfClosed = true;
            closeIfDone();
        }
    }

    /** Refuses further requests (UNAVAILABLE) and ends the stream once the ones taken are answered. */
    void drain() {
        synchronized (this) {
            draining = true;
            closeIfDone();
        }
    }

    private synchronized void write(ModelStreamInferResponse response) {
        outstanding--;
        if (!ended && !out.isCancelled()) {
            out.onNext(response);
        }
        closeIfDone();
    }

    private void closeIfDone() {  // holds the lock
        if (!ended && outstanding == 0 && (halfClosed || draining)) {
            ended = true;
            if (!out.isCancelled()) {
                out.onCompleted();
            }
            service.streamClosed(this);
        }
    }

    private void end() {
        synchronized (this) {
            ended = true;
        }
        service.streamClosed(this);
    }

    /** The answer to one request on this stream. */
    private final class Answer implements InferenceService.Outcome {
        private final ModelInferRequest request;

        Answer(ModelInferRequest request) {
            this.request = request;
        }

        @Override
        public boolean wanted() {
            return true;  // always answered, so the stream's count of outstanding requests stays right
        }

        @Override
        public void completed(ModelInferResponse response) {
            write(ModelStreamInferResponse.newBuilder().setInferResponse(response).build());
        }

        @Override
        public void failed(Status status, String contextMiss) {
            ModelInferResponse.Builder r = ModelInferResponse.newBuilder().setModelName(request.getModelName())
                    .setId(request.getId())
                    .putParameters(ERROR_CODE, InferParameter.newBuilder().setStringParam(status.getCode().name()).build());
            if (contextMiss != null) {
                r.putParameters(CONTEXT_MISS, InferParameter.newBuilder().setStringParam(contextMiss).build());
            }
            write(ModelStreamInferResponse.newBuilder()
                    .setErrorMessage(status.getCode() + ": " + status.getDescription()).setInferResponse(r).build());
        }
    }
}
