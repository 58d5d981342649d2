package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferParameter;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.proto.inference.ServerMetadataRequest;
import dev.flowblend.runtime.Guidance;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.Wire;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Guidance on the worker: the latent sent once, one guided velocity back, bitwise what the orchestrator computes. */
class WorkerGuidanceTest {
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

    private static ModelInferRequest.Builder request(float[] latent, float[] t, float[] context, int samples,
                                                     int contexts) {
        long[] ls = golden.shape("inputs", "latent");
        long[] cs = golden.shape("inputs", "context");
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("velocity-small");
        b.addInputs(tensor("latent", samples, ls)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(latent)));
        b.addInputs(tensor("timestep", samples, new long[] {-1})).addRawInputContents(ByteString.copyFrom(Tensors.bytes(t)));
        b.addInputs(tensor("context", contexts, cs)).addRawInputContents(ByteString.copyFrom(Tensors.bytes(context)));
        return b;
    }

    private static ModelInferRequest.InferInputTensor tensor(String name, int batch, long[] shape) {
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder().setName(name)
                .setDatatype("FP32").addShape(batch);
        for (int d = 1; d < shape.length; d++) {
            t.addShape(shape[d]);
        }
        return t.build();
    }

    private static float[] floats(ModelInferResponse r) {
        return Tensors.floats(r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static InferParameter g(double v) {
        return InferParameter.newBuilder().setDoubleParam(v).build();
    }

    @Test
    void guidedRequest_latentOnce_equalsBothBranchesCombinedBitwise() {
        float[] latents = golden.floats("inputs", "latent");
        int n = latents.length / 2;
        float[] x = Arrays.copyOf(latents, n);
        float[] t = {golden.floats("inputs", "timestep")[0]};
        float[] ctx = golden.floats("inputs", "context");  // [cond, uncond]
        float[] xx = new float[2 * n];
        System.arraycopy(x, 0, xx, 0, n);
        System.arraycopy(x, 0, xx, n, n);
        float[] both = floats(stub.modelInfer(request(xx, new float[] {t[0], t[0]}, ctx, 2, 2).build()));
        float[] expected = Guidance.combine(both, 1, n, 4.5f);

        ModelInferResponse r = stub.modelInfer(request(x, t, ctx, 1, 2)
                .putParameters(Wire.GUIDANCE_SCALE, g(4.5)).build());
        assertEquals(List.of(1L), r.getOutputs(0).getShapeList().subList(0, 1));
        assertEquals(4 * n, r.getRawOutputContents(0).size());  // half the answer of the pair
        assertArrayEquals(expected, floats(r));
    }

    @Test
    void guidedRequest_badShapesAndParameters_invalidArgumentNamingThem() {
        float[] latents = golden.floats("inputs", "latent");
        int n = latents.length / 2;
        float[] ctx = golden.floats("inputs", "context");
        float[] x = Arrays.copyOf(latents, n);
        StatusRuntimeException odd = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                request(x, new float[] {1f}, Arrays.copyOf(ctx, ctx.length / 2), 1, 1)
                        .putParameters(Wire.GUIDANCE_SCALE, g(4)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, odd.getStatus().getCode());
        assertTrue(odd.getStatus().getDescription().contains("even"), odd.getStatus().getDescription());

        StatusRuntimeException type = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                request(x, new float[] {1f}, ctx, 1, 2).putParameters(Wire.GUIDANCE_SCALE,
                        InferParameter.newBuilder().setStringParam("4").build()).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, type.getStatus().getCode());
        assertTrue(type.getStatus().getDescription().contains("double_param 0 to 100"), type.getStatus().getDescription());

        StatusRuntimeException range = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                request(x, new float[] {1f}, ctx, 1, 2).putParameters(Wire.GUIDANCE_SCALE, g(Double.NaN)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, range.getStatus().getCode());
    }

    @Test
    void serverMetadata_advertisesGuidance() {
        assertTrue(stub.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList()
                .contains(Wire.GUIDANCE_EXTENSION));
    }

    @Test
    void applyGuidanceFalse_notAdvertised_guidanceScaleRefused_bothBranchesServed() throws Exception {
        String name = InProcessServerBuilder.generateName();
        WorkerConfig config = WorkerRoles.load("test").withBatching(new WorkerConfig.Batching(4, 0, 16))
                .withApplyGuidance(false);
        try (WorkerServer off = new WorkerServer(config, ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name)).start()) {
            ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
            try {
                var s = GRPCInferenceServiceGrpc.newBlockingStub(ch);
                List<String> extensions = s.serverMetadata(ServerMetadataRequest.getDefaultInstance()).getExtensionsList();
                assertTrue(!extensions.contains(Wire.GUIDANCE_EXTENSION) && extensions.contains(Wire.CONTEXT_CACHE_EXTENSION),
                        extensions.toString());
                float[] latents = golden.floats("inputs", "latent");
                float[] ctx = golden.floats("inputs", "context");
                float t = golden.floats("inputs", "timestep")[0];
                StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> s.modelInfer(
                        request(Arrays.copyOf(latents, latents.length / 2), new float[] {t}, ctx, 1, 2)
                                .putParameters(Wire.GUIDANCE_SCALE, g(4)).build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, refused.getStatus().getCode());
                assertTrue(refused.getStatus().getDescription().contains("apply_guidance is false"),
                        refused.getStatus().getDescription());
                // the both-branches form is served as by any worker
                assertArrayEquals(floats(stub.modelInfer(request(latents, new float[] {t, t}, ctx, 2, 2).build())),
                        floats(s.modelInfer(request(latents, new float[] {t, t}, ctx, 2, 2).build())));
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void applyGuidance_configKey_defaultsToTrue() {
        assertTrue(WorkerRoles.load("test").applyGuidance());
    }
}
