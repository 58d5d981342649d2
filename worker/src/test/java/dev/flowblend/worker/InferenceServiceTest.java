package dev.flowblend.worker;

import dev.flowblend.runtime.Wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.InferTensorContents;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ModelMetadataRequest;
import dev.flowblend.proto.inference.ModelMetadataResponse;
import dev.flowblend.proto.inference.ServerReadyRequest;
import dev.flowblend.runtime.Tensors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The worker's Open Inference Protocol surface over in-process transport, with the bundled models. */
class InferenceServiceTest {
    private static InProcessWorker worker;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private static Golden golden;

    @BeforeAll
    static void start() throws Exception {
        worker = InProcessWorker.start(WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(4, 0, 16)));
        stub = worker.stub;
        golden = Golden.load("velocity-small");
    }

    @AfterAll
    static void stop() {
        worker.close();
    }

    /** The golden batch-2 velocity request for velocity-small, optionally edited. */
    static ModelInferRequest.Builder velocityRequest() {
        return velocityRequestFrom(golden);
    }

    static ModelInferRequest.Builder velocityRequestFrom(Golden golden) {
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("velocity-small");
        for (String in : List.of("latent", "timestep", "context")) {
            ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(in).setDatatype("FP32");
            for (long d : golden.shape("inputs", in)) {
                t.addShape(d);
            }
            b.addInputs(t).addRawInputContents(ByteString.copyFrom(Tensors.bytes(golden.floats("inputs", in))));
        }
        return b;
    }

    private static StatusRuntimeException refused(UnaryOperator<ModelInferRequest.Builder> edit) {
        return assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(edit.apply(velocityRequest()).build()));
    }

    private static float[] floats(ModelInferResponse r) {
        return Tensors.floats(r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void modelInfer_goldenVelocityRequest_matchesTorchWithin1e4() {
        ModelInferResponse r = stub.modelInfer(velocityRequest().build());
        float[] got = floats(r);
        float[] want = golden.floats("outputs", "velocity");
        assertEquals(want.length, got.length);
        double maxErr = 0;
        for (int i = 0; i < want.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(want[i] - got[i]));
        }
        assertTrue(maxErr < 1e-4, "max |onnxruntime - torch| = " + maxErr);
        assertEquals(java.util.Arrays.stream(golden.shape("outputs", "velocity")).boxed().toList(),
                r.getOutputs(0).getShapeList());
        assertEquals("test-0", r.getParametersMap().get(Wire.WORKER_ID).getStringParam());
    }

    @Test
    void modelInfer_typedContentsInsteadOfRaw_sameOutput() {
        ModelInferRequest raw = velocityRequest().build();
        ModelInferRequest.Builder typed = raw.toBuilder().clearRawInputContents();
        for (int i = 0; i < raw.getInputsCount(); i++) {
            float[] a = Tensors.floats(raw.getRawInputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
            InferTensorContents.Builder c = InferTensorContents.newBuilder();
            for (float v : a) {
                c.addFp32Contents(v);
            }
            typed.setInputs(i, typed.getInputs(i).toBuilder().setContents(c));
        }
        assertEquals(raw.getRawInputContentsCount(), 3);
        org.junit.jupiter.api.Assertions.assertArrayEquals(floats(stub.modelInfer(raw)), floats(stub.modelInfer(typed.build())));
    }

    @Test
    void modelInfer_wrongDatatype_invalidArgumentNamingInputAndExpectedType() {
        StatusRuntimeException e = refused(b -> b.setInputs(0, b.getInputs(0).toBuilder().setDatatype("FP64")));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("input 'latent' has datatype 'FP64'"), e.getMessage());
        assertTrue(e.getStatus().getDescription().contains("expects FP32"), e.getMessage());
    }

    @Test
    void modelInfer_wrongShape_invalidArgumentWithExpectedShape() {
        StatusRuntimeException e = refused(b -> b.setInputs(0, b.getInputs(0).toBuilder().setShape(2, 8)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        long[] latent = golden.shape("inputs", "latent");
        latent[0] = -1;
        String expected = "expects " + java.util.Arrays.toString(latent);
        assertTrue(e.getStatus().getDescription().contains(expected), e.getMessage());
    }

    @Test
    void modelInfer_byteCountMismatch_invalidArgumentWithBothCounts() {
        StatusRuntimeException e = refused(b -> b.setRawInputContents(1, ByteString.copyFrom(new byte[12])));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("input 'timestep' has 12 bytes"), e.getMessage());
        assertTrue(e.getStatus().getDescription().contains("needs 8"), e.getMessage());
    }

    @Test
    void modelInfer_nanInLatent_invalidArgumentNamingElement() {
        float[] lat = golden.floats("inputs", "latent");
        lat[5] = Float.NaN;
        StatusRuntimeException e = refused(b -> b.setRawInputContents(0, ByteString.copyFrom(Tensors.bytes(lat))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("input 'latent' element 5 is NaN"), e.getMessage());
    }

    @Test
    void modelInfer_infiniteTimestep_invalidArgument() {
        StatusRuntimeException e = refused(b -> b.setRawInputContents(1,
                ByteString.copyFrom(Tensors.bytes(new float[] {Float.POSITIVE_INFINITY, 1f}))));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("must be finite"), e.getMessage());
    }

    @Test
    void modelInfer_unknownModel_notFoundListingHostedModels() {
        StatusRuntimeException e = refused(b -> b.setModelName("velocity-huge"));
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("'velocity-huge' is not hosted"), e.getMessage());
        assertTrue(e.getStatus().getDescription().contains("velocity-small"), e.getMessage());
    }

    @Test
    void modelInfer_batchOverMaxBatchSize_invalidArgumentNamingLimit() {
        long[] dims = golden.shape("inputs", "latent");
        dims[0] = 6;
        List<Long> shape = java.util.Arrays.stream(dims).boxed().toList();
        float[] lat = new float[Math.toIntExact(java.util.Arrays.stream(dims).reduce(1, (a, b) -> a * b))];
        StatusRuntimeException e = refused(b -> {
            b.clearInputs().clearRawInputContents();
            b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("latent").setDatatype("FP32")
                    .addAllShape(shape)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(lat)));
            b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("timestep").setDatatype("FP32")
                    .addShape(6)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(new float[6])));
            b.addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("context").setDatatype("FP32")
                    .addAllShape(List.of(6L, 16L, 64L))).addRawInputContents(ByteString.copyFrom(Tensors.bytes(new float[6 * 1024])));
            return b;
        });
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("exceeds max_batch_size 4"), e.getMessage());
    }

    @Test
    void modelInfer_missingInput_invalidArgumentNamingIt() {
        StatusRuntimeException e = refused(b -> {
            ModelInferRequest r = b.build();
            return ModelInferRequest.newBuilder().setModelName(r.getModelName()).addInputs(r.getInputs(0))
                    .addInputs(r.getInputs(2)).addRawInputContents(r.getRawInputContents(0))
                    .addRawInputContents(r.getRawInputContents(2));
        });
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains("missing input 'timestep'"), e.getMessage());
    }

    /** The content id of the golden request's context input: what the orchestrator sends as context_id. */
    static String contextIdOf(ModelInferRequest r) {
        return Wire.contextId(r.getRawInputContents(2).asReadOnlyByteBuffer());
    }

    @Test
    void modelInfer_contextById_cachedAfterFirstSendAndMissWithoutIt() {
        InferParameter id = InferParameter.newBuilder().setStringParam(contextIdOf(velocityRequest().build())).build();
        float[] full = floats(stub.modelInfer(velocityRequest().putParameters("context_id", id).build()));
        ModelInferRequest full2 = velocityRequest().build();
        ModelInferRequest withoutContext = ModelInferRequest.newBuilder().setModelName("velocity-small")
                .putParameters("context_id", id).addInputs(full2.getInputs(0)).addInputs(full2.getInputs(1))
                .addRawInputContents(full2.getRawInputContents(0)).addRawInputContents(full2.getRawInputContents(1)).build();
        org.junit.jupiter.api.Assertions.assertArrayEquals(full, floats(stub.modelInfer(withoutContext)));

        ModelInferRequest unknown = withoutContext.toBuilder().putParameters("context_id",
                InferParameter.newBuilder().setStringParam("ctx-never-sent").build()).build();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(unknown));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals("ctx-never-sent", e.getTrailers().get(InferenceService.CONTEXT_MISS));
    }

    @Test
    void modelMetadata_velocityModel_dynamicBatchAsMinusOne() {
        ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("velocity-small").build());
        assertEquals(List.of("latent", "timestep", "context"), m.getInputsList().stream()
                .map(ModelMetadataResponse.TensorMetadata::getName).toList());
        assertEquals(List.of(-1L, 16L, 64L), m.getInputs(2).getShapeList());
        assertEquals("FP32", m.getOutputs(0).getDatatype());
    }

    @Test
    void health_startedWorker_servingAndReady() {
        HealthCheckResponse h = HealthGrpc.newBlockingStub(worker.channel).check(HealthCheckRequest.newBuilder()
                .setService("inference.GRPCInferenceService").build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, h.getStatus());
        assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    }
}
