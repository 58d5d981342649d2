package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelReadyRequest;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The large role: velocity-large plus the text encoder and decoder, as real deployments keep T5 and the VAE on big GPUs. */
class LargeWorkerRoleTest {

    @Test
    void load_largeRole_hostsLargeVelocityTextEncoderAndDecoder() throws Exception {
        WorkerConfig c = WorkerRoles.load("large");
        assertEquals(List.of("velocity-large", "text-encoder", "decoder"), c.models());
        String name = InProcessServerBuilder.generateName();
        try (WorkerServer w = new WorkerServer(c.withPort(0), ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name)).start()) {
            ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(ch);
                for (String m : c.models()) {
                    assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName(m).build()).getReady(), m);
                }
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> stub.modelReady(ModelReadyRequest.newBuilder().setName("velocity-small").build()));
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
