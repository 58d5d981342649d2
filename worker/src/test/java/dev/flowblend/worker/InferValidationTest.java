package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.InferTensorContents;
import dev.flowblend.proto.inference.ModelInferRequest;
import dev.flowblend.runtime.Tensors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Client mistakes that used to pass as OK or INTERNAL: each is now refused with the field named. */
class InferValidationTest {
    private static InProcessWorker worker;
    private static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    private static ModelInferRequest golden;

    @BeforeAll
    static void start() throws Exception {
        worker = InProcessWorker.start(WorkerRoles.load("test"));
        stub = worker.stub;
        golden = InferenceServiceTest.velocityRequestFrom(Golden.load("velocity-small")).build();
    }

    @AfterAll
    static void stop() {
        worker.close();
    }

    private static Status refused(ModelInferRequest r) {
        return assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(r)).getStatus();
    }

    @Test
    void modelInfer_rawAndTypedContentsMixed_invalidNamingTheInput() {
        ModelInferRequest r = golden.toBuilder().setInputs(1, golden.getInputs(1).toBuilder()
                .setContents(InferTensorContents.newBuilder().addFp32Contents(1f).addFp32Contents(2f))).build();
        Status s = refused(r);
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("input 'timestep' has typed contents while the request uses raw_input_contents; give every "
                + "input one way", s.getDescription());
    }

    @Test
    void modelInfer_fp64ContentsForAnFp32Input_invalidNamingTheField() {
        ModelInferRequest.Builder typed = golden.toBuilder().clearRawInputContents();
        for (int i = 0; i < golden.getInputsCount(); i++) {
            float[] a = Tensors.floats(golden.getRawInputContents(i).asReadOnlyByteBuffer()
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN));
            InferTensorContents.Builder c = InferTensorContents.newBuilder();
            for (float v : a) {
                if (i == 1) {
                    c.addFp64Contents(v);  // the timestep as doubles
                } else {
                    c.addFp32Contents(v);
                }
            }
            typed.setInputs(i, typed.getInputs(i).toBuilder().setContents(c));
        }
        Status s = refused(typed.build());
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("input 'timestep' has 2 fp64_contents; a FP32 input takes fp32_contents only", s.getDescription());
    }

    @Test
    void modelInfer_hugeFiniteLatent_failedPreconditionNamingModelNeverOkWithNaN() {
        float[] huge = new float[golden.getRawInputContents(0).size() / Float.BYTES];
        Arrays.fill(huge, 3e38f);
        ModelInferRequest r = golden.toBuilder().setRawInputContents(0, ByteString.copyFrom(Tensors.bytes(huge))).build();
        Status s = refused(r);
        assertEquals(Status.Code.FAILED_PRECONDITION, s.getCode(), s.getDescription());
        assertTrue(s.getDescription().startsWith("model 'velocity-small' produced output 'velocity' element "),
                s.getDescription());
    }

    @Test
    void modelInfer_unknownRequestedOutput_invalidListingTheOutputs() {
        ModelInferRequest r = golden.toBuilder().addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
                .setName("speed")).build();
        Status s = refused(r);
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode());
        assertEquals("model 'velocity-small' has no output 'speed'; outputs are [velocity]", s.getDescription());
    }
}
