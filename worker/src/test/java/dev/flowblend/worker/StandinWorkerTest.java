package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.proto.inference.ModelInferResponse;
import dev.flowblend.runtime.DType;
import dev.flowblend.runtime.ModelEntry;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.runtime.OnnxModel;
import dev.flowblend.runtime.RuntimeOptions;
import dev.flowblend.runtime.StandinFamily;
import dev.flowblend.runtime.TensorSpec;
import dev.flowblend.runtime.Tensors;
import dev.flowblend.runtime.VideoSize;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A worker serving the generated WAN-shaped stand-in (BF16 on the wire, two video sizes, velocity
 * weights in external data files, no evaluator in the family): each size's request is answered
 * with that size's shape, bitwise what the model gives in-process.
 */
class StandinWorkerTest {
    private static final List<String> MODELS = List.of("velocity-large", "velocity-small", "decoder");
    private static ModelFamily family;
    private static WorkerServer server;
    private static ManagedChannel channel;

    @BeforeAll
    static void start() throws Exception {
        family = StandinFamily.get(DType.BF16);
        WorkerConfig c = new WorkerConfig("standin-0", "large", null, 0, null, MODELS, RuntimeOptions.cpu(1), null, null,
                0, 0, 0, null, null, WorkerConfig.Security.PLAINTEXT);
        String name = "standin-worker-" + System.nanoTime();
        server = new WorkerServer(c, family, InProcessServerBuilder.forName(name)).start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.close();
    }

    @Test
    void modelInfer_everyModelAtEverySize_declaredShapeAndDatatypeBitwiseAsInProcess() throws Exception {
        var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        for (String model : MODELS) {
            ModelEntry e = family.byName(model).orElseThrow();
            try (OnnxModel direct = OnnxModel.load(family, e, RuntimeOptions.cpu(1))) {
                for (VideoSize size : family.conventions().videoSizes()) {
                    List<long[]> shapes = new ArrayList<>();
                    List<byte[]> data = new ArrayList<>();
                    ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model);
                    Random r = new Random(size.name().hashCode());
                    for (TensorSpec t : e.inputs()) {
                        long[] s = t.withBatch(1, size.binding());
                        float[] v = new float[Math.toIntExact(Arrays.stream(s).reduce(1, Math::multiplyExact))];
                        for (int i = 0; i < v.length; i++) {
                            v[i] = t.name().equals("timestep") ? 640f : (float) r.nextGaussian();
                        }
                        shapes.add(s);
                        data.add(Tensors.bytes(v, t.dtype()));
                        ModelInferRequest.InferInputTensor.Builder in = ModelInferRequest.InferInputTensor.newBuilder()
                                .setName(t.name()).setDatatype(t.dtype().wireName());
                        Arrays.stream(s).forEach(in::addShape);
                        b.addInputs(in).addRawInputContents(ByteString.copyFrom(data.get(data.size() - 1)));
                    }
                    ModelInferResponse resp = stub.modelInfer(b.build());
                    TensorSpec out = e.outputs().get(0);
                    String what = model + " at " + size.describe();
                    assertEquals(out.dtype().wireName(), resp.getOutputs(0).getDatatype(), what);
                    assertEquals(Arrays.stream(out.withBatch(1, size.binding())).boxed().toList(),
                            resp.getOutputs(0).getShapeList(), what);
                    List<ByteBuffer> in = new ArrayList<>();
                    for (byte[] d : data) {
                        in.add(ByteBuffer.allocateDirect(d.length).put(d).flip());
                    }
                    ByteBuffer expected = direct.run(in, shapes).get(0);
                    byte[] want = new byte[expected.remaining()];
                    expected.get(want);
                    assertArrayEquals(want, resp.getRawOutputContents(0).toByteArray(), what);
                }
            }
        }
    }
}
