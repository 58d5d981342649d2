package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.proto.inference.GRPCInferenceServiceGrpc;
import dev.flowblend.proto.inference.ModelReadyRequest;
import dev.flowblend.runtime.ModelFamily;
import dev.flowblend.worker.WorkerConfig;
import dev.flowblend.worker.WorkerRoles;
import dev.flowblend.worker.WorkerServer;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The roles the large-worker and small-worker modules ship: large hosts velocity-large plus the
 * text encoder and decoder (real deployments keep T5 and the VAE on the big GPUs), small hosts
 * velocity-small only.
 */
class WorkerRolesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"large, velocity-large text-encoder decoder, velocity-small",
            "small, velocity-small, velocity-large"})
    void load_role_hostsItsModelsAndNotTheOthers(String role, String hosted, String absent) throws Exception {
        WorkerConfig c = WorkerRoles.load(role);
        assertEquals(List.of(hosted.split(" ")), c.models());
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
                        () -> stub.modelReady(ModelReadyRequest.newBuilder().setName(absent).build()));
                assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"medium"})
    void load_unknownRole_errorNamesRoleAndWhereRolesShip(String role) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerRoles.load(role));
        assertTrue(e.getMessage().contains("no worker role 'medium'"), e.getMessage());
    }
}
