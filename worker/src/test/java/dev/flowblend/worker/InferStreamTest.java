package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelStreamInferResponse;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tensors;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ModelStreamInfer: many requests on one stream, each answered by id, errors in-band. */
class InferStreamTest {
    private static final int INFLIGHT = 4;
    private static Golden golden;
    private WorkerServer server;
    private ManagedChannel channel;
    private final BlockingQueue<ModelStreamInferResponse> answers = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private final AtomicInteger taken = new AtomicInteger();  // stream requests the worker has read
    private final CountDownLatch inflightTaken = new CountDownLatch(INFLIGHT);

    /** Counts the ModelStreamInfer messages the worker has taken (and queued, once onMessage returns). */
    private final ServerInterceptor countTaken = new ServerInterceptor() {
        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                           ServerCallHandler<Q, A> next) {
            boolean stream = call.getMethodDescriptor().getFullMethodName()
                    .equals(GRPCInferenceServiceGrpc.getModelStreamInferMethod().getFullMethodName());
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
                @Override
                public void onMessage(Q message) {
                    super.onMessage(message);
                    if (stream) {
                        taken.incrementAndGet();
                        inflightTaken.countDown();
                    }
                }
            };
        }
    };

    @BeforeEach
    void start() throws Exception {
        golden = Golden.load("velocity-small");
        String name = InProcessServerBuilder.generateName();
        WorkerConfig config = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(4, 0, 16))
                .withMaxStreamInflight(INFLIGHT);
        server = new WorkerServer(config, ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name).intercept(countTaken)).start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    private StreamObserver<ModelInferRequest> open() {
        return open(null);
    }

    /** {@code manual} not null: the client reads no answer until the test asks through what it holds. */
    private StreamObserver<ModelInferRequest> open(AtomicReference<ClientCallStreamObserver<ModelInferRequest>> manual) {
        var observer = new ClientResponseObserver<ModelInferRequest, ModelStreamInferResponse>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<ModelInferRequest> c) {
                if (manual != null) {
                    c.disableAutoRequestWithInitial(0);
                    manual.set(c);
                }
            }

            @Override
            public void onNext(ModelStreamInferResponse r) {
                answers.add(r);
            }

            @Override
            public void onError(Throwable t) {
                ended.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                ended.complete(null);
            }
        };
        return GRPCInferenceServiceGrpc.newStub(channel).modelStreamInfer(observer);
    }

    private Map<String, ModelStreamInferResponse> take(int n) throws InterruptedException {
        Map<String, ModelStreamInferResponse> byId = new ConcurrentHashMap<>();
        for (int i = 0; i < n; i++) {
            ModelStreamInferResponse r = answers.poll(30, TimeUnit.SECONDS);
            assertTrue(r != null, "answer " + i + " of " + n + " did not arrive");
            byId.put(r.getInferResponse().getId(), r);
        }
        return byId;
    }

    private static float[] floats(ModelStreamInferResponse r) {
        return Tensors.floats(r.getInferResponse().getRawOutputContents(0).asReadOnlyByteBuffer()
                .order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void modelStreamInfer_goodAndBadRequests_eachAnsweredByIdAndStreamStaysOpen() throws Exception {
        StreamObserver<ModelInferRequest> requests = open();
        ModelInferRequest good = InferenceServiceTest.velocityRequestFrom(golden).setId("a").build();
        requests.onNext(good);
        requests.onNext(good.toBuilder().setId("b").setModelName("velocity-huge").build());
        requests.onNext(good.toBuilder().setId("c").build());
        Map<String, ModelStreamInferResponse> got = take(3);
        assertEquals("", got.get("a").getErrorMessage());
        assertArrayEquals(floats(got.get("a")), floats(got.get("c")));
        assertEquals("NOT_FOUND", got.get("b").getInferResponse().getParametersMap().get(Wire.ERROR_CODE)
                .getStringParam());
        assertTrue(got.get("b").getErrorMessage().contains("model 'velocity-huge' is not hosted"),
                got.get("b").getErrorMessage());
        assertTrue(!ended.isDone(), "a failed request leaves the stream open");
        requests.onCompleted();
        ended.get(10, TimeUnit.SECONDS);
    }

    @Test
    void modelStreamInfer_unknownContextId_failedPreconditionWithContextMiss() throws Exception {
        StreamObserver<ModelInferRequest> requests = open();
        ModelInferRequest full = InferenceServiceTest.velocityRequestFrom(golden).build();
        ModelInferRequest.Builder r = ModelInferRequest.newBuilder().setModelName(full.getModelName()).setId("x")
                .putParameters("context_id", InferParameter.newBuilder().setStringParam("ctx-never-sent").build());
        for (int i = 0; i < full.getInputsCount(); i++) {
            if (!full.getInputs(i).getName().equals("context")) {  // id only: the worker has never seen it
                r.addInputs(full.getInputs(i)).addRawInputContents(full.getRawInputContents(i));
            }
        }
        requests.onNext(r.build());
        ModelStreamInferResponse a = take(1).get("x");
        Map<String, InferParameter> p = a.getInferResponse().getParametersMap();
        assertEquals("FAILED_PRECONDITION", p.get(Wire.ERROR_CODE).getStringParam());
        assertEquals("ctx-never-sent", p.get(Wire.CONTEXT_MISS).getStringParam());
        requests.onCompleted();
    }

    @Test
    void close_streamOpenAndIdle_workerEndsItAndShutsDownWithoutWaitingForTheDrainTimeout() throws Exception {
        StreamObserver<ModelInferRequest> requests = open();
        requests.onNext(InferenceServiceTest.velocityRequestFrom(golden).setId("a").build());
        take(1);
        long t0 = System.nanoTime();
        server.close();  // drain_seconds is 30: an open stream must not hold shutdown that long
        ended.get(10, TimeUnit.SECONDS);
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "close waited for the drain timeout");
    }

    @Test
    void modelStreamInfer_clientSendsMoreThanInflightWithoutReading_workerTakesInflightThenAnswersEachIdOnce()
            throws Exception {
        AtomicReference<ClientCallStreamObserver<ModelInferRequest>> call = new AtomicReference<>();
        StreamObserver<ModelInferRequest> requests = open(call);  // reads no answer until asked to
        ModelInferRequest good = InferenceServiceTest.velocityRequestFrom(golden).build();
        int sent = INFLIGHT + 6;
        for (int i = 0; i < sent; i++) {
            requests.onNext(good.toBuilder().setId("r" + i).build());
        }
        assertTrue(inflightTaken.await(30, TimeUnit.SECONDS), "the worker took its first requests");
        // Queued behind the taken requests on the model's one batcher thread, this call returns only
        // after their answers are done: a worker that read on as answers finish would have by now.
        GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(good);
        assertEquals(INFLIGHT, taken.get());
        assertFalse(call.get().isReady(), "the worker asks the client for no more requests");
        assertTrue(answers.isEmpty(), "the client has read nothing yet");

        call.get().request(sent);
        Map<String, ModelStreamInferResponse> got = take(sent);
        assertEquals(IntStream.range(0, sent).mapToObj(i -> "r" + i).collect(Collectors.toSet()), got.keySet());
        assertEquals(Set.of(""), got.values().stream().map(ModelStreamInferResponse::getErrorMessage)
                .collect(Collectors.toSet()));
        assertEquals(sent, taken.get());
        requests.onCompleted();
        ended.get(10, TimeUnit.SECONDS);
        assertTrue(answers.isEmpty(), "each request is answered once");
    }
}
