package dev.flowblend.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowblend.runtime.Json;
import dev.flowblend.runtime.ModelFamily;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Server reflection on a worker only when its config asks for it. */
class ReflectionTest {

    @ParameterizedTest(name = "reflection {0}")
    @ValueSource(booleans = {false, true})
    void listServices_reflectionOffByDefault_unimplementedUnlessConfigured(boolean on) throws Exception {
        WorkerConfig base = Json.mapper().readValue("{\"name\": \"w-0\", \"models\": [\"velocity-small\"], \"security\": {\"plaintext\": true}"
                + (on ? ", \"reflection\": true" : "") + "}", WorkerConfig.class);
        assertEquals(on, base.reflection());
        String name = InProcessServerBuilder.generateName();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try (WorkerServer server = new WorkerServer(base, ModelFamily.load(ModelFamily.defaultDirectory()),
                InProcessServerBuilder.forName(name)).start()) {
            CompletableFuture<Object> outcome = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                    .serverReflectionInfo(new StreamObserver<>() {
                        @Override
                        public void onNext(ServerReflectionResponse r) {
                            outcome.complete(r.getListServicesResponse().getServiceList().toString());
                        }

                        @Override
                        public void onError(Throwable t) {
                            outcome.complete(Status.fromThrowable(t).getCode());
                        }

                        @Override
                        public void onCompleted() {
                        }
                    });
            requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
            requests.onCompleted();
            Object got = outcome.get(10, TimeUnit.SECONDS);
            if (on) {
                assertTrue(got.toString().contains("inference.GRPCInferenceService"), got.toString());
            } else {
                assertEquals(Status.Code.UNIMPLEMENTED, got);
            }
        } finally {
            channel.shutdownNow();
        }
    }
}
