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

/** The small role: velocity-small only, for the cheap GPUs that take the middle of the trajectory. */
class SmallWorkerRoleTest {

    @Test
    void load_smallRole_hostsOnlySmallVelocity() throws Exception {
        WorkerConfig c = WorkerRoles.load("small");
        assertEquals(List.of("velocity-small"), c.models());
        String name = InProcessServerBuilder.generateName();
        try (WorkerServer w = new WorkerServer(c.withPort(0), ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name)).start()) {
            ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(ch);
                assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("velocity-small").build()).getReady());
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                        () -> stub.modelReady(ModelReadyRequest.newBuilder().setName("velocity-large").build()));
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
