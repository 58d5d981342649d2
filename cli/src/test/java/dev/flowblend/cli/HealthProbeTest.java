package dev.flowblend.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import org.junit.jupiter.api.Test;

class HealthProbeTest {
    @Test
    void await_notServingThenServing_waitsOutTheBoundThenSeesServing() throws Exception {
        HealthStatusManager health = new HealthStatusManager();
        health.setStatus("svc", ServingStatus.NOT_SERVING);
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).addService(health.getHealthService()).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        try {
            long t0 = System.nanoTime();
            HealthProbe.Seen seen = HealthProbe.await(ch, "svc", 300, 50);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertFalse(seen.serving());
            assertEquals("NOT_SERVING", seen.status());
            assertTrue(ms >= 300 && ms < 5000, "gave up after the 300 ms bound, took " + ms + " ms");

            HealthProbe.Seen unknown = HealthProbe.await(ch, "other", 0, 50);
            assertFalse(unknown.serving());
            assertTrue(unknown.status().startsWith("NOT_FOUND"), unknown.status());

            health.setStatus("svc", ServingStatus.SERVING);
            assertTrue(HealthProbe.await(ch, "svc", 0, 50).serving());
        } finally {
            ch.shutdownNow();
            server.shutdownNow();
        }
    }
}
