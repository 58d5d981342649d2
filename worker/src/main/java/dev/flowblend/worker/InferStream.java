package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;

/**
 * One ModelStreamInfer call: each request goes the way a unary ModelInfer does (validation, the
 * model's batcher) and its answer is written to the stream when ready, in completion order. A
 * failed request is answered with {@code error_message} plus, in the response parameters,
 * {@code error_code} (the gRPC status code name) and {@code context_miss} on a conditioning-cache
 * miss; the stream stays open. The stream ends when the client half-closes it or the worker
 * drains, once every request taken has been answered (accepted work is never dropped).
 *
 * <p>Flow control: the stream asks for inbound messages itself, so at most max_stream_inflight
 * requests are taken and not yet answered, and an answer counts only once written to the
 * transport. While the transport is not ready (the client is not reading) finished answers wait
 * here, in completion order, and no further request is taken until the onReady handler writes
 * them; so a client that sends without reading is slowed by HTTP/2 flow control instead of
 * growing the worker's buffers, which hold at most max_stream_inflight answers per stream.
 *
 * <p>Thread-safe: requests, half-close and onReady arrive on the transport thread, answers on
 * batcher threads (or the transport thread, for a request refused at once); writes to the stream
 * and the bookkeeping are serialised on this object. Inbound messages are requested outside that
 * lock, since a transport may deliver the next request on the requesting thread.
 */
final class InferStream implements StreamObserver<ModelInferRequest> {

    private final InferenceService service;
    private final ServerCallStreamObserver<ModelStreamInferResponse> out;
    private final Context context;
    private final int maxInflight;
    private final ArrayDeque<ModelStreamInferResponse> unwritten = new ArrayDeque<>();  // waits for onReady
    private int outstanding;       // requests taken and not written yet, unwritten included
    private boolean halfClosed;    // the client sends no more
    private boolean draining;      // the worker is shutting down
    private boolean ended;         // completed, or the client went away

    InferStream(InferenceService service, ServerCallStreamObserver<ModelStreamInferResponse> out, Context context,
                int maxInflight) {
        this.service = service;
        this.out = out;
        this.context = context;
        this.maxInflight = maxInflight;
    }

    /** Takes over inbound flow control; call from the service method, before it returns. */
    void start() {
        out.disableAutoRequest();
        out.setOnReadyHandler(this::onReady);
        out.setOnCancelHandler(this::cancelled);  // answers after a cancel are dropped, not thrown
        out.request(maxInflight);
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

    private void onReady() {
        int written;
        synchronized (this) {
            written = flush();
        }
        requestMore(written);
    }

    private void answered(ModelStreamInferResponse response) {
        int written;
        synchronized (this) {
            if (ended) {
                return;  // the client is gone, or the stream already closed
            }
            unwritten.add(response);
            written = flush();
        }
        requestMore(written);
    }

    /** Writes waiting answers while the transport takes them; returns how many it wrote. Holds the lock. */
    private int flush() {
        int written = 0;
        // Counted as written only once onNext returns: a transport may run the client, and so this
        // stream's handlers, on this thread during the write, and they must not close the stream under it.
        while (!ended && !unwritten.isEmpty() && out.isReady()) {
            out.onNext(unwritten.poll());
            outstanding--;
            written++;
        }
        closeIfDone();
        return ended || halfClosed ? 0 : written;  // no requests are coming: ask for none
    }

    /** One more request for each answer written: at most max_stream_inflight stay unanswered. */
    private void requestMore(int written) {
        if (written > 0) {
            out.request(written);
        }
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
            unwritten.clear();  // no one will read them
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
            answered(ModelStreamInferResponse.newBuilder().setInferResponse(response).build());
        }

        @Override
        public void failed(Status status, String contextMiss) {
            ModelInferResponse.Builder r = ModelInferResponse.newBuilder().setModelName(request.getModelName())
                    .setId(request.getId())
                    .putParameters(Wire.ERROR_CODE, InferParameter.newBuilder().setStringParam(status.getCode().name()).build());
            if (contextMiss != null) {
                r.putParameters(Wire.CONTEXT_MISS, InferParameter.newBuilder().setStringParam(contextMiss).build());
            }
            answered(ModelStreamInferResponse.newBuilder()
                    .setErrorMessage(status.getCode() + ": " + status.getDescription()).setInferResponse(r).build());
        }
    }
}
