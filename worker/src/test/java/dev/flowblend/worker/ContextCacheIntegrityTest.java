package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Wire;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * No caller can poison the conditioning cache: an id is stored only with the bytes it names, and
 * only for a request the worker accepts. The cache is observed through the worker's own metrics.
 */
class ContextCacheIntegrityTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private WorkerServer server;
    private ManagedChannel channel;
    private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private ModelInferRequest golden;

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        WorkerConfig config = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(4, 0, 16));
        server = new WorkerServer(config, ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name), registry).start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        golden = InferenceServiceTest.velocityRequestFrom(Golden.load("velocity-small")).build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.close();
    }

    private double cachedEntries() {
        return registry.get(WorkerMetrics.CACHE_ENTRIES).gauge().value();
    }

    private static ModelInferRequest withId(ModelInferRequest r, String id) {
        return r.toBuilder().putParameters(Wire.CONTEXT_ID, InferParameter.newBuilder().setStringParam(id).build())
                .build();
    }

    @Test
    void modelInfer_contextUnderAnotherContextsId_refusedAndNothingStored() {
        // the id of some other context (another prompt's), with this request's bytes
        String otherId = Wire.contextId(ByteString.copyFrom(new byte[golden.getRawInputContents(2).size()])
                .asReadOnlyByteBuffer());
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.modelInfer(withId(golden, otherId)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().startsWith("context_id '" + otherId + "' does not name the "
                + "'context' input sent with it (its content id is '" + InferenceServiceTest.contextIdOf(golden)
                + "')"), e.getStatus().getDescription());
        assertEquals(0.0, cachedEntries());
        // and the forged id refers to nothing afterwards
        ModelInferRequest byId = withId(ModelInferRequest.newBuilder().setModelName(golden.getModelName())
                .addInputs(golden.getInputs(0)).addInputs(golden.getInputs(1))
                .addRawInputContents(golden.getRawInputContents(0)).addRawInputContents(golden.getRawInputContents(1))
                .build(), otherId);
        assertEquals(Status.Code.FAILED_PRECONDITION,
                assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(byId)).getStatus().getCode());
    }

    @Test
    void modelInfer_validIdButRequestRejected_cacheUnchanged() {
        String id = InferenceServiceTest.contextIdOf(golden);
        // a batch over max_batch_size (4): three copies of each 2-sample input = 6 samples
        ModelInferRequest.Builder big = golden.toBuilder().clearInputs().clearRawInputContents();
        for (int i = 0; i < golden.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor t = golden.getInputs(i);
            big.addInputs(t.toBuilder().setShape(0, t.getShape(0) * 3));
            ByteString b = golden.getRawInputContents(i);
            big.addRawInputContents(b.concat(b).concat(b));
        }
        ModelInferRequest rejected = withId(big.build(), Wire.contextId(big.getRawInputContents(2).asReadOnlyByteBuffer()));
        assertEquals(Status.Code.INVALID_ARGUMENT,
                assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(rejected)).getStatus().getCode());
        assertEquals(0.0, cachedEntries());

        stub.modelInfer(withId(golden, id));  // accepted: now it is stored, once
        assertEquals(1.0, cachedEntries());
    }
}
